// The WebSocket side of the control API: authentication, streams, commands and the legacy shape.
#include <catch2/catch.hpp>

#include <caf/send.hpp>

#include <chrono>
#include <string>

#include "actors/log.hpp"
#include "test/control/fixture.hpp"

using namespace cb::test;
using namespace std::chrono_literals;

namespace {

std::string auth_message(std::string_view token) {
  return R"({"type":"auth","token":")" + std::string(token) + "\"}";
}

void publish(fixture& f, std::string uuid, std::string kind, std::string text, std::int64_t id) {
  caf::anon_send(
      f.api.actor,
      cb::call_update{std::move(uuid), {std::move(kind), std::move(text), id}, 1795543200123});
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("WebSocket clients authenticate with the Authorization header", "[control]") {
  fixture f;
  auto ws = f.websocket();
  REQUIRE(ws->handshake_status() == 101);
  ws->send_text(R"({"type":"subscribe","streams":["events"]})");
  CHECK(ws->next() == R"({"type":"subscribed","streams":["events"],"level":"info","call":""})");
}

TEST_CASE("WebSocket clients may authenticate with their first message", "[control]") {
  fixture f;
  SECTION("an auth message") {
    ws_client ws(f.port());
    REQUIRE(ws.handshake_status() == 101);
    ws.send_text(auth_message(api_token));
    CHECK(ws.next() == R"({"type":"auth","ok":true})");
    ws.send_text(R"({"type":"request","id":1,"method":"GET","path":"/healthz"})");
    CHECK(ws.next_containing("\"type\":\"response\"").has_value());
  }
  SECTION("a token on the first command") {
    ws_client ws(f.port());
    ws.send_text(
        R"({"type":"request","id":"a","method":"DELETE","path":"/api/calls/c1","token":")" +
        std::string(api_token) + "\"}");
    CHECK(ws.next() ==
          R"({"type":"response","id":"a","status":200,"body":{"uuid":"c1","ended":true}})");
  }
  SECTION("a wrong token is refused and the socket closed") {
    ws_client ws(f.port());
    ws.send_text(auth_message("guess"));
    CHECK(
        ws.next() ==
        R"({"type":"error","status":403,"error":"forbidden","message":"the token is not valid"})");
    const auto closed = ws.wait_close();
    REQUIRE(closed.has_value());
    CHECK(closed->code == 1008);
    CHECK(closed->reason == "forbidden");
  }
  SECTION("anything but a token first is refused") {
    ws_client ws(f.port());
    ws.send_text(R"({"type":"subscribe","streams":["logs"]})");
    const auto error = ws.next();
    REQUIRE(error.has_value());
    CHECK(json_at(*error, {"status"}) == "401");
    CHECK(json_at(*error, {"error"}) == "\"unauthorized\"");
    CHECK(ws.wait_close()->code == 1008);
  }
  SECTION("a wrong header token is refused at once") {
    ws_client ws(f.port(), {{"Authorization", "Bearer guess"}});
    CHECK(json_at(ws.next().value_or(""), {"status"}) == "403");
    CHECK(ws.wait_close()->code == 1008);
  }
}

TEST_CASE("a WebSocket client that never authenticates is closed after the timeout", "[control]") {
  fixture f;
  ws_client ws(f.port());
  REQUIRE(ws.handshake_status() == 101);
  const auto closed = ws.wait_close(cb::ws_auth_timeout + 3s);
  REQUIRE(closed.has_value());
  CHECK(closed->code == 1008);
  CHECK(ws.received().size() == 1);
  CHECK(ws.received().front().find("\"status\":401") != std::string::npos);
}

TEST_CASE("WebSocket upgrades elsewhere than /ws and / are refused", "[control]") {
  fixture f;
  ws_client elsewhere(f.port(), f.auth(), false, "/api/calls");
  CHECK(elsewhere.handshake_status() != 101);
  ws_client root(f.port(), f.auth(), false, "/");
  CHECK(root.handshake_status() == 101);
}

