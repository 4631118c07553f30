// get-signed-url and the WebSocket authentication of private agents.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "test_support.hpp"

namespace fe = cb::fake_elevenlabs;
namespace el = cb::elevenlabs;
using namespace cb::fake_elevenlabs::test;

namespace {

constexpr std::string_view key = "xi-test-key";

fe::server_options private_options() {
  fe::server_options options;
  options.api_key = std::string(key);
  auto open_agent = fe::make_profile("open_agent", fe::scenario_kind::tone);
  open_agent.is_public = true;
  options.agents.push_back(open_agent);
  return options;
}

std::string signed_url_target(std::string_view agent_id) {
  return "/v1/convai/conversation/get-signed-url?agent_id=" + std::string(agent_id);
}

// The path and query of the signed URL in a get-signed-url response body.
std::string signed_path(const std::string& body, std::uint16_t port) {
  const std::string prefix = R"({"signed_url":"ws://127.0.0.1:)" + std::to_string(port);
  REQUIRE(body.compare(0, prefix.size(), prefix) == 0);
  const auto end = body.find('"', prefix.size());
  REQUIRE(end != std::string::npos);
  return body.substr(prefix.size(), end - prefix.size());
}

}  // namespace

TEST_CASE("get-signed-url with the right key returns a signed ws URL for the agent") {
  running_server s(private_options());
  const auto response =
      http_get(s.port, signed_url_target("echo"), {{"xi-api-key", std::string(key)}});
  CHECK(response.status == 200);
  const std::string path = signed_path(response.body, s.port);
  CHECK(path.rfind("/v1/convai/conversation?agent_id=echo&conversation_signature=", 0) == 0);

  const auto legacy = http_get(s.port, "/v1/convai/conversation/get_signed_url?agent_id=echo",
                               {{"xi-api-key", std::string(key)}});
  CHECK(legacy.status == 200);
  CHECK(signed_path(legacy.body, s.port) != path);
  CHECK(s.agent.counters().signed_urls == 2);
}

TEST_CASE("get-signed-url refuses a missing or wrong key with 401 invalid_api_key") {
  running_server s(private_options());
  const auto missing = http_get(s.port, signed_url_target("echo"), {});
  CHECK(missing.status == 401);
  CHECK(missing.body.find(R"({"detail":{"status":"invalid_api_key","message":)") == 0);
  const auto wrong = http_get(s.port, signed_url_target("echo"), {{"xi-api-key", "nope"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body == R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})");
}

TEST_CASE("get-signed-url answers unknown agents with 404 and a missing agent_id with 422") {
  auto options = private_options();
  options.restrict_agents = true;
  running_server s(std::move(options));
  const header_list auth{{"xi-api-key", std::string(key)}};
  CHECK(http_get(s.port, signed_url_target("echo"), auth).status == 404);
  CHECK(http_get(s.port, signed_url_target("open_agent"), auth).status == 200);
  const auto missing = http_get(s.port, "/v1/convai/conversation/get-signed-url", auth);
  CHECK(missing.status == 422);
  CHECK(missing.body.find(R"("loc":["query","agent_id"])") != std::string::npos);
  CHECK(http_get(s.port, "/v1/other", auth).status == 404);
}

TEST_CASE("a signed URL opens one conversation and cannot be used twice") {
  running_server s(private_options());
  const auto response =
      http_get(s.port, signed_url_target("tone"), {{"xi-api-key", std::string(key)}});
  REQUIRE(response.status == 200);
  const std::string path = signed_path(response.body, s.port);
  {
    auto client = connect(s.port, path + "&source=js_sdk&version=2.3.0");
    REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 1; }, 2s));
  }
  const auto records = s.agent.conversations();
  REQUIRE(records.size() == 1);
  REQUIRE(records[0].signature);
  CHECK(path.find(*records[0].signature) != std::string::npos);
  CHECK(upgrade_status(s.port, path) == 403);
  CHECK(s.agent.counters().refused_upgrades == 1);
}

TEST_CASE("private agents refuse the upgrade without a signature unless the key is sent") {
  running_server s(private_options());
  CHECK(upgrade_status(s.port, agent_path("tone")) == 403);
  CHECK(upgrade_status(s.port, agent_path("tone") + "&conversation_signature=forged") == 403);
  CHECK(upgrade_status(s.port, agent_path("tone"), {{"xi-api-key", "nope"}}) == 403);
  auto with_key = connect(s.port, agent_path("tone"), {{"xi-api-key", std::string(key)}});
  auto open_agent = connect(s.port, agent_path("open_agent"));
  REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 2; }, 2s));
  const auto records = s.agent.conversations();
  CHECK(records[0].authorized_by_api_key_header != records[1].authorized_by_api_key_header);
}

TEST_CASE("a signature is bound to the agent it was issued for") {
  running_server s(private_options());
  const auto response =
      http_get(s.port, signed_url_target("tone"), {{"xi-api-key", std::string(key)}});
  std::string path = signed_path(response.body, s.port);
  path.replace(path.find("agent_id=tone"), 13, "agent_id=echo");
  CHECK(upgrade_status(s.port, path) == 403);
}

TEST_CASE("signed URLs expire") {
  auto options = private_options();
  options.signature_ttl = std::chrono::seconds(0);
  running_server s(std::move(options));
  const auto response =
      http_get(s.port, signed_url_target("tone"), {{"xi-api-key", std::string(key)}});
  REQUIRE(response.status == 200);
  CHECK(upgrade_status(s.port, signed_path(response.body, s.port)) == 403);
}

TEST_CASE("the refuse scenario and unknown paths get HTTP 403 on the upgrade") {
  running_server s;
  CHECK(upgrade_status(s.port, agent_path("refuse")) == 403);
  CHECK(upgrade_status(s.port, agent_path("no_such_agent")) == 403);
  CHECK(upgrade_status(s.port, "/v1/convai/other?agent_id=tone") == 403);
  CHECK(upgrade_status(s.port, "/v1/convai/conversation") == 403);
  CHECK(upgrade_status(s.port, agent_path("tone")) == 101);
}

TEST_CASE("without an API key any agent id following the convention connects") {
  running_server s;
  auto client = connect(s.port, agent_path("echo.ulaw_8000.ulaw_8000"), {}, "convai");
  REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 1; }, 2s));
  const auto record = s.agent.conversations()[0];
  CHECK(record.agent_id == "echo.ulaw_8000.ulaw_8000");
  CHECK(record.subprotocol == "convai");
  CHECK_FALSE(record.signature);
}
