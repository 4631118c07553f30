// DTMF, client tools, OSdial call ids, a slow agent, audio sent before the agent is ready.
#include <catch2/catch.hpp>

#include <thread>

#include "apps/callsim/call_analysis.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
namespace callsim = cb::callsim;
namespace fake = cb::fake_elevenlabs;

TEST_CASE("caller DTMF reaches the agent as a user_message") {
  harness h;
  auto spec = h.call(0.0, 2000ms);
  spec.source = callsim::silence_source{};
  spec.dtmf = {{500ms, '4'}, {900ms, '#'}};
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].user_messages == std::vector<std::string>{"4", "#"});
}

TEST_CASE("an unknown client tool is answered with is_error and the same tool_call_id") {
  harness h;
  h.config->elevenlabs_agent_id = "client_tool.pcm_16000.pcm_16000";
  auto spec = h.call(0.0, 3000ms);
  spec.source = callsim::silence_source{};
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].tool_results.size() == 1);
  const auto& result = conversations[0].tool_results[0];
  CHECK(result.matches_call);
  CHECK(result.result.is_error);
  CHECK(result.result.result.find("lookup_order") != std::string::npos);
}

TEST_CASE("an OSdial ASCII call id is accepted and the call runs") {
  harness h;
  auto spec = h.call(1500.0, 1500ms);
  spec.id = "OSDIAL0000000042";
  spec.ascii_id = true;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  CHECK(report->uuid == "OSDIAL0000000042");
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].user_audio.dominant_frequency_hz() == Approx(1500.0).margin(10.0));
}

TEST_CASE("caller audio sent before the agent is ready is buffered, not lost") {
  harness h;
  // The fake sends metadata only after its init timeout when no init arrives; here it arrives at
  // once, but the caller starts talking the moment the socket is up, before the metadata.
  auto handle = h.sim.start_call(h.call(800.0, 1000ms));
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].user_audio.chunks_before_metadata == 0);
  // Every 20 ms frame went up as its own chunk: 50 frames for 1 s (allow the last partial one).
  CHECK(conversations[0].user_audio.chunks >= 49);
  CHECK(conversations[0].user_audio.received_ms == Approx(1000.0).margin(25.0));
}

TEST_CASE("an agent that stops reading does not disturb the other calls") {
  harness h;
  h.config->elevenlabs_agent_id = "slow_reader.pcm_48000.pcm_16000";
  auto slow = h.sim.start_call(h.call(440.0, 6000ms));
  REQUIRE(slow.has_value());
  std::this_thread::sleep_for(500ms);
  h.config->elevenlabs_agent_id = "tone.pcm_16000.pcm_16000";
  auto spec = h.call(0.0, 4000ms);
  spec.source = callsim::silence_source{};
  auto healthy = h.sim.start_call(spec);
  REQUIRE(healthy.has_value());
  const auto report = h.sim.wait(*healthy, 15s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  CHECK(callsim::non_silent_ms(*report) == Approx(2000.0).margin(60.0));
  if (cb::test::pacing_asserted) CHECK(report->timing.bursts == 0);
  const auto slow_report = h.sim.wait(*slow, 15s);
  REQUIRE(slow_report.has_value());
  CHECK(slow_report->protocol_violations == 0);
}
