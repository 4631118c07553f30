// Audio both ways through the bridge: frequencies, durations, pacing, barge-in, isolation.
#include <catch2/catch.hpp>

#include <set>

#include "apps/callsim/call_analysis.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
namespace callsim = cb::callsim;
namespace fake = cb::fake_elevenlabs;

namespace {

void set_agent(harness& h, const std::string& agent_id) {
  h.config->elevenlabs_agent_id = agent_id;
}

// Places one call per tone at once, waits for each to end with the caller's hangup, and returns
// the agent's record of every conversation.
std::vector<fake::conversation_record> run_tone_calls(harness& h, const std::set<int>& tones,
                                                      std::chrono::milliseconds duration) {
  std::vector<callsim::call_handle> handles;
  for (const int hz : tones) {
    auto handle = h.sim.start_call(h.call(hz, duration));
    REQUIRE(handle.has_value());
    handles.push_back(*handle);
  }
  for (const auto handle : handles) {
    const auto report = h.sim.wait(handle, 20s);
    REQUIRE(report.has_value());
    CHECK(report->end == callsim::call_end::caller_hangup);
  }
  auto conversations = cb::test::closed_conversations(h, tones.size());
  REQUIRE(conversations.size() == tones.size());
  return conversations;
}

// The caller's tone as the agent heard it, to the nearest 50 Hz.
int heard_tone_hz(const fake::conversation_record& conversation) {
  return static_cast<int>(std::lround(conversation.user_audio.dominant_frequency_hz() / 50.0) * 50);
}

}  // namespace

TEST_CASE("caller tone reaches the agent at the same frequency in every input format") {
  for (const std::string format : {"pcm_16000", "ulaw_8000", "pcm_44100", "pcm_8000"}) {
    DYNAMIC_SECTION("input " << format) {
      harness h;
      set_agent(h, "tone." + format + ".pcm_16000");
      auto handle = h.sim.start_call(h.call(1000.0, 2000ms));
      REQUIRE(handle.has_value());
      const auto report = h.sim.wait(*handle, 15s);
      REQUIRE(report.has_value());
      CHECK(report->end == callsim::call_end::caller_hangup);
      const auto conversations = cb::test::closed_conversations(h, 1);
      REQUIRE(conversations.size() == 1);
      const auto& audio = conversations[0].user_audio;
      CHECK(audio.chunks_before_metadata == 0);
      CHECK(audio.dominant_frequency_hz() == Approx(1000.0).margin(10.0));
      // Nearly all of the 2 s the caller spoke arrived (minus the resampler's few ms).
      CHECK(audio.received_ms > 1800.0);
      REQUIRE(conversations[0].client_close.has_value());
      CHECK(conversations[0].client_close->code == 1000);
    }
  }
}

TEST_CASE("agent tone plays to the caller at its frequency, full length, paced at 20 ms") {
  for (const std::string format : {"pcm_16000", "ulaw_8000", "pcm_44100"}) {
    DYNAMIC_SECTION("output " << format) {
      harness h;
      set_agent(h, "tone.pcm_16000." + format);
      auto spec = h.call(0.0, 4000ms);
      spec.source = callsim::silence_source{};
      auto handle = h.sim.start_call(spec);
      REQUIRE(handle.has_value());
      const auto report = h.sim.wait(*handle, 15s);
      REQUIRE(report.has_value());
      CHECK(report->protocol_violations == 0);
      CHECK(callsim::dominant_frequency_hz(*report) == Approx(440.0).margin(5.0));
      // The greeting is 2 s long and must arrive whole, not cut or doubled.
      CHECK(callsim::non_silent_ms(*report) == Approx(2000.0).margin(60.0));
      // Paced: one frame per 20 ms (silence included), never a burst.
      if (cb::test::pacing_asserted) CHECK(report->timing.bursts == 0);
      CHECK(report->timing.mean_gap_ms == Approx(20.0).margin(0.5));
      CHECK(report->audio_frames_received > 150);
    }
  }
}

