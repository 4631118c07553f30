#include "protocol/elevenlabs_client_messages.hpp"

#include <string_view>
#include <utility>

#include "codecs/base64.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::elevenlabs {
namespace {

using detail::field_reader;
using detail::json_writer;
using detail::presence;

constexpr std::string_view user_audio_chunk_key = "user_audio_chunk";

// Offending type names go into error details; keep a hostile one from bloating the log line.
std::string quoted_excerpt(std::string_view text) {
  constexpr std::size_t max_chars = 64;
  std::string quoted = "\"";
  quoted += text.substr(0, max_chars);
  quoted += text.size() > max_chars ? "...\"" : "\"";
  return quoted;
}

config_override read_config_override(field_reader& r) {
  config_override c;
  if (auto agent = r.child("agent", presence::optional)) {
    agent_override a;
    if (auto prompt = agent->child("prompt", presence::optional)) {
      prompt_override p;
      prompt->read("prompt", p.prompt);
      prompt->read("llm", p.llm);
      a.prompt = std::move(p);
    }
    agent->read("first_message", a.first_message);
    agent->read("language", a.language);
    c.agent = std::move(a);
  }
  if (auto tts = r.child("tts", presence::optional)) {
    tts_override t;
    tts->read("voice_id", t.voice_id);
    tts->read("speed", t.speed);
    tts->read("stability", t.stability);
    tts->read("similarity_boost", t.similarity_boost);
    c.tts = std::move(t);
  }
  if (auto asr = r.child("asr", presence::optional)) {
    asr_override a;
    asr->read("keywords", a.keywords);
    c.asr = std::move(a);
  }
  if (auto conversation = r.child("conversation", presence::optional)) {
    conversation_override o;
    conversation->read("text_only", o.text_only);
    conversation->read("client_events", o.client_events);
    c.conversation = std::move(o);
  }
  return c;
}

dynamic_variable_map read_dynamic_variables(field_reader& r) {
  dynamic_variable_map variables;
  const auto& object = r.object();
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
    std::string name(m->name.GetString(), m->name.GetStringLength());
    auto value = detail::to_scalar(m->value);
    if (!value) {
      r.fail(parse_error_code::wrong_type, name, "expected a string, number or boolean");
      break;
    }
    variables.emplace(std::move(name), std::move(*value));
  }
  return variables;
}

conversation_initiation_client_data read_initiation(field_reader& r) {
  conversation_initiation_client_data m;
  if (auto o = r.child("conversation_config_override", presence::optional)) {
    m.conversation_config_override = read_config_override(*o);
  }
  r.read("custom_llm_extra_body", m.custom_llm_extra_body);
  if (auto d = r.child("dynamic_variables", presence::optional)) {
    m.dynamic_variables = read_dynamic_variables(*d);
  }
  r.read("user_id", m.user_id);
  if (auto s = r.child("source_info", presence::optional)) {
    client_source_info info;
    s->read("source", info.source);
    s->read("version", info.version);
    m.source_info = std::move(info);
  }
  return m;
}

feedback read_feedback(field_reader& r) {
  feedback m;
  r.read("event_id", m.event_id);
  std::optional<std::string_view> score;
  r.read("score", score);
  if (!score) return m;
  if (*score == "like") {
    m.score = feedback_score::like;
  } else if (*score == "dislike") {
    m.score = feedback_score::dislike;
  } else {
    r.fail(parse_error_code::invalid_value, "score",
           R"(expected "like", "dislike" or null, got )" + quoted_excerpt(*score));
  }
  return m;
}

multimodal_message read_multimodal(field_reader& r) {
  multimodal_message m;
  if (auto text = r.child("text", presence::optional)) {
    std::string t;
    text->read("text", t);
    m.text = std::move(t);
  }
  if (auto file = r.child("file", presence::optional)) {
    std::string id;
    file->read("file_id", id);
    m.file_id = std::move(id);
  }
  return m;
}

client_message read_client_message(field_reader& r) {
  if (r.has(user_audio_chunk_key)) {
    user_audio_chunk m;
    r.read_base64(user_audio_chunk_key, m.audio);
    return m;
  }
  std::string_view type;
  r.read("type", type);
  if (!r.ok()) return {};
  if (type == "pong") {
    pong m;
    r.read("event_id", m.event_id);
    return m;
  }
  if (type == "conversation_initiation_client_data") return read_initiation(r);
  if (type == "user_message") {
    user_message m;
    r.read("text", m.text);
    r.read("rich_content_id", m.rich_content_id);
    return m;
  }
  if (type == "contextual_update") {
    contextual_update m;
    r.read("text", m.text);
    r.read("context_id", m.context_id);
    return m;
  }
  if (type == "user_activity") return user_activity{};
  if (type == "client_tool_result") {
    client_tool_result m;
    r.read("tool_call_id", m.tool_call_id);
    r.read("result", m.result);
    r.read("is_error", m.is_error);
    return m;
  }
  if (type == "mcp_tool_approval_result") {
    mcp_tool_approval_result m;
    r.read("tool_call_id", m.tool_call_id);
    r.read("is_approved", m.is_approved);
    return m;
  }
  if (type == "feedback") return read_feedback(r);
  if (type == "multimodal_message") return read_multimodal(r);
  r.fail(parse_error_code::unknown_type, "type",
         quoted_excerpt(type) + " is not a client message type");
  return {};
}

