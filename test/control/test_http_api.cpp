// The HTTP side of the control API over loopback sockets, against fake services.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <variant>

#include "protocol/elevenlabs_webhook.hpp"
#include "test/control/fixture.hpp"

using namespace cb::test;
using cb::api::error_body;

namespace {

std::string hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += digits[b >> 4U];
    out += digits[b & 0xFU];
  }
  return out;
}

std::string sign(const std::string& body, std::int64_t t) {
  const auto ts = std::to_string(t);
  return "t=" + ts + ",v0=" + hex(cb::elevenlabs::hmac_sha256(webhook_secret, ts + "." + body));
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const headers form = {{"Content-Type", "application/x-www-form-urlencoded"}};

}  // namespace

TEST_CASE("control API answers health and readiness without a token", "[control]") {
  fixture f;
  const auto health = http(f.port(), "GET", "/healthz");
  CHECK(health.status == 200);
  CHECK(health.headers.at("content-type") == "application/json");
  CHECK(json_at(health.body, {"status"}) == "\"ok\"");
  CHECK(json_keys(health.body, {}) == std::vector<std::string>{"status", "uptime_ms"});

  const auto ready = http(f.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(json_at(ready.body, {"ready"}) == "true");
  CHECK(json_keys(ready.body, {"checks"}) ==
        std::vector<std::string>{"audiosocket", "ami", "ports", "memory"});
  CHECK(json_at(ready.body, {"checks", "audiosocket", "ports"}) == "[5050]");
  CHECK(json_at(ready.body, {"checks", "ami", "state"}) == "\"connected\"");
  CHECK(json_at(ready.body, {"checks", "ports", "pool_free"}) == "7");
  CHECK(json_at(ready.body, {"checks", "ports", "pool_total"}) == "8");
  CHECK(json_at(ready.body, {"checks", "memory", "ok"}) == "true");
}

TEST_CASE("control API is not ready while AMI is down or no AudioSocket port listens",
          "[control]") {
  SECTION("AMI disconnected") {
    fixture_options options;
    options.ami_state = cb::ami_link_state::disconnected;
    fixture f(options);
    const auto ready = http(f.port(), "GET", "/readyz");
    CHECK(ready.status == 503);
    CHECK(json_at(ready.body, {"ready"}) == "false");
    CHECK(json_at(ready.body, {"checks", "ami", "ok"}) == "false");
    CHECK(json_at(ready.body, {"checks", "ami", "state"}) == "\"disconnected\"");
  }
  SECTION("AMI disabled counts as ready") {
    fixture_options options;
    options.with_ami = false;
    fixture f(options);
    const auto ready = http(f.port(), "GET", "/readyz");
    CHECK(ready.status == 200);
    CHECK(json_at(ready.body, {"checks", "ami", "state"}) == "\"disabled\"");
  }
  SECTION("no AudioSocket listener") {
    fixture_options options;
    options.audiosocket_ports.clear();
    fixture f(options);
    const auto ready = http(f.port(), "GET", "/readyz");
    CHECK(ready.status == 503);
    CHECK(json_at(ready.body, {"checks", "audiosocket", "ok"}) == "false");
  }
}

TEST_CASE("control API refuses a missing or wrong bearer token", "[control]") {
  fixture f;
  const std::pair<const char*, const char*> protected_routes[] = {
      {"GET", "/api/calls"},
      {"POST", "/api/calls"},
      {"GET", "/api/calls/c1"},
      {"DELETE", "/api/calls/c1"},
      {"POST", "/api/calls/originate"},
      {"POST", "/api/calls/c1/transfer"},
      {"POST", "/api/calls/c1/message"},
      {"POST", "/api/calls/PJSIP%2F1/redirect"},
      {"GET", "/api/history"},
      {"GET", "/api/history/c1"},
      {"GET", "/api/status"},
      {"GET", "/metrics"},
      {"GET", "/api/nothing"},
  };
  for (const auto& [method, path] : protected_routes) {
    INFO(method << " " << path);
    const auto missing = http(f.port(), method, path, "{}");
    CHECK(missing.status == 401);
    CHECK(missing.headers.at("www-authenticate") == "Bearer realm=\"callbridge\"");
    CHECK(json_at(missing.body, {"error"}) == "\"unauthorized\"");
    const auto wrong = http(f.port(), method, path, "{}", {{"Authorization", "Bearer nope"}});
    CHECK(wrong.status == 403);
    CHECK(wrong.body == error_body("forbidden", "the token is not valid"));
    const auto basic = http(f.port(), method, path, "{}", {{"Authorization", "Basic dG9rZW4="}});
    CHECK(basic.status == 401);
  }
  CHECK(http(f.port(), "GET", "/api/calls", {}, f.auth()).status == 200);
}

TEST_CASE("control API without API_TOKEN needs no token", "[control]") {
  fixture_options options;
  options.with_token = false;
  fixture f(options);
  CHECK(http(f.port(), "GET", "/api/calls").status == 200);
}

TEST_CASE("control API lists live calls with their figures", "[control]") {
  fixture f;
  const auto calls = f.call("GET", "/api/calls");
  REQUIRE(calls.status == 200);
  // Oldest first: the fake registry answers c2 (started later) first.
  CHECK(json_at(calls.body, {"calls", 0, "uuid"}) == "\"c1\"");
  CHECK(json_at(calls.body, {"calls", 1, "uuid"}) == "\"c2\"");
  CHECK(json_keys(calls.body, {"calls", 0}) ==
        std::vector<std::string>{"uuid", "agent_id", "conversation_id", "state", "source",
                                 "listen_port", "started_unix_ms", "duration_ms", "first_word_ms",
                                 "frames_in", "frames_out", "late_frames", "underruns",
                                 "caller_level_dbfs", "agent_level_dbfs", "channel", "caller_id",
                                 "called_number", "transfer_target"});
  CHECK(json_at(calls.body, {"calls", 0, "state"}) == "\"active\"");
  CHECK(json_at(calls.body, {"calls", 0, "source"}) == "\"prepared\"");
  CHECK(json_at(calls.body, {"calls", 0, "first_word_ms"}) == "640");
  CHECK(json_at(calls.body, {"calls", 0, "caller_level_dbfs"}) == "-20.5");
  CHECK(json_at(calls.body, {"calls", 0, "agent_level_dbfs"}) == "-18");
  CHECK(json_at(calls.body, {"calls", 0, "channel"}) == "\"PJSIP/100-0001\"");
}

TEST_CASE("control API shows one call with its events, or 404", "[control]") {
  fixture f;
  const auto call = f.call("GET", "/api/calls/c1");
  REQUIRE(call.status == 200);
  CHECK(json_at(call.body, {"uuid"}) == "\"c1\"");
  CHECK(json_at(call.body, {"events", 0}) ==
        R"({"kind":"user_transcript","text":"hello","event_id":1})");
  const auto missing = f.call("GET", "/api/calls/zz");
  CHECK(missing.status == 404);
  CHECK(missing.body == error_body("unknown_call", "no live call zz"));
}

TEST_CASE("control API prepares a call from a JSON body", "[control]") {
  fixture f;
  const auto answer = f.call(
      "POST", "/api/calls",
      R"({"agent_id":"agent_9","dynamic_variables":{"lead_id":42,"name":"Ana"},"first_message":"Hola"})");
  REQUIRE(answer.status == 201);
  CHECK(answer.body ==
        R"({"uuid":"p-1","host":"127.0.0.1","port":5050,"address":"127.0.0.1:5050"})");
  f.record->with([](recorded& r) {
    REQUIRE(r.prepared.size() == 1);
    const auto& [context, pool] = r.prepared[0];
    CHECK(context.agent_id == "agent_9");
    CHECK(context.dynamic_variables.at("lead_id") ==
          cb::elevenlabs::dynamic_variable{std::int64_t{42}});
    CHECK(context.dynamic_variables.at("name") ==
          cb::elevenlabs::dynamic_variable{std::string("Ana")});
    REQUIRE(context.overrides.has_value());
    CHECK(context.overrides->text() == R"({"agent":{"first_message":"Hola"}})");
    CHECK_FALSE(pool);
  });
  const auto pool = f.call("POST", "/api/calls", R"({"pool_port":true})");
  CHECK(json_at(pool.body, {"port"}) == "5052");
}

TEST_CASE("control API prepares pool-port calls by default without a shared port", "[control]") {
  fixture_options options;
  options.shared_port = false;
  fixture f(options);
  const auto answer = f.call("POST", "/api/calls", "");
  REQUIRE(answer.status == 201);
  CHECK(json_at(answer.body, {"address"}) == "\"127.0.0.1:5052\"");
  f.record->with([](recorded& r) { CHECK(r.prepared.at(0).second); });
}

TEST_CASE("control API accepts form-encoded bodies", "[control]") {
  fixture f;
  const auto answer = f.call("POST", "/api/calls",
                             "agent_id=agent_5&dynamic_variables%5Bcampaign%5D=spring+sale"
                             "&language=es&pool_port=false",
                             form);
  REQUIRE(answer.status == 201);
  f.record->with([](recorded& r) {
    const auto& context = r.prepared.at(0).first;
    CHECK(context.agent_id == "agent_5");
    CHECK(context.dynamic_variables.at("campaign") ==
          cb::elevenlabs::dynamic_variable{std::string("spring sale")});
    CHECK(context.overrides->text() == R"({"agent":{"language":"es"}})");
  });
  const auto message =
      f.call("POST", "/api/calls/c1/message", "type=user_message&text=hi+there", form);
  CHECK(message.status == 202);
  f.record->with([](recorded& r) {
    CHECK(r.said.at(0) ==
          std::make_tuple(std::string("c1"), std::string("user_message"), std::string("hi there")));
  });
}

TEST_CASE("control API answers bad JSON with 400 naming the problem", "[control]") {
  fixture f;
  const auto malformed = f.call("POST", "/api/calls", R"({"agent_id": "a" "x"})");
  CHECK(malformed.status == 400);
  CHECK(json_at(malformed.body, {"error"}) == "\"bad_request\"");
  CHECK(malformed.body.find("malformed JSON") != std::string::npos);
  CHECK(malformed.body.find("offset 17") != std::string::npos);

  const auto wrong_type = f.call("POST", "/api/calls", R"({"agent_id":7})");
  CHECK(wrong_type.status == 400);
  CHECK(wrong_type.body == error_body(cb::api::request_error{"agent_id", "expected a string"}));

  const auto variable = f.call("POST", "/api/calls/originate",
                               R"({"number":"1","dynamic_variables":{"tags":["a"]}})");
  CHECK(variable.status == 400);
  CHECK(json_at(variable.body, {"field"}) == "\"dynamic_variables.tags\"");

  const auto unknown = f.call("POST", "/api/calls/c1/message", R"({"txt":"hi"})");
  CHECK(json_at(unknown.body, {"field"}) == "\"txt\"");
  const auto history = f.call("GET", "/api/history?limit=9999");
  CHECK(history.status == 400);
  CHECK(json_at(history.body, {"field"}) == "\"limit\"");
  f.record->with([](recorded& r) {
    CHECK(r.prepared.empty());
    CHECK(r.originated.empty());
    CHECK(r.said.empty());
  });
}

TEST_CASE("control API refuses bodies over API_MAX_BODY with 413", "[control]") {
  fixture f;  // max_body 4096
  connection c(f.port(), false);
  // Only the head is sent: the server must answer from Content-Length alone.
  const auto answer = round_trip(
      c, "POST /api/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_token) +
             "\r\nContent-Type: application/json\r\n"
             "Content-Length: 5000\r\n\r\n");
  CHECK(answer.status == 413);
  CHECK(answer.body == error_body("payload_too_large", "the body exceeds 4096 bytes"));
  CHECK(c.wait_closed(clock_type::now() + io_timeout));
  const std::string fits(4000, ' ');
  CHECK(f.call("POST", "/api/calls", "{}" + fits).status == 201);
}

TEST_CASE("control API asks for a Content-Length instead of a chunked body", "[control]") {
  fixture f;
  connection c(f.port(), false);
  const auto answer = round_trip(
      c, "POST /api/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(api_token) +
             "\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  CHECK(answer.status == 411);
  CHECK(answer.body == error_body("length_required", "send the body with a Content-Length"));
  f.record->with([](recorded& r) { CHECK(r.prepared.empty()); });
}

TEST_CASE("control API places outbound calls through the registry", "[control]") {
  SECTION("queued") {
    fixture f;
    const auto answer = f.call("POST", "/api/calls/originate",
                               R"({"number":"5551234","caller_id":"Sales <100>","agent_id":"a"})");
    REQUIRE(answer.status == 202);
    CHECK(json_at(answer.body, {"uuid"}) == "\"o-1\"");
    f.record->with([](recorded& r) {
      const auto& request = r.originated.at(0);
      CHECK(request.number == "5551234");
      CHECK(request.caller_id == "Sales <100>");
      CHECK(request.context.agent_id == "a");
      CHECK_FALSE(request.want_pool_port);
    });
    const auto down = f.call("POST", "/api/calls/originate", R"({"number":"down"})");
    CHECK(down.status == 503);
    CHECK(down.body == error_body("ami_not_connected", "AMI link is down"));
  }
  SECTION("AMI disabled") {
    fixture_options options;
    options.with_ami = false;
    fixture f(options);
    const auto answer = f.call("POST", "/api/calls/originate", R"({"number":"1"})");
    CHECK(answer.status == 503);
    CHECK(json_at(answer.body, {"error"}) == "\"ami_disabled\"");
    f.record->with([](recorded& r) { CHECK(r.originated.empty()); });
  }
}

TEST_CASE("control API hands a channel whose name has slashes to the AI", "[control]") {
  fixture f;
  const auto answer =
      f.call("POST", "/api/calls/PJSIP%2F100-00000001/redirect", R"({"agent_id":"agent_2"})");
  REQUIRE(answer.status == 202);
  CHECK(json_at(answer.body, {"uuid"}) == "\"r-1\"");
  f.record->with([](recorded& r) {
    REQUIRE(r.redirected.size() == 1);
    CHECK(r.redirected[0].first == "PJSIP/100-00000001");
    CHECK(r.redirected[0].second.agent_id == "agent_2");
  });
  CHECK(f.call("POST", "/api/calls/PJSIP%2F1/redirect", R"({"pool_port":true})").status == 400);
}

TEST_CASE("control API transfers, whispers to and hangs up live calls", "[control]") {
  fixture f;
  const auto transfer = f.call("POST", "/api/calls/c1/transfer",
                               R"({"destination":"200","context":"from-internal"})");
  CHECK(transfer.status == 200);
  CHECK(transfer.body == R"({"uuid":"c1","target":"from-internal,200,1"})");
  const auto message = f.call("POST", "/api/calls/c1/message", R"({"text":"offer 10%"})");
  CHECK(message.status == 202);
  CHECK(message.body == R"({"uuid":"c1","type":"contextual_update","delivered":true})");
  const auto hangup = f.call("DELETE", "/api/calls/c1");
  CHECK(hangup.status == 200);
  CHECK(hangup.body == R"({"uuid":"c1","ended":true})");
  CHECK(f.call("DELETE", "/api/calls/zz").status == 404);
  CHECK(f.call("POST", "/api/calls/zz/transfer", "{}").status == 404);
  f.record->with([](recorded& r) {
    const auto& [uuid, request] = r.transfers.at(0);
    CHECK(uuid == "c1");
    CHECK(request.context == "from-internal");
    CHECK(request.parameters == std::map<std::string, std::string>{{"destination", "200"}});
    CHECK(r.said.at(0) == std::make_tuple(std::string("c1"), std::string("contextual_update"),
                                          std::string("offer 10%")));
    CHECK(r.ended == std::vector<std::string>{"c1", "zz"});
  });
}

TEST_CASE("control API serves Prometheus metrics and its status", "[control]") {
  fixture f;
  const auto metrics = f.call("GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers.at("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.body == "# TYPE callbridge_calls_active gauge\ncallbridge_calls_active 2\n");
  const auto status = f.call("GET", "/api/status");
  CHECK(status.status == 200);
  CHECK(json_keys(status.body, {}) == std::vector<std::string>{"api", "ami", "store", "ports"});
  CHECK(json_at(status.body, {"api", "port"}) == std::to_string(f.port()));
  CHECK(json_at(status.body, {"ami", "state"}) == "\"connected\"");
  CHECK(json_at(status.body, {"ami", "asterisk_version"}) == "\"11.0.0\"");
  CHECK(json_at(status.body, {"store", "backend"}) == "\"sqlite\"");
  CHECK(json_at(status.body, {"ports"}) == R"({"leased":1,"total":8})");
}

TEST_CASE("control API status tells a service switched off from one that does not answer",
          "[control]") {
  // Each service's state in GET /api/status from a bridge set up with `options`.
  const auto service_states = [](const fixture_options& options) {
    fixture f(options);
    const auto status = f.call("GET", "/api/status");
    REQUIRE(status.status == 200);
    std::vector<std::string> states;
    for (const char* service : {"ami", "store", "ports"}) {
      states.push_back(json_at(status.body, {service}));
    }
    return states;
  };
  SECTION("off") {
    fixture_options options;
    options.with_ami = false;
    options.with_store = false;
    options.with_ports = false;
    CHECK(service_states(options) == std::vector<std::string>(3, R"({"state":"disabled"})"));
  }
  SECTION("silent") {
    fixture_options options;
    options.silent_services = true;
    CHECK(service_states(options) == std::vector<std::string>(3, R"({"state":"no_answer"})"));
  }
}

TEST_CASE("control API answers unknown paths and methods", "[control]") {
  fixture f;
  const auto missing = f.call("GET", "/api/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.body == error_body("not_found", "no such resource"));
  const auto method = f.call("PUT", "/api/calls", "{}");
  CHECK(method.status == 405);
  CHECK(json_at(method.body, {"error"}) == "\"method_not_allowed\"");
}

TEST_CASE("control API serves call history from the store", "[control]") {
  fixture f;
  const auto page = f.call("GET",
                           "/api/history?from=2026-11-24T00:00:00Z&to=1795600000000&agent=agent_1"
                           "&q=refund+%26+return&limit=20&offset=40");
  REQUIRE(page.status == 200);
  CHECK(json_keys(page.body, {}) == std::vector<std::string>{"calls", "total", "limit", "offset"});
  CHECK(json_at(page.body, {"total"}) == "7");
  CHECK(json_at(page.body, {"limit"}) == "20");
  CHECK(json_at(page.body, {"calls", 0, "uuid"}) == "\"c1\"");
  CHECK(json_at(page.body, {"calls", 0, "dynamic_variables"}) == R"({"lead_id":42})");
  f.record->with([](recorded& r) {
    const auto& query = r.history_queries.at(0);
    CHECK(query.from_unix_ms == 1795478400000);
    CHECK(query.to_unix_ms == 1795600000000);
    CHECK(query.agent_id == "agent_1");
    CHECK(query.text == "refund & return");
    CHECK(query.limit == 20);
    CHECK(query.offset == 40);
  });
  const auto one = f.call("GET", "/api/history/c1");
  REQUIRE(one.status == 200);
  CHECK(json_keys(one.body, {}) ==
        std::vector<std::string>{"call", "transcript", "tool_calls", "dtmf", "post_call"});
  CHECK(
      json_at(one.body, {"transcript", 1}) ==
      R"({"role":"agent","text":"noted","event_id":2,"offset_ms":1500,"interrupted":true,"corrected":false})");
  CHECK(json_at(one.body, {"tool_calls", 0, "parameters"}) == R"({"destination":"200"})");
  CHECK(json_at(one.body, {"dtmf", 0}) ==
        R"({"digits":"5","direction":"caller","offset_ms":2500})");
  CHECK(json_at(one.body, {"post_call", "analysis"}) == R"({"call_successful":"success"})");
  CHECK(json_at(one.body, {"post_call", "cost"}) == "0.25");
  CHECK(f.call("GET", "/api/history/zz").status == 404);
}

TEST_CASE("control API without a call store answers history with 503", "[control]") {
  fixture_options options;
  options.with_store = false;
  fixture f(options);
  const auto page = f.call("GET", "/api/history");
  CHECK(page.status == 503);
  CHECK(json_at(page.body, {"error"}) == "\"store_disabled\"");
}

TEST_CASE("control API stores signed ElevenLabs webhooks", "[control]") {
  fixture f;
  const std::string body =
      R"({"type":"post_call_transcription","event_timestamp":1795543200,"data":{"conversation_id":"conv_c1","agent_id":"agent_1","analysis":{"transcript_summary":"ok"}}})";
  // No bearer token: ElevenLabs signs instead.
  const auto stored =
      http(f.port(), "POST", "/webhooks/elevenlabs", body,
           {{"ElevenLabs-Signature", sign(body, now_s())}, {"Content-Type", "application/json"}});
  CHECK(stored.status == 200);
  CHECK(stored.body == R"({"status":"stored","conversation_id":"conv_c1"})");
  // The store is told without an answer to wait for.
  REQUIRE(f.record->wait_for([](const recorded& r) { return r.stored.size() == 1; }));
  f.record->with([](recorded& r) {
    const auto& record = std::get<cb::post_call_record>(r.stored[0]);
    CHECK(record.conversation_id == "conv_c1");
    CHECK(record.kind == "post_call_transcription");
  });
  const auto tampered = http(f.port(), "POST", "/webhooks/elevenlabs", body + " ",
                             {{"ElevenLabs-Signature", sign(body, now_s())}});
  CHECK(tampered.status == 401);
  CHECK(json_at(tampered.body, {"error"}) == "\"bad_signature\"");
  CHECK(http(f.port(), "POST", "/webhooks/elevenlabs", body).status == 401);
  const auto stale = http(f.port(), "POST", "/webhooks/elevenlabs", body,
                          {{"ElevenLabs-Signature", sign(body, now_s() - 7200)}});
  CHECK(stale.status == 401);
  const std::string other = R"({"type":"call_initiation_failure","event_timestamp":1,"data":{}})";
  const auto ignored = http(f.port(), "POST", "/webhooks/elevenlabs", other,
                            {{"ElevenLabs-Signature", sign(other, now_s())}});
  CHECK(ignored.status == 200);
  CHECK(ignored.body == R"({"status":"ignored"})");
  f.record->with([](recorded& r) { CHECK(r.stored.size() == 1); });
}

TEST_CASE("control API serves the dashboard's files without a token", "[control]") {
  fixture f;
  const auto index = http(f.port(), "GET", "/");
  CHECK(index.status == 200);
  CHECK(index.headers.at("content-type") == "text/html; charset=utf-8");
  CHECK(index.body == "<!doctype html><title>cb</title>");
  CHECK(http(f.port(), "GET", "/app.js").body == "console.log('cb')");
  CHECK(http(f.port(), "GET", "/missing.css").status == 404);
}

TEST_CASE("control API keeps a connection alive across requests", "[control]") {
  fixture f;
  connection c(f.port(), false);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(round_trip(c, request).status == 200);
  CHECK(round_trip(c, request).status == 200);
  const auto calls = round_trip(c, "GET /api/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                       std::string(api_token) + "\r\n\r\n");
  CHECK(calls.status == 200);
}

TEST_CASE("control API reports a port it cannot bind", "[control]") {
  fixture f;
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto settings = std::make_shared<cb::settings>();
  settings->api_bind = "127.0.0.1";
  settings->api_port = f.port();
  auto second = cb::start_control_api(system, settings, {});
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error() == "cannot listen on 127.0.0.1:" + std::to_string(f.port()) +
                              " (address in use or not available)");
}
