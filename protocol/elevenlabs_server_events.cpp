#include "protocol/elevenlabs_server_events.hpp"

#include <type_traits>
#include <utility>

#include "protocol/elevenlabs_json.hpp"

namespace cb::elevenlabs {
namespace {

using detail::field_reader;
using detail::json_writer;
using detail::presence;

// Each event's `type` and the key of its payload object.
template <class Event>
struct wire;
template <>
struct wire<conversation_initiation_metadata_event> {
  static constexpr std::string_view type = "conversation_initiation_metadata";
  static constexpr std::string_view payload = "conversation_initiation_metadata_event";
};
template <>
struct wire<audio_event> {
  static constexpr std::string_view type = "audio";
  static constexpr std::string_view payload = "audio_event";
};
template <>
struct wire<user_transcript_event> {
  static constexpr std::string_view type = "user_transcript";
  static constexpr std::string_view payload = "user_transcription_event";
};
template <>
struct wire<tentative_user_transcript_event> {
  static constexpr std::string_view type = "tentative_user_transcript";
  static constexpr std::string_view payload = "tentative_user_transcription_event";
};
template <>
struct wire<agent_response_event> {
  static constexpr std::string_view type = "agent_response";
  static constexpr std::string_view payload = "agent_response_event";
};
template <>
struct wire<agent_response_correction_event> {
  static constexpr std::string_view type = "agent_response_correction";
  static constexpr std::string_view payload = "agent_response_correction_event";
};
template <>
struct wire<interruption_event> {
  static constexpr std::string_view type = "interruption";
  static constexpr std::string_view payload = "interruption_event";
};
template <>
struct wire<ping_event> {
  static constexpr std::string_view type = "ping";
  static constexpr std::string_view payload = "ping_event";
};
template <>
struct wire<client_tool_call_event> {
  static constexpr std::string_view type = "client_tool_call";
  static constexpr std::string_view payload = "client_tool_call";
};
template <>
struct wire<agent_tool_request_event> {
  static constexpr std::string_view type = "agent_tool_request";
  static constexpr std::string_view payload = "agent_tool_request";
};
template <>
struct wire<agent_tool_response_event> {
  static constexpr std::string_view type = "agent_tool_response";
  static constexpr std::string_view payload = "agent_tool_response";
};
template <>
struct wire<vad_score_event> {
  static constexpr std::string_view type = "vad_score";
  static constexpr std::string_view payload = "vad_score_event";
};

constexpr std::string_view error_type = "error";
constexpr std::string_view error_payload = "error_event";
constexpr std::string_view default_user_input_audio_format = "pcm_16000";

void read_fields(field_reader& p, conversation_initiation_metadata_event& e) {
  p.read("conversation_id", e.conversation_id);
  p.read("agent_output_audio_format", e.agent_output_audio_format);
  std::optional<std::string> input;
  p.read("user_input_audio_format", input);
  e.user_input_audio_format = input.value_or(std::string(default_user_input_audio_format));
}

void read_fields(field_reader& p, audio_event& e) {
  p.read_base64("audio_base_64", e.audio);
  p.read("event_id", e.event_id);
  if (auto alignment = p.child("alignment", presence::optional)) {
    if (!e.alignment) e.alignment.emplace();
    alignment->read("chars", e.alignment->chars);
    alignment->read("char_start_times_ms", e.alignment->char_start_times_ms);
    alignment->read("char_durations_ms", e.alignment->char_durations_ms);
  } else {
    e.alignment.reset();
  }
}

void read_fields(field_reader& p, user_transcript_event& e) {
  p.read("user_transcript", e.user_transcript);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, tentative_user_transcript_event& e) {
  p.read("user_transcript", e.user_transcript);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, agent_response_event& e) {
  p.read("agent_response", e.agent_response);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, agent_response_correction_event& e) {
  p.read("original_agent_response", e.original_agent_response);
  p.read("corrected_agent_response", e.corrected_agent_response);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, interruption_event& e) {
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, ping_event& e) {
  p.read("event_id", e.event_id);
  p.read("ping_ms", e.ping_ms);
}

void read_fields(field_reader& p, client_tool_call_event& e) {
  p.read("tool_name", e.tool_name);
  p.read("tool_call_id", e.tool_call_id);
  p.read("parameters", e.parameters);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, agent_tool_request_event& e) {
  p.read("tool_name", e.tool_name);
  p.read("tool_call_id", e.tool_call_id);
  p.read("tool_type", e.tool_type);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, agent_tool_response_event& e) {
  p.read("tool_name", e.tool_name);
  p.read("tool_call_id", e.tool_call_id);
  p.read("tool_type", e.tool_type);
  p.read("is_error", e.is_error);
  p.read("is_called", e.is_called);
  p.read("event_id", e.event_id);
}

void read_fields(field_reader& p, vad_score_event& e) {
  p.read("vad_score", e.vad_score);
}

// The previous audio event's buffers are worth keeping (the next frame is most likely audio too);
// every other event starts from a fresh value.
template <class Event>
Event& fresh_or_reused(server_event& event) {
  if constexpr (std::is_same_v<Event, audio_event>) {
    if (auto* reused = std::get_if<audio_event>(&event)) return *reused;
  }
  return event.emplace<Event>();
}

template <class Event>
bool read_if_type(std::string_view type, field_reader& root, server_event& event) {
  if (type != wire<Event>::type) return false;
  auto& e = fresh_or_reused<Event>(event);
  if (auto payload = root.child(wire<Event>::payload, presence::required)) read_fields(*payload, e);
  return true;
}

// Both shapes the agent uses, read the way the SDKs do: error_event?.member, else the top-level
// message.
void read_error(field_reader& root, server_event& event) {
  auto& e = event.emplace<error_event>();
  if (auto nested = root.child(error_payload, presence::optional)) {
    std::optional<std::string> message;
    nested->read("code", e.code);
    nested->read("message", message);
    nested->read("error_type", e.error_type);
    nested->read("reason", e.reason);
    e.message = std::move(message).value_or(std::string());
    return;
  }
  if (!root.ok()) return;
  if (!root.has("message")) {
    root.fail(parse_error_code::missing_field, error_payload,
              "an error has neither error_event nor a top-level message");
    return;
  }
  e.shape = error_shape::flat;
  root.read("message", e.message);
}

void read_server_event(field_reader& root, server_event& event) {
  std::string_view type;
  root.read("type", type);
  if (!root.ok()) return;
  // Audio first: it is most of the traffic.
  const bool known = read_if_type<audio_event>(type, root, event) ||
                     read_if_type<ping_event>(type, root, event) ||
                     read_if_type<interruption_event>(type, root, event) ||
                     read_if_type<agent_response_event>(type, root, event) ||
                     read_if_type<user_transcript_event>(type, root, event) ||
                     read_if_type<tentative_user_transcript_event>(type, root, event) ||
                     read_if_type<agent_response_correction_event>(type, root, event) ||
                     read_if_type<vad_score_event>(type, root, event) ||
                     read_if_type<conversation_initiation_metadata_event>(type, root, event) ||
                     read_if_type<client_tool_call_event>(type, root, event) ||
                     read_if_type<agent_tool_request_event>(type, root, event) ||
                     read_if_type<agent_tool_response_event>(type, root, event);
  if (known) return;
  if (type == error_type) {
    read_error(root, event);
    return;
  }
  event.emplace<unknown_event>().type = std::string(type);
}

void write_fields(json_writer& w, const conversation_initiation_metadata_event& e) {
  w.key("conversation_id").string(e.conversation_id);
  w.key("agent_output_audio_format").string(e.agent_output_audio_format);
  w.key("user_input_audio_format").string(e.user_input_audio_format);
}

void write_fields(json_writer& w, const audio_event& e) {
  w.key("audio_base_64").base64(e.audio);
  w.key("event_id").integer(e.event_id);
  if (e.alignment) {
    w.key("alignment").begin_object();
    w.key("chars").strings(e.alignment->chars);
    w.key("char_start_times_ms").numbers(e.alignment->char_start_times_ms);
    w.key("char_durations_ms").numbers(e.alignment->char_durations_ms);
    w.end_object();
  }
}

void write_fields(json_writer& w, const user_transcript_event& e) {
  w.key("user_transcript").string(e.user_transcript).key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const tentative_user_transcript_event& e) {
  w.key("user_transcript").string(e.user_transcript).key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const agent_response_event& e) {
  w.key("agent_response").string(e.agent_response).key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const agent_response_correction_event& e) {
  w.key("original_agent_response").string(e.original_agent_response);
  w.key("corrected_agent_response").string(e.corrected_agent_response);
  w.key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const interruption_event& e) {
  w.key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const ping_event& e) {
  w.key("event_id").integer(e.event_id).key("ping_ms");
  if (e.ping_ms) {
    w.integer(*e.ping_ms);
  } else {
    w.null();
  }
}

void write_fields(json_writer& w, const client_tool_call_event& e) {
  w.key("tool_name").string(e.tool_name).key("tool_call_id").string(e.tool_call_id);
  w.key("parameters").raw(e.parameters).key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const agent_tool_request_event& e) {
  w.key("tool_name").string(e.tool_name).key("tool_call_id").string(e.tool_call_id);
  w.key("tool_type").string(e.tool_type).key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const agent_tool_response_event& e) {
  w.key("tool_name").string(e.tool_name).key("tool_call_id").string(e.tool_call_id);
  w.key("tool_type").string(e.tool_type);
  w.key("is_error").boolean(e.is_error).key("is_called").boolean(e.is_called);
  w.key("event_id").integer(e.event_id);
}

void write_fields(json_writer& w, const vad_score_event& e) {
  w.key("vad_score").number(e.vad_score);
}

template <class Event>
void write_wrapped(const Event& e, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string(wire<Event>::type);
  w.key(wire<Event>::payload).begin_object();
  write_fields(w, e);
  w.end_object().end_object();
}

}  // namespace

std::optional<parse_error> parse_server_event_into(std::string& json_buffer, server_event& event) {
  detail::parsed_document document;
  if (auto error = document.parse_object_in_place(json_buffer)) return error;
  std::optional<parse_error> error;
  field_reader root(document.root(), error);
  read_server_event(root, event);
  return error;
}

expected<server_event, parse_error> parse_server_event(std::string_view json) {
  std::string buffer = detail::padded_copy(json);
  server_event event;
  if (auto error = parse_server_event_into(buffer, event)) return unexpected{std::move(*error)};
  return event;
}

void serialize(const conversation_initiation_metadata_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const audio_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const user_transcript_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const tentative_user_transcript_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const agent_response_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const agent_response_correction_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const interruption_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const ping_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const client_tool_call_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const agent_tool_request_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const agent_tool_response_event& event, std::string& out) {
  write_wrapped(event, out);
}
void serialize(const vad_score_event& event, std::string& out) {
  write_wrapped(event, out);
}

void serialize(const error_event& event, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string(error_type);
  if (event.shape == error_shape::flat) {
    w.key("message").string(event.message);
  } else {
    w.key(error_payload).begin_object();
    w.member("code", event.code);
    w.key("message").string(event.message);
    w.member("error_type", event.error_type);
    w.member("reason", event.reason);
    w.end_object();
  }
  w.end_object();
}

void serialize(const unknown_event& event, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string(event.type).end_object();
}

void serialize(const server_event& event, std::string& out) {
  std::visit([&out](const auto& e) { serialize(e, out); }, event);
}

std::string serialize(const server_event& event) {
  std::string out;
  serialize(event, out);
  return out;
}

}  // namespace cb::elevenlabs
