// Secrets never leave the API, whatever a service hands it; and the API over HTTPS/WSS.
#include <catch2/catch.hpp>

#include <caf/send.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "actors/log.hpp"
#include "actors/ws_client.hpp"
#include "test/control/fixture.hpp"

using namespace cb::test;

namespace {

bool leaks(const std::string& text) {
  for (auto secret : {api_token, elevenlabs_key, ami_secret, webhook_secret}) {
    if (text.find(secret) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("no answer or stream message ever contains a secret", "[control]") {
  fixture f;
  std::vector<std::string> seen;
  const auto keep = [&](const http_answer& answer) {
    std::string all = std::to_string(answer.status) + "\n";
    for (const auto& [name, value] : answer.headers)
      all += name + ": " + value + "\n";
    seen.push_back(all + answer.body);
    return answer.body;
  };
  // The fakes leak a secret into the AMI error, a call's transfer target, a call's agent turn
  // and a stored transcript: each must come out redacted.
  CHECK(keep(f.call("GET", "/api/status")).find("login with *** refused") != std::string::npos);
  CHECK(keep(f.call("GET", "/api/calls")).find("leaked ***") != std::string::npos);
  CHECK(keep(f.call("GET", "/api/calls/c1")).find("your code is ***") != std::string::npos);
  CHECK(keep(f.call("GET", "/api/history/c1")).find("my password is ***") != std::string::npos);
  keep(f.call("GET", "/api/history"));
  keep(f.call("GET", "/readyz"));
  keep(f.call("GET", "/metrics"));
  keep(f.call("POST", "/api/calls", R"({"agent_id":")" + std::string(elevenlabs_key) + "\"}"));
  keep(f.call("POST", "/api/calls", R"({"agent_id":7,"x":")" + std::string(ami_secret) + "\"}"));
  keep(f.call("POST", "/api/calls/" + std::string(api_token) + "/message", R"({"text":"x"})"));
  keep(f.call("GET", "/api/history?from=" + std::string(webhook_secret)));
  keep(http(f.port(), "GET", "/api/calls", {},
            {{"Authorization", "Bearer " + std::string(ami_secret)}}));
  keep(http(f.port(), "POST", "/webhooks/elevenlabs", "{}",
            {{"ElevenLabs-Signature", "t=1,v0=" + std::string(webhook_secret)}}));

  auto ws = f.websocket();
  ws->send_text(
      R"({"type":"subscribe","streams":["logs","events","transcripts"],"level":"trace"})");
  REQUIRE(ws->next_containing("subscribed").has_value());
  cb::log::warn("test", "c1", "the key is {}", elevenlabs_key);
  caf::anon_send(
      f.api.actor,
      cb::call_update{"c1", {"user_transcript", "token " + std::string(api_token), 1}, 1});
  ws->send_text(R"({"type":"request","id":1,"method":"GET","path":"/api/status"})");
  ws->send_text(R"({"action":"start_call","requestId":")" + std::string(ami_secret) +
                R"(","params":{"channel":")" + std::string(elevenlabs_key) + "\"}}");
  ws->send_text(R"({"type":"dance","x":")" + std::string(api_token) + "\"}");
  // The answers come in whatever order the services answer.
  std::vector<std::string> expected = {"the key is ***", "\"text\":\"token ***\"",
                                       "\"type\":\"response\"", "callId", "unknown message type"};
  while (!expected.empty()) {
    const auto message = ws->next();
    REQUIRE(message.has_value());
    expected.erase(std::remove_if(expected.begin(), expected.end(),
                                  [&](const std::string& needle) {
                                    return message->find(needle) != std::string::npos;
                                  }),
                   expected.end());
  }
  for (const auto& message : ws->received())
    seen.push_back(message);

  ws_client refused(f.port(), {{"Authorization", "Bearer " + std::string(webhook_secret)}});
  refused.wait_close();
  for (const auto& message : refused.received())
    seen.push_back(message);

  REQUIRE(seen.size() > 15);
  for (const auto& text : seen) {
    INFO(text);
    CHECK_FALSE(leaks(text));
  }
}

TEST_CASE("the control API speaks HTTPS and WSS with a certificate", "[control]") {
  self_signed_cert cert;
  fixture_options options;
  options.tls_cert = cert.cert();
  options.tls_key = cert.key();
  fixture f(options);
  CHECK(f.api.tls);
  const auto health = http(f.port(), "GET", "/healthz", {}, {}, true);
  CHECK(health.status == 200);
  const auto calls = f.call("GET", "/api/calls");
  CHECK(calls.status == 200);
  CHECK(json_at(calls.body, {"calls", 0, "uuid"}) == "\"c1\"");
  CHECK(f.call("GET", "/api/calls", {}, {{"Authorization", "Bearer no"}}).status == 403);

  ws_client ws(f.port(), {}, true);
  REQUIRE(ws.handshake_status() == 101);
  ws.send_text(R"({"action":"ping","requestId":"tls","token":")" + std::string(api_token) + "\"}");
  const auto pong = ws.next();
  CHECK(json_at(pong.value_or(""), {"message"}) == "\"pong\"");
  CHECK(json_at(pong.value_or(""), {"requestId"}) == "\"tls\"");

  // Plain HTTP on the TLS port gets no answer.
  CHECK_THROWS(http(f.port(), "GET", "/healthz"));
}

TEST_CASE("the control API refuses to start with an unreadable certificate", "[control]") {
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto settings = std::make_shared<cb::settings>();
  settings->api_bind = "127.0.0.1";
  settings->api_port = 0;
  settings->api_tls_cert = "/nonexistent/cert.pem";
  settings->api_tls_key = "/nonexistent/key.pem";
  const auto started = cb::start_control_api(system, settings, {});
  REQUIRE_FALSE(started.has_value());
  CHECK(started.error() ==
        "cannot listen with TLS on 127.0.0.1:0 (address in use, or unreadable certificate or key)");
}

// Run under LeakSanitizer (the sanitizer build), this fails if either lws context's SSL_CTX leaks:
// lws 4.1 shares OpenSSL ex-data indexes across contexts.
TEST_CASE("the TLS control API and the agent WebSocket client share the process", "[control]") {
  self_signed_cert cert;
  fixture_options options;
  options.tls_cert = cert.cert();
  options.tls_key = cert.key();
  SECTION("client first") {
    cb::ws_client client;
    client.start();
    {
      fixture f(options);
      CHECK(f.call("GET", "/api/calls").status == 200);
    }
    client.stop();
  }
  SECTION("API first") {
    auto f = std::make_unique<fixture>(options);
    cb::ws_client client;
    client.start();
    CHECK(f->call("GET", "/api/calls").status == 200);
    f.reset();
    client.stop();
  }
}
