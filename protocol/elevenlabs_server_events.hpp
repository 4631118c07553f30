// Events the ElevenLabs agent sends (protocol §4), as value types. The bridge parses them; the
// fake agent server used in tests serializes them. Each is {"type": T, <payload key>: {...}}.
//
// Required members are those the protocol's examples always carry; the bridge acts on them, so an
// event without one is an error naming it. Optional members are std::optional, and a null counts
// as absent. Event types the bridge does not act on (agent_response_metadata, internal_*, mcp_*,
// context_usage, agent_chat_response_part, rich_content, queue_status, ... and any type added
// later) are unknown_event, not errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/expected.hpp"
#include "protocol/elevenlabs_json_object.hpp"
#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs {

// Sent once, first. The formats are the protocol's names, checked with parse_audio_format; the
// bridge ends the call on a name it does not know.
struct conversation_initiation_metadata_event {
  std::string conversation_id;
  std::string agent_output_audio_format;
  // The JS SDK falls back to pcm_16000 when the agent omits the input format; so does the parser.
  std::string user_input_audio_format = "pcm_16000";

  friend bool operator==(const conversation_initiation_metadata_event& a,
                         const conversation_initiation_metadata_event& b) {
    return a.conversation_id == b.conversation_id &&
           a.agent_output_audio_format == b.agent_output_audio_format &&
           a.user_input_audio_format == b.user_input_audio_format;
  }
  friend bool operator!=(const conversation_initiation_metadata_event& a,
                         const conversation_initiation_metadata_event& b) {
    return !(a == b);
  }
};

// Per-character timing of the text spoken in an audio event; times in milliseconds from the start
// of this event's audio.
struct audio_alignment {
  std::vector<std::string> chars;
  std::vector<double> char_start_times_ms;
  std::vector<double> char_durations_ms;

  friend bool operator==(const audio_alignment& a, const audio_alignment& b) {
    return a.chars == b.chars && a.char_start_times_ms == b.char_start_times_ms &&
           a.char_durations_ms == b.char_durations_ms;
  }
  friend bool operator!=(const audio_alignment& a, const audio_alignment& b) { return !(a == b); }
};

// {"type":"audio","audio_event":{"audio_base_64":…,"event_id":…,"alignment":…}}. The audio is kept
// decoded (raw bytes in agent_output_audio_format); base64 that does not decode is invalid_value.
struct audio_event {
  std::vector<std::uint8_t> audio;
  std::int64_t event_id = 0;
  std::optional<audio_alignment> alignment;

  friend bool operator==(const audio_event& a, const audio_event& b) {
    return a.audio == b.audio && a.event_id == b.event_id && a.alignment == b.alignment;
  }
  friend bool operator!=(const audio_event& a, const audio_event& b) { return !(a == b); }
};

// Final ASR text of a caller turn.
struct user_transcript_event {
  std::string user_transcript;
  std::int64_t event_id = 0;

  friend bool operator==(const user_transcript_event& a, const user_transcript_event& b) {
    return a.user_transcript == b.user_transcript && a.event_id == b.event_id;
  }
  friend bool operator!=(const user_transcript_event& a, const user_transcript_event& b) {
    return !(a == b);
  }
};

// In-progress ASR text of a caller turn.
struct tentative_user_transcript_event {
  std::string user_transcript;
  std::int64_t event_id = 0;

  friend bool operator==(const tentative_user_transcript_event& a,
                         const tentative_user_transcript_event& b) {
    return a.user_transcript == b.user_transcript && a.event_id == b.event_id;
  }
  friend bool operator!=(const tentative_user_transcript_event& a,
                         const tentative_user_transcript_event& b) {
    return !(a == b);
  }
};

// Full text of an agent turn; arrives with the turn's first audio.
struct agent_response_event {
  std::string agent_response;
  std::int64_t event_id = 0;