TEST_CASE("the logs stream follows the subscriber's level and call", "[control]") {
  fixture f;
  auto all = f.websocket();
  all->send_text(R"({"type":"subscribe","streams":["logs"],"level":"warn"})");
  REQUIRE(all->next_containing("subscribed").has_value());
  auto one_call = f.websocket();
  one_call->send_text(R"({"type":"subscribe","streams":["logs"],"level":"debug","call":"c7"})");
  REQUIRE(one_call->next_containing("subscribed").has_value());

  cb::log::info("test", "c7", "info line");
  cb::log::warn("test", "c8", "warn line {}", 1);
  cb::log::debug("test", "c7", "debug line for c7");

  const auto warn = all->next_containing("warn line");
  REQUIRE(warn.has_value());
  CHECK(json_at(*warn, {"type"}) == "\"log\"");
  CHECK(json_at(*warn, {"level"}) == "\"warn\"");
  CHECK(json_at(*warn, {"component"}) == "\"test\"");
  CHECK(json_at(*warn, {"call"}) == "\"c8\"");
  CHECK(json_at(*warn, {"msg"}) == "\"warn line 1\"");
  CHECK(json_keys(*warn, {}) ==
        std::vector<std::string>{"type", "ts", "level", "component", "call", "msg"});

  const auto first = one_call->next_containing("\"type\":\"log\"");
  REQUIRE(first.has_value());
  CHECK(json_at(*first, {"msg"}) == "\"info line\"");
  const auto second = one_call->next_containing("\"type\":\"log\"");
  REQUIRE(second.has_value());
  CHECK(json_at(*second, {"msg"}) == "\"debug line for c7\"");

  for (const auto& message : all->received())
    CHECK(message.find("info line") == std::string::npos);
}

TEST_CASE("call events and transcripts go to their own streams", "[control]") {
  fixture f;
  auto transcripts = f.websocket();
  transcripts->send_text(R"({"type":"subscribe","streams":["transcripts"]})");
  REQUIRE(transcripts->next_containing("subscribed").has_value());
  auto events = f.websocket();
  events->send_text(R"({"type":"subscribe","streams":["events"]})");
  REQUIRE(events->next_containing("subscribed").has_value());
  auto only_c2 = f.websocket();
  only_c2->send_text(R"({"type":"subscribe","streams":["transcripts","events"],"call":"c2"})");
  CHECK(only_c2->next() ==
        R"({"type":"subscribed","streams":["events","transcripts"],"level":"info","call":"c2"})");

  publish(f, "c1", "user_transcript", "hello there", 3);
  publish(f, "c1", "call_ended", "caller hung up", 0);
  publish(f, "c1", "interruption", "", 4);
  publish(f, "c2", "agent_response", "welcome", 1);

  CHECK(
      transcripts->next() ==
      R"({"type":"transcript","call":"c1","kind":"user_transcript","text":"hello there","event_id":3,"ts":1795543200123})");
  CHECK(
      transcripts->next() ==
      R"({"type":"transcript","call":"c1","kind":"interruption","text":"","event_id":4,"ts":1795543200123})");
  CHECK(json_at(transcripts->next().value_or(""), {"call"}) == "\"c2\"");
  CHECK(
      events->next() ==
      R"({"type":"event","call":"c1","kind":"call_ended","text":"caller hung up","event_id":0,"ts":1795543200123})");
  CHECK(json_at(only_c2->next().value_or(""), {"text"}) == "\"welcome\"");

  transcripts->send_text(R"({"type":"unsubscribe","streams":["transcripts"]})");
  CHECK(transcripts->next() == R"({"type":"subscribed","streams":[],"level":"info","call":""})");
  publish(f, "c1", "agent_response", "not for you", 5);
  publish(f, "c1", "dtmf", "5", 0);
  CHECK(json_at(events->next().value_or(""), {"kind"}) == "\"dtmf\"");
  transcripts->send_text(R"({"type":"request","id":0,"method":"GET","path":"/healthz"})");
  CHECK(json_at(transcripts->next().value_or(""), {"type"}) == "\"response\"");
}

TEST_CASE("the metrics stream sends a snapshot each second", "[control]") {
  fixture f;
  auto ws = f.websocket();
  ws->send_text(R"({"type":"subscribe","streams":["metrics"]})");
  REQUIRE(ws->next_containing("subscribed").has_value());
  const auto first = ws->next(3s);
  REQUIRE(first.has_value());
  CHECK(json_keys(*first, {}) == std::vector<std::string>{"type", "ts", "data"});
  CHECK(json_at(*first, {"type"}) == "\"metrics\"");
  CHECK(json_at(*first, {"data"}) == R"({"calls_active":2})");
  CHECK(ws->next(3s).has_value());
}

