// TRANSCODER: converts between the caller's linear PCM at its AudioSocket rate and the agent's
// announced formats (pcm_* or ulaw_8000), one speexdsp resampler per direction.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "actors/actors.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "actors/metrics/call_metrics.hpp"
#include "codecs/audio_format.hpp"
#include "codecs/resampler.hpp"

namespace cb {

struct transcoder_state {
  transcoder_state() = default;
  call_actor call;
  playout_actor playout;
  elevenlabs_session_actor session;
  std::shared_ptr<metrics::call_metrics> metrics;    // the call's, never null
  std::optional<codecs::audio_format> agent_input;   // user_input_audio_format
  std::optional<codecs::audio_format> agent_output;  // agent_output_audio_format
  std::int32_t caller_rate = 8000;
  std::optional<codecs::resampler> uplink;    // caller rate -> agent input rate
  std::optional<codecs::resampler> downlink;  // agent output rate -> caller rate
  std::deque<caller_audio> before_ready;      // caller audio until the agent named its format
  std::size_t max_before_ready = 100;
  std::int64_t gate_event_id = 0;  // agent audio of turns older than this is stale
  std::uint8_t odd_byte = 0;       // a pcm byte split across agent chunks
  bool has_odd_byte = false;
  // Scratch buffers reused for every frame.
  std::vector<std::int16_t> pcm;
  std::vector<std::int16_t> resampled;
  uplink_report report;
  std::uint64_t frames_since_report = 0;
  bool warned_overload = false;  // live caller audio came too late to send

  static inline const char* name = "transcoder";
};

transcoder_actor::behavior_type transcoder(
    metrics::instrumented_pointer<transcoder_actor, transcoder_state> self, call_actor call,
    std::shared_ptr<metrics::call_metrics> metrics, playout_actor playout,
    std::chrono::milliseconds uplink_buffer);

}  // namespace cb