void write_config_override(json_writer& w, const config_override& c) {
  w.begin_object();
  if (c.agent) {
    w.key("agent").begin_object();
    if (c.agent->prompt) {
      w.key("prompt").begin_object();
      w.member("prompt", c.agent->prompt->prompt);
      w.member("llm", c.agent->prompt->llm);
      w.end_object();
    }
    w.member("first_message", c.agent->first_message);
    w.member("language", c.agent->language);
    w.end_object();
  }
  if (c.tts) {
    w.key("tts").begin_object();
    w.member("voice_id", c.tts->voice_id);
    w.member("speed", c.tts->speed);
    w.member("stability", c.tts->stability);
    w.member("similarity_boost", c.tts->similarity_boost);
    w.end_object();
  }
  if (c.asr) {
    w.key("asr").begin_object();
    w.member("keywords", c.asr->keywords);
    w.end_object();
  }
  if (c.conversation) {
    w.key("conversation").begin_object();
    w.member("text_only", c.conversation->text_only);
    w.member("client_events", c.conversation->client_events);
    w.end_object();
  }
  w.end_object();
}

void write_dynamic_variable(json_writer& w, const dynamic_variable& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    w.string(*s);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    w.integer(*i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    w.floating(*d);
  } else if (const auto* b = std::get_if<bool>(&v)) {
    w.boolean(*b);
  }
}

}  // namespace

expected<client_message, parse_error> parse_client_message(std::string_view json) {
  std::string buffer = detail::padded_copy(json);
  detail::parsed_document document;
  if (auto error = document.parse_object_in_place(buffer)) return unexpected{std::move(*error)};
  std::optional<parse_error> error;
  field_reader root(document.root(), error);
  client_message message = read_client_message(root);
  if (error) return unexpected{std::move(*error)};
  return message;
}

expected<dynamic_variable_map, parse_error> parse_dynamic_variables(std::string_view json) {
  std::string buffer = detail::padded_copy(json);
  detail::parsed_document document;
  if (auto error = document.parse_object_in_place(buffer)) return unexpected{std::move(*error)};
  std::optional<parse_error> error;
  const detail::json_path top;
  field_reader variables(document.root(), top, "dynamic_variables", error);
  dynamic_variable_map map = read_dynamic_variables(variables);
  if (error) return unexpected{std::move(*error)};
  return map;
}

void append_user_audio_chunk(std::string& out, const std::uint8_t* audio, std::size_t n) {
  constexpr std::string_view head = R"({"user_audio_chunk":")";
  constexpr std::string_view tail = R"("})";
  const std::size_t encoded = codecs::base64::encoded_size(n);
  const std::size_t start = out.size();
  out.resize(start + head.size() + encoded + tail.size());
  char* p = out.data() + start;
  p += head.copy(p, head.size());
  codecs::base64::encode(audio, n, p);
  p += encoded;
  tail.copy(p, tail.size());
}

void serialize(const conversation_initiation_client_data& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("conversation_initiation_client_data");
  if (message.conversation_config_override) {
    w.key("conversation_config_override");
    if (const auto* typed = std::get_if<config_override>(&*message.conversation_config_override)) {
      write_config_override(w, *typed);
    } else if (const auto* raw = std::get_if<json_object>(&*message.conversation_config_override)) {
      w.raw(*raw);
    }
  }
  w.member("custom_llm_extra_body", message.custom_llm_extra_body);
  if (message.dynamic_variables) {
    w.key("dynamic_variables").begin_object();
    for (const auto& [name, value] : *message.dynamic_variables) {
      w.key(name);
      write_dynamic_variable(w, value);
    }
    w.end_object();
  }
  w.member("user_id", message.user_id);
  if (message.source_info) {
    w.key("source_info").begin_object();
    w.member("source", message.source_info->source);
    w.member("version", message.source_info->version);
    w.end_object();
  }
  w.end_object();
}

void serialize(const dynamic_variable_map& variables, std::string& out) {
  json_writer w(out);
  w.begin_object();
  for (const auto& [name, value] : variables) {
    w.key(name);
    write_dynamic_variable(w, value);
  }
  w.end_object();
}

void serialize(const user_audio_chunk& message, std::string& out) {
  append_user_audio_chunk(out, message.audio.data(), message.audio.size());
}

void serialize(const pong& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("pong").key("event_id").integer(message.event_id);
  w.end_object();
}

void serialize(const user_message& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("user_message").key("text").string(message.text);
  w.member("rich_content_id", message.rich_content_id);
  w.end_object();
}

void serialize(const contextual_update& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("contextual_update").key("text").string(message.text);
  w.member("context_id", message.context_id);
  w.end_object();
}

void serialize(const user_activity& /*message*/, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("user_activity").end_object();
}

void serialize(const client_tool_result& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("client_tool_result");
  w.key("tool_call_id").string(message.tool_call_id);
  w.key("result").string(message.result);
  w.key("is_error").boolean(message.is_error);
  w.end_object();
}

void serialize(const mcp_tool_approval_result& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("mcp_tool_approval_result");
  w.key("tool_call_id").string(message.tool_call_id);
  w.key("is_approved").boolean(message.is_approved);
  w.end_object();
}

void serialize(const feedback& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("feedback").key("event_id").integer(message.event_id);
  w.key("score");
  if (message.score) {
    w.string(*message.score == feedback_score::like ? "like" : "dislike");
  } else {
    w.null();
  }
  w.end_object();
}

void serialize(const multimodal_message& message, std::string& out) {
  json_writer w(out);
  w.begin_object().key("type").string("multimodal_message");
  if (message.text) {
    w.key("text").begin_object();
    w.key("type").string("user_message").key("text").string(*message.text);
    w.end_object();
  }
  if (message.file_id) {
    w.key("file").begin_object();
    w.key("type").string("file_input").key("file_id").string(*message.file_id);
    w.end_object();
  }
  w.end_object();
}

void serialize(const client_message& message, std::string& out) {
  std::visit([&out](const auto& m) { serialize(m, out); }, message);
}

std::string serialize(const client_message& message) {
  std::string out;
  serialize(message, out);
  return out;
}

}  // namespace cb::elevenlabs
