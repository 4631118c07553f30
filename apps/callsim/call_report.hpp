// What a simulated call did and heard, as the simulator reports it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "apps/callsim/frame_timing.hpp"
#include "protocol/audiosocket.hpp"

namespace cb::callsim {

// Identifies a call within one simulator; handles count up from 1.
enum class call_handle : std::uint64_t {};

enum class call_phase : std::uint8_t { waiting, connecting, connected, ended };

enum class call_end : std::uint8_t {
  none,                // still running
  caller_hangup,       // the audio was over: the simulator closed the socket
  max_time,            // call_spec::max_time ran out: the simulator closed the socket
  local_hangup,        // simulator::hangup() or stop()
  server_hangup,       // the server sent 0x00 (the simulator then closed, as Asterisk does)
  server_close,        // EOF from the server
  connection_reset,    // ECONNRESET or EPIPE
  connect_failed,      // refused, unreachable, timed out, out of descriptors
  protocol_violation,  // torn down as Asterisk does on a forbidden or malformed frame
  socket_error,        // any other socket failure; see call_report::error_number
};
inline constexpr std::size_t call_end_count = 10;

[[nodiscard]] const char* to_string(call_phase p);
[[nodiscard]] const char* to_string(call_end e);
// Ends that say nothing is wrong with the server or the network.
[[nodiscard]] bool is_clean(call_end e);

struct received_frame {
  static constexpr std::uint32_t no_pcm = std::numeric_limits<std::uint32_t>::max();

  std::int64_t arrival_ns = 0;        // CLOCK_MONOTONIC
  float level_dbfs = 0.0F;            // audio frames: RMS level
  float frequency_hz = 0.0F;          // audio frames: zero-crossing estimate, 0 below two crossings
  std::uint32_t pcm_offset = no_pcm;  // index of its first sample in call_report::pcm
  std::uint16_t length = 0;
  audiosocket::kind k = audiosocket::kind::hangup;
};

struct latency_stats {
  std::uint64_t count = 0;
  double min_ms = 0.0;
  double p50_ms = 0.0;
  double p99_ms = 0.0;
  double max_ms = 0.0;
};

struct call_report {
  call_handle handle{};
  std::string uuid;  // as sent: 8-4-4-4-12, or the 16 ASCII characters
  call_phase phase = call_phase::waiting;
  call_end end = call_end::none;
  int error_number = 0;  // errno behind connect_failed, connection_reset, socket_error
  std::string detail;    // the first protocol violation, or the error's text
  // CLOCK_MONOTONIC ns; 0 until reached.
  std::int64_t connecting_ns = 0;
  std::int64_t connected_ns = 0;
  std::int64_t ended_ns = 0;

  std::uint64_t audio_frames_sent = 0;
  std::uint64_t audio_bytes_sent = 0;
  std::uint64_t dtmf_sent = 0;
  // Frames not sent because the server stopped reading and the socket and the call's output
  // buffer were full.
  std::uint64_t frames_dropped = 0;
  // The simulator's own timeliness: audio frames that left more than timing.late_after after their
  // slot (an overloaded simulator, not a slow server), and the worst lag.
  std::uint64_t late_sends = 0;
  double max_send_lag_ms = 0.0;

  std::uint64_t frames_received = 0;
  std::uint64_t audio_frames_received = 0;
  std::uint64_t audio_bytes_received = 0;
  bool server_sent_hangup = false;
  bool server_closed = false;
  std::uint64_t protocol_violations = 0;

  timing_stats timing;              // of the audio frames received
  latency_stats downlink;           // stamps found in received audio: arrival - stamp
  double heard_ms = 0.0;            // received audio above the silence threshold
  std::int64_t first_heard_ns = 0;  // arrival of the first such frame; 0 if none
  std::int64_t last_heard_ns = 0;
  double heard_hz = 0.0;  // dominant frequency of the heard frames logged

  // Arrival of each audio frame in which heard audio stopped: its last 10 ms below
  // call_spec::silence_threshold_dbfs while the frame before ended above it (a barge-in's short
  // fade-out into silence, or the end of a turn). Up to max_events.
  std::vector<std::int64_t> audio_stops_ns;
  // The reverse: each audio frame whose last 10 ms are heard after one that ended quiet (the first
  // frame counts when heard). Between a start and the next stop the caller hears audio.
  std::vector<std::int64_t> audio_starts_ns;
  // With a tone_bursts_source and stamps: the send time (the stamp) of every tone frame sent, up to
  // max_events.
  std::vector<std::int64_t> speech_sent_ns;
  static constexpr std::size_t max_events = 20000;

  std::vector<received_frame> frames;  // every frame received, up to max_logged_frames
  bool frames_truncated = false;
  std::vector<std::int16_t> pcm;  // with record_pcm: the audio frames' samples, in order
  bool pcm_truncated = false;
};

// A cheap snapshot for live displays: counters only.
struct call_status {
  call_phase phase = call_phase::waiting;
  call_end end = call_end::none;
  std::uint64_t audio_frames_sent = 0;
  std::uint64_t audio_frames_received = 0;
  // Running sums over all received audio; the level over an interval is the difference of two
  // snapshots: 10 * log10(d_energy / d_samples) dBFS, as codecs::level_dbfs measures.
  double received_energy = 0.0;  // sum of squared samples, full scale = 1
  std::uint64_t received_samples = 0;
  float last_frequency_hz = 0.0F;
};

struct aggregate_report {
  std::uint64_t calls = 0;
  std::array<std::uint64_t, call_end_count> ends{};  // indexed by call_end; none = running
  std::uint64_t audio_frames_sent = 0;
  std::uint64_t audio_frames_received = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t late_sends = 0;
  double max_send_lag_ms = 0.0;
  std::uint64_t protocol_violations = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t bursts = 0;
  std::uint64_t pauses = 0;
  // Over every call's received gaps together.
  double deviation_p50_ms = 0.0;
  double deviation_p99_ms = 0.0;
  double deviation_max_ms = 0.0;
  latency_stats downlink;
};

}  // namespace cb::callsim