TEST_CASE("WebSocket clients send the HTTP API's commands", "[control]") {
  fixture f;
  auto ws = f.websocket();
  ws->send_text(R"({"type":"request","id":1,"method":"GET","path":"/api/calls"})");
  const auto list = ws->next();
  REQUIRE(list.has_value());
  CHECK(json_keys(*list, {}) == std::vector<std::string>{"type", "id", "status", "body"});
  CHECK(json_at(*list, {"id"}) == "1");
  CHECK(json_at(*list, {"status"}) == "200");
  CHECK(json_at(*list, {"body", "calls", 0, "uuid"}) == "\"c1\"");

  ws->send_text(
      R"({"type":"request","id":{"n":2},"method":"post","path":"/api/calls","body":{"agent_id":"agent_ws"}})");
  const auto prepared = ws->next();
  CHECK(json_at(prepared.value_or(""), {"id"}) == R"({"n":2})");
  CHECK(json_at(prepared.value_or(""), {"status"}) == "201");
  f.record->with([](recorded& r) { CHECK(r.prepared.at(0).first.agent_id == "agent_ws"); });

  ws->send_text(R"({"type":"request","id":3,"method":"GET","path":"/api/history?agent=a%20b"})");
  CHECK(json_at(ws->next().value_or(""), {"status"}) == "200");
  f.record->with([](recorded& r) { CHECK(r.history_queries.at(0).agent_id == "a b"); });

  ws->send_text(R"({"type":"request","id":4,"method":"GET","path":"/metrics"})");
  CHECK(json_at(ws->next().value_or(""), {"body"}) ==
        R"("# TYPE callbridge_calls_active gauge\ncallbridge_calls_active 2\n")");

  ws->send_text(
      R"({"type":"request","id":5,"method":"POST","path":"/api/calls/c1/message","body":{"type":"yell","text":"x"}})");
  const auto bad = ws->next();
  CHECK(json_at(bad.value_or(""), {"status"}) == "400");
  CHECK(json_at(bad.value_or(""), {"body", "field"}) == "\"type\"");

  ws->send_text(R"({"type":"request","id":6,"method":"GET","path":"api"})");
  CHECK(json_at(ws->next().value_or(""), {"body", "field"}) == "\"path\"");
}

TEST_CASE("WebSocket clients are told what is wrong with a message", "[control]") {
  fixture f;
  auto ws = f.websocket();
  ws->send_text("not json");
  const auto malformed = ws->next();
  CHECK(json_at(malformed.value_or(""), {"type"}) == "\"error\"");
  CHECK(json_at(malformed.value_or(""), {"status"}) == "400");
  CHECK(malformed.value_or("").find("malformed JSON") != std::string::npos);
  ws->send_text(R"({"type":"dance"})");
  CHECK(
      ws->next() ==
      R"({"type":"error","status":400,"error":"bad_request","message":"type: unknown message type 'dance'","field":"type"})");
  ws->send_text(R"({"type":"subscribe","streams":["logs"],"level":"loud"})");
  CHECK(json_at(ws->next().value_or(""), {"field"}) == "\"level\"");
  ws->send_text(R"({"type":"auth","token":"anything"})");
  CHECK(ws->next() == R"({"type":"auth","ok":true})");
}

TEST_CASE("WebSocket messages over the size limit or binary close the socket", "[control]") {
  fixture f;  // max_body 4096
  SECTION("too large") {
    auto ws = f.websocket();
    ws->send_text(std::string(5000, ' '));
    const auto closed = ws->wait_close();
    REQUIRE(closed.has_value());
    CHECK(closed->code == 1009);
    CHECK(closed->reason == "message exceeds 4096 bytes");
  }
  SECTION("binary") {
    auto ws = f.websocket();
    ws->send_binary("\x01\x02");
    CHECK(ws->wait_close()->code == 1003);
  }
}

TEST_CASE("legacy clients ping with {action, requestId}", "[control]") {
  fixture f;
  auto ws = f.websocket();
  ws->send_text(R"({"action":"ping","requestId":"r1"})");
  const auto pong = ws->next();
  REQUIRE(pong.has_value());
  CHECK(json_keys(*pong, {}) ==
        std::vector<std::string>{"type", "status", "message", "timestamp", "requestId"});
  CHECK(json_at(*pong, {"type"}) == "\"status\"");
  CHECK(json_at(*pong, {"status"}) == "\"success\"");
  CHECK(json_at(*pong, {"message"}) == "\"pong\"");
  CHECK(json_at(*pong, {"requestId"}) == "\"r1\"");
  const auto stamp = json_at(*pong, {"timestamp"});
  REQUIRE(stamp.size() == 26);  // "YYYY-MM-DDTHH:MM:SS.mmmZ" with its quotes
  const auto ms = cb::api::parse_timestamp(stamp.substr(1, 24));
  REQUIRE(ms.has_value());
  CHECK(std::abs(*ms - now_ms()) < 60000);

  ws->send_text(R"({"action":"ping","requestId":42})");
  CHECK(json_at(ws->next().value_or(""), {"requestId"}) == "42");
  ws->send_text(R"({"action":"dance","requestId":"r3"})");
  const auto unknown = ws->next();
  CHECK(json_at(unknown.value_or(""), {"status"}) == "\"error\"");
  CHECK(json_at(unknown.value_or(""), {"message"}) == "\"unknown action 'dance'\"");
  CHECK(json_at(unknown.value_or(""), {"requestId"}) == "\"r3\"");
}

TEST_CASE("legacy clients start outbound AI calls with start_call", "[control]") {
  fixture f;
  auto ws = f.websocket();
  ws->send_text(
      R"({"action":"start_call","requestId":7,"params":{"channel":"5551234","agent_id":"agent_3","params":{"prompt":"Sell","first_message":"Hi","language":"en"}}})");
  const auto started = ws->next();
  REQUIRE(started.has_value());
  CHECK(json_keys(*started, {}) ==
        std::vector<std::string>{"type", "status", "message", "timestamp", "requestId", "callId"});
  CHECK(json_at(*started, {"status"}) == "\"success\"");
  CHECK(json_at(*started, {"message"}) == "\"call started\"");
  CHECK(json_at(*started, {"requestId"}) == "7");
  CHECK(json_at(*started, {"callId"}) == "\"o-1\"");
  f.record->with([](recorded& r) {
    const auto& request = r.originated.at(0);
    CHECK(request.number == "5551234");
    CHECK(request.context.agent_id == "agent_3");
    CHECK(request.context.overrides->text() ==
          R"({"agent":{"prompt":{"prompt":"Sell"},"first_message":"Hi","language":"en"}})");
  });

  ws->send_text(R"({"action":"start_call","requestId":"r8","params":{"agent_id":"a"}})");
  const auto missing = ws->next();
  CHECK(json_at(missing.value_or(""), {"status"}) == "\"error\"");
  CHECK(json_at(missing.value_or(""), {"message"}) == "\"channel: required: the number to call\"");
  CHECK(json_at(missing.value_or(""), {"requestId"}) == "\"r8\"");

  ws->send_text(R"({"action":"start_call","requestId":"r9","params":{"channel":"down"}})");
  const auto down = ws->next();
  CHECK(json_at(down.value_or(""), {"message"}) == "\"AMI link is down\"");

  ws->send_text(R"({"action":"start_call","requestId":"r10","params":[]})");
  const auto malformed = ws->next();
  CHECK(json_at(malformed.value_or(""), {"status"}) == "\"error\"");
  CHECK(json_at(malformed.value_or(""), {"requestId"}) == "\"r10\"");
}

TEST_CASE("legacy clients without a token get a legacy refusal", "[control]") {
  fixture f;
  ws_client ws(f.port());
  ws.send_text(R"({"action":"ping","requestId":"r1"})");
  const auto refused = ws.next();
  CHECK(json_at(refused.value_or(""), {"type"}) == "\"status\"");
  CHECK(json_at(refused.value_or(""), {"status"}) == "\"error\"");
  CHECK(json_at(refused.value_or(""), {"requestId"}) == "\"r1\"");
  CHECK(ws.wait_close()->code == 1008);
  ws_client with_token(f.port());
  with_token.send_text(R"({"action":"ping","requestId":"r2","token":")" + std::string(api_token) +
                       "\"}");
  CHECK(json_at(with_token.next().value_or(""), {"message"}) == "\"pong\"");
}
