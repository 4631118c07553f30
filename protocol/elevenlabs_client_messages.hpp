// Messages the bridge sends to the ElevenLabs agent (protocol §3), as value types. The bridge
// serializes them; the fake agent server used in tests parses them. Every message is one JSON text
// frame with a `type`, except user_audio_chunk, which is recognised by its only member.
//
// Optional members are std::optional and are written only when set; a parsed null counts as absent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/expected.hpp"
#include "protocol/elevenlabs_json_object.hpp"
#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs {

// --- conversation_initiation_client_data (§3.1) -------------------------------------------------
// Every override field must be enabled in the agent's security settings, or the agent closes the
// conversation (1008 override_error).

struct prompt_override {
  std::optional<std::string> prompt;
  std::optional<std::string> llm;

  friend bool operator==(const prompt_override& a, const prompt_override& b) {
    return a.prompt == b.prompt && a.llm == b.llm;
  }
  friend bool operator!=(const prompt_override& a, const prompt_override& b) { return !(a == b); }
};

struct agent_override {
  std::optional<prompt_override> prompt;
  std::optional<std::string> first_message;  // empty: the agent waits for the caller to speak
  std::optional<std::string> language;       // e.g. "en", "de", "pt-br"

  friend bool operator==(const agent_override& a, const agent_override& b) {
    return a.prompt == b.prompt && a.first_message == b.first_message && a.language == b.language;
  }
  friend bool operator!=(const agent_override& a, const agent_override& b) { return !(a == b); }
};

struct tts_override {
  std::optional<std::string> voice_id;
  std::optional<double> speed;             // 0.7 to 5
  std::optional<double> stability;         // 0 to 1
  std::optional<double> similarity_boost;  // 0 to 1

  friend bool operator==(const tts_override& a, const tts_override& b) {
    return a.voice_id == b.voice_id && a.speed == b.speed && a.stability == b.stability &&
           a.similarity_boost == b.similarity_boost;
  }
  friend bool operator!=(const tts_override& a, const tts_override& b) { return !(a == b); }
};

struct asr_override {
  std::optional<std::vector<std::string>> keywords;

  friend bool operator==(const asr_override& a, const asr_override& b) {
    return a.keywords == b.keywords;
  }
  friend bool operator!=(const asr_override& a, const asr_override& b) { return !(a == b); }
};

struct conversation_override {
  std::optional<bool> text_only;
  std::optional<std::vector<std::string>> client_events;  // server event types to receive

  friend bool operator==(const conversation_override& a, const conversation_override& b) {
    return a.text_only == b.text_only && a.client_events == b.client_events;
  }
  friend bool operator!=(const conversation_override& a, const conversation_override& b) {
    return !(a == b);
  }
};

// conversation_config_override with the fields the protocol documents as overridable.
struct config_override {
  std::optional<agent_override> agent;
  std::optional<tts_override> tts;
  std::optional<asr_override> asr;
  std::optional<conversation_override> conversation;

  friend bool operator==(const config_override& a, const config_override& b) {
    return a.agent == b.agent && a.tts == b.tts && a.asr == b.asr &&
           a.conversation == b.conversation;
  }
  friend bool operator!=(const config_override& a, const config_override& b) { return !(a == b); }
};

// Typed fields, or an operator's override object embedded verbatim (so fields this struct does not
// model still reach the agent). Parsing always yields the typed form.
using config_override_payload = std::variant<config_override, json_object>;

// A dynamic variable keeps its JSON type: string, integer, other number, or boolean.
using dynamic_variable = json_scalar;
using dynamic_variable_map = std::map<std::string, dynamic_variable>;

// Reads an operator's dynamic_variables object; a value that is not a string, number or boolean is
// wrong_type naming it ("dynamic_variables.<name>"). Duplicate names keep the first value.
[[nodiscard]] expected<dynamic_variable_map, parse_error> parse_dynamic_variables(
    std::string_view json);

struct client_source_info {
  std::optional<std::string> source;  // e.g. "js_sdk"
  std::optional<std::string> version;

  friend bool operator==(const client_source_info& a, const client_source_info& b) {
    return a.source == b.source && a.version == b.version;
  }
  friend bool operator!=(const client_source_info& a, const client_source_info& b) {
    return !(a == b);
  }
};

struct conversation_initiation_client_data {
  std::optional<config_override_payload> conversation_config_override;
  std::optional<json_object> custom_llm_extra_body;
  std::optional<dynamic_variable_map> dynamic_variables;  // top level, not inside the override
  std::optional<std::string> user_id;
  std::optional<client_source_info> source_info;

  friend bool operator==(const conversation_initiation_client_data& a,
                         const conversation_initiation_client_data& b) {
    return a.conversation_config_override == b.conversation_config_override &&
           a.custom_llm_extra_body == b.custom_llm_extra_body &&
           a.dynamic_variables == b.dynamic_variables && a.user_id == b.user_id &&
           a.source_info == b.source_info;
  }
  friend bool operator!=(const conversation_initiation_client_data& a,
                         const conversation_initiation_client_data& b) {
    return !(a == b);
  }
};

// --- audio, keep-alive, text (§3.2) --------------------------------------------------------------