  friend bool operator==(const agent_response_event& a, const agent_response_event& b) {
    return a.agent_response == b.agent_response && a.event_id == b.event_id;
  }
  friend bool operator!=(const agent_response_event& a, const agent_response_event& b) {
    return !(a == b);
  }
};

// The agent turn's text as far as it was spoken before an interruption.
struct agent_response_correction_event {
  std::string original_agent_response;
  std::string corrected_agent_response;
  std::int64_t event_id = 0;

  friend bool operator==(const agent_response_correction_event& a,
                         const agent_response_correction_event& b) {
    return a.original_agent_response == b.original_agent_response &&
           a.corrected_agent_response == b.corrected_agent_response && a.event_id == b.event_id;
  }
  friend bool operator!=(const agent_response_correction_event& a,
                         const agent_response_correction_event& b) {
    return !(a == b);
  }
};

// The caller barged in: flush playback; audio of older turns (event_id < this one) is stale.
struct interruption_event {
  std::int64_t event_id = 0;

  friend bool operator==(const interruption_event& a, const interruption_event& b) {
    return a.event_id == b.event_id;
  }
  friend bool operator!=(const interruption_event& a, const interruption_event& b) {
    return !(a == b);
  }
};

// Answer at once with pong{event_id}. ping_ms is the agent's round-trip estimate, null until it has
// one; it is written as null when unset.
struct ping_event {
  std::int64_t event_id = 0;
  std::optional<std::int64_t> ping_ms;

  friend bool operator==(const ping_event& a, const ping_event& b) {
    return a.event_id == b.event_id && a.ping_ms == b.ping_ms;
  }
  friend bool operator!=(const ping_event& a, const ping_event& b) { return !(a == b); }
};

// The agent asks the client to run a tool; answer with client_tool_result{tool_call_id}.
struct client_tool_call_event {
  std::string tool_name;
  std::string tool_call_id;
  json_object parameters;
  std::int64_t event_id = 0;

  friend bool operator==(const client_tool_call_event& a, const client_tool_call_event& b) {
    return a.tool_name == b.tool_name && a.tool_call_id == b.tool_call_id &&
           a.parameters == b.parameters && a.event_id == b.event_id;
  }
  friend bool operator!=(const client_tool_call_event& a, const client_tool_call_event& b) {
    return !(a == b);
  }
};

// The agent started a server-side tool ("webhook", "system", ...).
struct agent_tool_request_event {
  std::string tool_name;
  std::string tool_call_id;
  std::string tool_type;
  std::int64_t event_id = 0;

  friend bool operator==(const agent_tool_request_event& a, const agent_tool_request_event& b) {
    return a.tool_name == b.tool_name && a.tool_call_id == b.tool_call_id &&
           a.tool_type == b.tool_type && a.event_id == b.event_id;
  }
  friend bool operator!=(const agent_tool_request_event& a, const agent_tool_request_event& b) {
    return !(a == b);
  }
};

// A server-side tool finished; tool_name "end_call" means the agent hung up.
struct agent_tool_response_event {
  std::string tool_name;
  std::string tool_call_id;
  std::string tool_type;
  bool is_error = false;
  bool is_called = false;
  std::int64_t event_id = 0;

  friend bool operator==(const agent_tool_response_event& a, const agent_tool_response_event& b) {
    return a.tool_name == b.tool_name && a.tool_call_id == b.tool_call_id &&
           a.tool_type == b.tool_type && a.is_error == b.is_error && a.is_called == b.is_called &&
           a.event_id == b.event_id;
  }
  friend bool operator!=(const agent_tool_response_event& a, const agent_tool_response_event& b) {
    return !(a == b);
  }
};

// Voice activity probability of the caller's audio, 0 to 1.
struct vad_score_event {
  double vad_score = 0;

  friend bool operator==(const vad_score_event& a, const vad_score_event& b) {
    return a.vad_score == b.vad_score;
  }
  friend bool operator!=(const vad_score_event& a, const vad_score_event& b) { return !(a == b); }
};

