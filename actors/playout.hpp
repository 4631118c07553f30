// PLAYOUT: the call's downlink pacing. Asterisk writes every frame it receives at once, and the
// agent sends audio faster than real time, so the bridge paces: one frame per tick of the playout
// clock (every 20 ms on absolute monotonic deadlines; a relative timer drifts), written straight
// to the socket, silence while the agent is quiet (the AudioSocket() application hangs up after
// 2 s without frames), flush within one frame on barge-in with a short fade instead of a click.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "actors/actors.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "actors/metrics/call_metrics.hpp"

namespace cb {

struct playout_state {
  playout_state() = default;
  audiosocket_writer_ptr writer;
  call_actor call;
  std::shared_ptr<metrics::call_metrics> metrics;  // the call's, never null
  std::int32_t rate_hz = 8000;
  std::deque<playout_chunk> queue;
  std::size_t offset = 0;               // samples of queue.front() already played
  std::vector<std::int16_t> fade_tail;  // the faded-out start of flushed audio
  std::int64_t gate_event_id = 0;       // chunks of older turns are dropped
  std::chrono::milliseconds fade{5};
  bool in_turn = false;  // playing a turn's audio (an empty queue then is an underrun)
  // Jitter buffer: a turn starts once this much audio is queued, or once its first audio has
  // waited this long; the agent streams faster than real time, so usually at once.
  std::chrono::milliseconds prefill{40};
  std::size_t queued_samples = 0;
  std::chrono::steady_clock::time_point turn_arrived;
  bool draining = false;
  bool first_audio_reported = false;
  // Latency probes: the arrival of the audio that starts the turn this frame starts, and when an
  // interruption's flush arrived; each is recorded once the frame is written.
  std::optional<std::int64_t> turn_received_ns;
  std::optional<std::chrono::steady_clock::time_point> flushed_at;
  std::vector<std::int16_t> frame;        // scratch
  std::vector<std::uint8_t> frame_bytes;  // scratch: the frame as written
  bool warned_not_reading = false;        // the socket was full: Asterisk stopped reading
  playout_report report;
  std::uint64_t ticks_since_report = 0;

  static inline const char* name = "playout";
};

playout_actor::behavior_type playout(
    metrics::instrumented_pointer<playout_actor, playout_state> self, audiosocket_writer_ptr writer,
    call_actor call, const playout_clock_actor& clock,
    std::shared_ptr<metrics::call_metrics> metrics, std::chrono::milliseconds fade,
    std::chrono::milliseconds prefill);

}  // namespace cb