// {"user_audio_chunk":"<base64>"}: raw bytes in the agent's user_input_audio_format.
struct user_audio_chunk {
  std::vector<std::uint8_t> audio;

  friend bool operator==(const user_audio_chunk& a, const user_audio_chunk& b) {
    return a.audio == b.audio;
  }
  friend bool operator!=(const user_audio_chunk& a, const user_audio_chunk& b) { return !(a == b); }
};

// Echoes ping_event.event_id.
struct pong {
  std::int64_t event_id = 0;

  friend bool operator==(const pong& a, const pong& b) { return a.event_id == b.event_id; }
  friend bool operator!=(const pong& a, const pong& b) { return !(a == b); }
};

// Treated like a spoken user turn: triggers a response and can interrupt.
struct user_message {
  std::string text;
  std::optional<std::string> rich_content_id;

  friend bool operator==(const user_message& a, const user_message& b) {
    return a.text == b.text && a.rich_content_id == b.rich_content_id;
  }
  friend bool operator!=(const user_message& a, const user_message& b) { return !(a == b); }
};

// Background information that does not interrupt; per context_id only the latest one is kept.
struct contextual_update {
  std::string text;
  std::optional<std::string> context_id;

  friend bool operator==(const contextual_update& a, const contextual_update& b) {
    return a.text == b.text && a.context_id == b.context_id;
  }
  friend bool operator!=(const contextual_update& a, const contextual_update& b) {
    return !(a == b);
  }
};

// Resets the agent's turn and inactivity timers.
struct user_activity {
  friend bool operator==(const user_activity& /*a*/, const user_activity& /*b*/) { return true; }
  friend bool operator!=(const user_activity& /*a*/, const user_activity& /*b*/) { return false; }
};

// --- tools, feedback, files (§3.3) ---------------------------------------------------------------

struct client_tool_result {
  std::string tool_call_id;
  std::string result;  // always a string on the wire; structured results are JSON text
  bool is_error = false;

  friend bool operator==(const client_tool_result& a, const client_tool_result& b) {
    return a.tool_call_id == b.tool_call_id && a.result == b.result && a.is_error == b.is_error;
  }
  friend bool operator!=(const client_tool_result& a, const client_tool_result& b) {
    return !(a == b);
  }
};

struct mcp_tool_approval_result {
  std::string tool_call_id;
  bool is_approved = false;

  friend bool operator==(const mcp_tool_approval_result& a, const mcp_tool_approval_result& b) {
    return a.tool_call_id == b.tool_call_id && a.is_approved == b.is_approved;
  }
  friend bool operator!=(const mcp_tool_approval_result& a, const mcp_tool_approval_result& b) {
    return !(a == b);
  }
};

enum class feedback_score : std::uint8_t { like, dislike };

// Rates the agent turn event_id. A nullopt score is written as null, as the protocol specifies.
struct feedback {
  std::int64_t event_id = 0;
  std::optional<feedback_score> score;

  friend bool operator==(const feedback& a, const feedback& b) {
    return a.event_id == b.event_id && a.score == b.score;
  }
  friend bool operator!=(const feedback& a, const feedback& b) { return !(a == b); }
};

// Text and/or a previously uploaded file, as
// {"text":{"type":"user_message","text":…},"file":{"type":"file_input","file_id":…}}.
struct multimodal_message {
  std::optional<std::string> text;
  std::optional<std::string> file_id;

  friend bool operator==(const multimodal_message& a, const multimodal_message& b) {
    return a.text == b.text && a.file_id == b.file_id;
  }
  friend bool operator!=(const multimodal_message& a, const multimodal_message& b) {
    return !(a == b);
  }
};

using client_message =
    std::variant<conversation_initiation_client_data, user_audio_chunk, pong, user_message,
                 contextual_update, user_activity, client_tool_result, mcp_tool_approval_result,
                 feedback, multimodal_message>;

// A message is user_audio_chunk when it has that member (whatever else it has); otherwise `type`
// selects the message, and a type this protocol does not define is unknown_type. Members the
// protocol adds later are ignored.
[[nodiscard]] expected<client_message, parse_error> parse_client_message(std::string_view json);

// Per-frame uplink path: appends {"user_audio_chunk":"<base64 of audio>"} to out, encoding straight
// into out's tail (no DOM, no temporary; no allocation once out's capacity suffices).
void append_user_audio_chunk(std::string& out, const std::uint8_t* audio, std::size_t n);

// Each appends the message's compact JSON to out.
void serialize(const conversation_initiation_client_data& message, std::string& out);
// A dynamic_variables object on its own (call records keep it).
void serialize(const dynamic_variable_map& variables, std::string& out);
void serialize(const user_audio_chunk& message, std::string& out);
void serialize(const pong& message, std::string& out);
void serialize(const user_message& message, std::string& out);
void serialize(const contextual_update& message, std::string& out);
void serialize(const user_activity& message, std::string& out);
void serialize(const client_tool_result& message, std::string& out);
void serialize(const mcp_tool_approval_result& message, std::string& out);
void serialize(const feedback& message, std::string& out);
void serialize(const multimodal_message& message, std::string& out);
void serialize(const client_message& message, std::string& out);
[[nodiscard]] std::string serialize(const client_message& message);

}  // namespace cb::elevenlabs