// How an error event arrived: {"error_event":{code, message, error_type, reason}}, or the flat
// {"message":…} seen on quota exhaustion. The serializer writes the same shape back.
enum class error_shape : std::uint8_t { nested, flat };

// Usually sent just before the agent closes the socket. Every member but the message is optional;
// a flat error carries only the message.
struct error_event {
  error_shape shape = error_shape::nested;
  std::optional<std::int64_t> code;  // the close code that follows: 1002, 1008, 1011, ...
  std::string message;
  std::optional<std::string> error_type;  // e.g. "llm_timeout", "override_error"
  std::optional<std::string> reason;

  friend bool operator==(const error_event& a, const error_event& b) {
    return a.shape == b.shape && a.code == b.code && a.message == b.message &&
           a.error_type == b.error_type && a.reason == b.reason;
  }
  friend bool operator!=(const error_event& a, const error_event& b) { return !(a == b); }
};

// Any other type: reported so the bridge can ignore it. Serializing one writes {"type": type},
// which the fake server uses to send events the bridge must skip.
struct unknown_event {
  std::string type;

  friend bool operator==(const unknown_event& a, const unknown_event& b) {
    return a.type == b.type;
  }
  friend bool operator!=(const unknown_event& a, const unknown_event& b) { return !(a == b); }
};

using server_event =
    std::variant<conversation_initiation_metadata_event, audio_event, user_transcript_event,
                 tentative_user_transcript_event, agent_response_event,
                 agent_response_correction_event, interruption_event, ping_event,
                 client_tool_call_event, agent_tool_request_event, agent_tool_response_event,
                 vad_score_event, error_event, unknown_event>;

// Copies json into a scratch buffer and parses it as parse_server_event_into does.
[[nodiscard]] expected<server_event, parse_error> parse_server_event(std::string_view json);

// Downlink hot path; audio is the agent's most frequent event. Parses json_buffer in place (it
// holds garbage afterwards, and 4 more bytes, so keep its capacity a little above the frame size):
// RapidJSON unescapes strings where they lie, so the base64 text is never copied, and the DOM lives
// in an arena on the stack. An audio event's base64 is decoded once, straight into `event`'s audio
// vector when `event` already holds an audio_event (as it does after the previous frame), reusing
// its capacity and that of the alignment vectors. Any other event replaces `event`. On error
// `event` holds an unspecified valid value.
//
// Cost per audio event, steady state: a NUL scan, one RapidJSON pass with UTF-8 validation, one
// base64 decode, and no heap allocation as long as the alignment has fewer than about 280
// characters (beyond that the arena spills into one heap chunk). Measured (g++ -O2, one core of
// this machine): 1.6 us for 20 ms of pcm_16000 (920 bytes of JSON), 16 us for 250 ms (10.7 kB),
// 19 us with a 60-character alignment.
[[nodiscard]] std::optional<parse_error> parse_server_event_into(std::string& json_buffer,
                                                                 server_event& event);

// Each appends the event's compact JSON to out.
void serialize(const conversation_initiation_metadata_event& event, std::string& out);
void serialize(const audio_event& event, std::string& out);
void serialize(const user_transcript_event& event, std::string& out);
void serialize(const tentative_user_transcript_event& event, std::string& out);
void serialize(const agent_response_event& event, std::string& out);
void serialize(const agent_response_correction_event& event, std::string& out);
void serialize(const interruption_event& event, std::string& out);
void serialize(const ping_event& event, std::string& out);
void serialize(const client_tool_call_event& event, std::string& out);
void serialize(const agent_tool_request_event& event, std::string& out);
void serialize(const agent_tool_response_event& event, std::string& out);
void serialize(const vad_score_event& event, std::string& out);
void serialize(const error_event& event, std::string& out);
void serialize(const unknown_event& event, std::string& out);
void serialize(const server_event& event, std::string& out);
[[nodiscard]] std::string serialize(const server_event& event);

}  // namespace cb::elevenlabs
