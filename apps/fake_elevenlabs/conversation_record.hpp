// What the fake agent saw and did in one conversation, for tests to inspect: everything the
// client sent (decoded and analysed), every protocol slip, and what the agent sent back. Times are
// std::chrono::steady_clock (CLOCK_MONOTONIC on Linux), comparable with the caller's clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/elevenlabs_client_messages.hpp"

namespace cb::fake_elevenlabs {

using clock = std::chrono::steady_clock;

// A stretch of caller audio louder than the VAD threshold with one steady frequency (a tone, or
// a stretch of speech whose zero-crossing rate stays put). Milliseconds of received audio from
// the conversation's first user_audio_chunk.
struct audio_segment {
  double start_ms = 0;
  double duration_ms = 0;
  double frequency_hz = 0;  // mean of the 20 ms windows' estimates
  double level_dbfs = 0;    // loudest window
};

struct user_audio_record {
  std::uint64_t chunks = 0;
  std::uint64_t bytes = 0;                   // decoded audio bytes
  double received_ms = 0;                    // audio duration of all chunks, in the input format
  double voiced_ms = 0;                      // of which louder than the VAD threshold
  std::uint64_t chunks_before_metadata = 0;  // protocol violation: sent before the format was named
  std::optional<clock::time_point> first_chunk_at;
  std::optional<clock::time_point> last_chunk_at;
  std::vector<audio_segment> segments;  // capped at max_segments; later ones are dropped
  // Uplink latency of the caller frames the call simulator stamped (apps/callsim/audio_stamp.hpp):
  // arrival of the chunk minus the stamp. Stamps survive only when the bridge passes linear PCM
  // at the caller's rate bit-exact. The list keeps the first max_stamp_latencies; the totals all.
  std::vector<std::chrono::nanoseconds> stamp_latencies;
  std::uint64_t stamps = 0;
  std::chrono::nanoseconds stamp_latency_sum{0};
  std::chrono::nanoseconds stamp_latency_max{0};

  static constexpr std::size_t max_segments = 10000;
  static constexpr std::size_t max_stamp_latencies = 3000;

  // Frequency of the longest segment, 0 without any.
  [[nodiscard]] double dominant_frequency_hz() const;
  // Total duration of the segments within tolerance_hz of frequency_hz.
  [[nodiscard]] double voiced_ms_near(double frequency_hz, double tolerance_hz) const;
};

// A caller turn the VAD found: speech followed by enough silence.
struct user_turn_record {
  std::int64_t event_id = 0;  // the id of the user_transcript sent for it (0 if none)
  double start_ms = 0;
  double voiced_ms = 0;
  double frequency_hz = 0;
  clock::time_point ended_at;
};

// A turn the agent spoke (or began to).
struct agent_turn_record {
  std::int64_t event_id = 0;
  std::string text;          // the agent_response, empty for audio without text
  double audio_ms = 0;       // audio queued for sending so far
  std::uint64_t chunks = 0;  // audio events
  clock::time_point started_at;
  bool interrupted = false;
};

// One interruption the agent sent.
struct interruption_record {
  std::int64_t event_id = 0;
  std::optional<clock::time_point> sent_at;  // when lws_write took the frame
  // When caller speech caused it: the send time in the stamp (apps/callsim/audio_stamp.hpp) of
  // the caller frame holding the latest voiced audio, if the caller's audio was stamped.
  std::optional<std::int64_t> caller_stamp_ns;
};

struct tool_result_record {
  elevenlabs::client_tool_result result;
  bool matches_call = false;  // tool_call_id is one the agent sent
  clock::time_point received_at;
};

struct ping_record {
  std::uint64_t pings_sent = 0;
  std::uint64_t pongs_matched = 0;
  std::uint64_t pongs_unmatched = 0;  // event_id of no outstanding ping (wrong, repeated, late)
  std::uint64_t pongs_missing = 0;    // pings still unanswered when the next ping went out
  std::vector<std::chrono::microseconds> rtts;
};

struct close_frame {
  int code = 0;  // 1005 when the frame carried no status
  std::string reason;
};

enum class close_kind : std::uint8_t {
  open,            // still connected
  client_close,    // the client sent a close frame first (see client_close)
  server_close,    // the agent closed (see server_close); client_close holds its echo if seen
  dropped,         // TCP went away without a close frame from either side
  server_stopped,  // server::stop() tore the connection down
};

struct conversation_record {
  std::string agent_id;
  std::string conversation_id;
  std::string subprotocol;               // "convai" or empty
  std::optional<std::string> signature;  // conversation_signature used, if any
  bool authorized_by_api_key_header = false;
  clock::time_point connected_at;
  std::optional<clock::time_point> metadata_sent_at;
  bool metadata_after_init_timeout = false;  // no init message came within the timeout

  // conversation_initiation_client_data as parsed, and its JSON text as received.
  std::optional<elevenlabs::conversation_initiation_client_data> init;
  std::string init_json;
  std::optional<clock::time_point> init_received_at;
  std::uint64_t init_messages = 0;

  user_audio_record user_audio;
  std::vector<user_turn_record> user_turns;
  std::vector<std::string> user_messages;
  std::vector<elevenlabs::contextual_update> contextual_updates;
  std::uint64_t user_activities = 0;
  std::vector<tool_result_record> tool_results;
  std::vector<std::string> other_messages;  // types of other valid client messages, in order

  ping_record pings;

  std::vector<agent_turn_record> agent_turns;
  std::vector<std::string> tool_calls_sent;  // tool_call_ids
  std::vector<interruption_record> interruptions;
  // The latest interruption's id, and when lws_write took its frame.
  std::optional<std::int64_t> interruption_event_id;
  std::optional<clock::time_point> interruption_sent_at;
  std::uint64_t stale_chunks_sent = 0;
  std::uint64_t server_messages_sent = 0;

  // Protocol violations and invalid input, one line each.
  std::vector<std::string> errors;

  close_kind state = close_kind::open;
  std::optional<close_frame> client_close;  // close frame received from the client
  std::optional<close_frame> server_close;  // close frame the agent sent
  std::optional<clock::time_point> closed_at;
};

}  // namespace cb::fake_elevenlabs