TEST_CASE("interruption: the caller hears silence within one frame and old audio never plays") {
  harness h;
  set_agent(h, "interrupt.pcm_16000.pcm_16000");
  auto spec = h.call(0.0, 4000ms);
  spec.source = callsim::silence_source{};
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 15s);
  REQUIRE(report.has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  const auto& conversation = conversations[0];
  REQUIRE(conversation.interruption_sent_at.has_value());
  CHECK(conversation.stale_chunks_sent > 0);
  const auto interrupted_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                  conversation.interruption_sent_at->time_since_epoch())
                                  .count();
  // The old turn (440 Hz) stops within one 20 ms frame (plus scheduling slack) ...
  const auto last_old = callsim::last_frame_with_tone_ns(*report, 440.0);
  REQUIRE(last_old.has_value());
  CHECK(*last_old - interrupted_ns < std::chrono::nanoseconds(40ms).count());
  // ... and the new turn (880 Hz) plays afterwards.
  const auto last_new = callsim::last_frame_with_tone_ns(*report, 880.0);
  REQUIRE(last_new.has_value());
  CHECK(*last_new > interrupted_ns);
}

TEST_CASE("50 simultaneous calls: each agent hears only its own caller") {
  harness h;
  set_agent(h, "tone.pcm_16000.pcm_16000");
  std::set<int> sent;
  for (int i = 0; i < 50; ++i)
    sent.insert(400 + 50 * i);  // 400 .. 2850 Hz, all below 4 kHz
  std::set<int> heard;
  for (const auto& conversation : run_tone_calls(h, sent, 2000ms)) {
    heard.insert(heard_tone_hz(conversation));
    // A single clean tone: all voiced audio is near the dominant frequency.
    const double hz = conversation.user_audio.dominant_frequency_hz();
    CHECK(conversation.user_audio.voiced_ms_near(hz, 15.0) >
          0.95 * conversation.user_audio.voiced_ms);
  }
  CHECK(heard == sent);
}

TEST_CASE("with two WebSocket threads the calls take them in turn, each hearing its own caller") {
  cb::test::harness_options options;
  options.configure = [](cb::settings& s) { s.elevenlabs_ws_threads = 2; };
  harness h{options};
  set_agent(h, "tone.pcm_16000.pcm_16000");
  REQUIRE(h.bridge_->ws_snapshots().size() == 2);
  const std::set<int> sent{500, 800, 1100, 1400, 1700, 2000};
  std::set<int> heard;
  for (const auto& conversation : run_tone_calls(h, sent, 1500ms)) {
    heard.insert(heard_tone_hz(conversation));
  }
  CHECK(heard == sent);
  // Every thread carried calls: each sent audio and opened connections, all closed again.
  for (const auto& thread : h.bridge_->ws_snapshots()) {
    CHECK(thread.messages_sent > 0);
    CHECK(thread.messages_received > 0);
    CHECK(thread.open_connections == 0);
  }
}

TEST_CASE("a 16 kHz caller (chan_audiosocket slin16) gets 0x12 frames back at 16 kHz") {
  harness h;
  set_agent(h, "tone.pcm_16000.pcm_24000");
  auto spec = h.call(0.0, 3000ms);
  spec.source = callsim::silence_source{};
  spec.frame_kind = cb::audiosocket::kind::slin_16k;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 15s);
  REQUIRE(report.has_value());
  CHECK(report->protocol_violations == 0);
  // 640-byte frames once the bridge has seen the caller's rate (the first may still be 8 kHz).
  CHECK(report->audio_bytes_received > report->audio_frames_received * 600);
  CHECK(callsim::dominant_frequency_hz(*report) == Approx(440.0).margin(5.0));
  CHECK(callsim::non_silent_ms(*report) == Approx(2000.0).margin(60.0));
}
