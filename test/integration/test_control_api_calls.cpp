// The control API in front of the real bridge: live calls, operator actions, streams, history and
// metrics, with the call simulator and the fake agent on loopback.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include <unistd.h>

#include "test/control/api_client.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
using cb::test::harness_options;
namespace callsim = cb::callsim;
namespace api = cb::test;

namespace {

constexpr const char* token = "operator-token-for-tests";

harness_options api_options(std::function<void(cb::settings&)> more = {}) {
  harness_options options;
  options.configure = [more = std::move(more)](cb::settings& s) {
    s.api_enabled = true;
    s.api_port = 0;
    s.api_bind = "127.0.0.1";
    s.api_token = token;
    if (more) more(s);
  };
  return options;
}

const api::headers& auth() {
  static const api::headers h{{"Authorization", std::string("Bearer ") + token}};
  return h;
}

api::http_answer get(harness& h, const std::string& path) {
  return api::http(h.bridge_->api_port(), "GET", path, {}, auth());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Polls GET path until its body contains `part`.
bool wait_for_body(harness& h, const std::string& path, const std::string& part,
                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (contains(get(h, path).body, part)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// The number after "key": in a JSON text, or nullopt.
std::optional<double> number_after(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

}  // namespace

TEST_CASE("the live call shows the caller's and the agent's audio levels") {
  harness h(api_options());
  auto spec = h.call(600.0, 30s);  // a sine at -12 dBFS peak: -15 dBFS RMS
  spec.end = callsim::end_mode::wait_for_server;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  std::optional<double> caller;
  std::optional<double> agent;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto body = get(h, "/api/calls").body;
    caller = number_after(body, "caller_level_dbfs");
    agent = number_after(body, "agent_level_dbfs");
    if (caller && agent && *caller > -60 && *agent > -60) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(caller.has_value());
  REQUIRE(agent.has_value());
  CHECK(*caller == Approx(-15.0).margin(1.5));
  CHECK(*agent > -60.0);  // the tone agent's greeting is playing
  CHECK(h.sim.hangup(*handle));
  CHECK(h.sim.wait(*handle, 10s).has_value());
}

TEST_CASE("the API lists a live call, whispers into it and hangs it up") {
  harness h(api_options());
  auto spec = h.call(600.0, 30s);
  spec.id = "3d9a1c4e-1111-4222-8333-444455556666";
  spec.end = callsim::end_mode::wait_for_server;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(wait_for_body(h, "/api/calls", "\"state\":\"active\"", 5s));
  const auto list = get(h, "/api/calls");
  CHECK(list.status == 200);
  CHECK(contains(list.body, "\"uuid\":\"3d9a1c4e-1111-4222-8333-444455556666\""));
  CHECK(contains(list.body, "\"agent_id\":\"tone.pcm_16000.pcm_16000\""));

  const auto whisper = api::http(
      h.bridge_->api_port(), "POST", "/api/calls/3d9a1c4e-1111-4222-8333-444455556666/message",
      R"({"type":"contextual_update","text":"Offer the discount"})", auth());
  CHECK(whisper.status == 202);
  const auto hangup = api::http(h.bridge_->api_port(), "DELETE",
                                "/api/calls/3d9a1c4e-1111-4222-8333-444455556666", {}, auth());
  CHECK(hangup.status == 200);
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::server_hangup);
  CHECK(wait_for_body(h, "/api/calls", "\"calls\":[]", 5s));
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].contextual_updates.size() == 1);
  CHECK(conversations[0].contextual_updates[0].text == "Offer the discount");
  CHECK(api::http(h.bridge_->api_port(), "DELETE",
                  "/api/calls/3d9a1c4e-1111-4222-8333-444455556666", {}, auth())
            .status == 404);
}

TEST_CASE("a call prepared through the API runs with its agent and variables") {
  harness h(api_options());
  const auto prepared = api::http(
      h.bridge_->api_port(), "POST", "/api/calls",
      R"({"agent_id":"echo.pcm_16000.pcm_16000","dynamic_variables":{"lead_id":42}})", auth());
  REQUIRE(prepared.status == 201);
  const auto uuid_at = prepared.body.find("\"uuid\":\"");
  REQUIRE(uuid_at != std::string::npos);
  const auto uuid = prepared.body.substr(uuid_at + 8, 36);
  CHECK(contains(prepared.body, "\"port\":" + std::to_string(h.shared_port())));
  auto spec = h.call(900.0, 1500ms);
  spec.id = uuid;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].agent_id == "echo.pcm_16000.pcm_16000");
  REQUIRE(conversations[0].init.has_value());
  CHECK(std::get<std::int64_t>(conversations[0].init->dynamic_variables->at("lead_id")) == 42);
}

TEST_CASE("the transcript stream carries a live call's turns to a WebSocket client") {
  harness h(api_options());
  h.config->elevenlabs_agent_id = "transcript.pcm_16000.pcm_16000";
  api::ws_client ws(h.bridge_->api_port(), auth());
  REQUIRE(ws.handshake_status() == 101);
  ws.send_text(R"({"type":"subscribe","streams":["transcripts","events"]})");
  REQUIRE(ws.next_containing("subscribed", 5s).has_value());
  auto spec = h.call(500.0, 3s);
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  CHECK(ws.next_containing("call_started", 5s).has_value());
  CHECK(ws.next_containing("agent_response", 5s).has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  CHECK(ws.next_containing("call_ended", 5s).has_value());
}

TEST_CASE("readiness says AMI is disabled and metrics count the calls") {
  harness h(api_options());
  const auto ready = api::http(h.bridge_->api_port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(contains(ready.body, "\"state\":\"disabled\""));
  auto handle = h.sim.start_call(h.call(600.0, 1s));
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  cb::test::closed_conversations(h, 1);
  const auto metrics = get(h, "/metrics");
  CHECK(metrics.status == 200);
  CHECK(contains(metrics.body, "callbridge_"));
  CHECK(api::http(h.bridge_->api_port(), "GET", "/metrics").status == 401);
}

TEST_CASE("a finished call is in the history with its transcript") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("callbridge-history-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    harness h(api_options([&dir](cb::settings& s) {
      s.db_url = "sqlite:" + (dir / "calls.db").string();
      s.store_journal = (dir / "journal.log").string();
    }));
    h.config->elevenlabs_agent_id = "transcript.pcm_16000.pcm_16000";
    auto spec = h.call(500.0, 3s);
    spec.id = "7e57ab1e-0000-4000-8000-00000000c0de";
    auto handle = h.sim.start_call(spec);
    REQUIRE(handle.has_value());
    REQUIRE(h.sim.wait(*handle, 10s).has_value());
    REQUIRE(wait_for_body(h, "/api/history", "caller hung up", 10s));
    const auto one = get(h, "/api/history/7e57ab1e-0000-4000-8000-00000000c0de");
    CHECK(one.status == 200);
    CHECK(contains(one.body, "\"role\":\"agent\""));
    CHECK(contains(one.body, "\"agent_id\":\"transcript.pcm_16000.pcm_16000\""));
  }
  std::filesystem::remove_all(dir);
}
