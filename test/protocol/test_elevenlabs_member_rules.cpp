// Every member of every example, in both directions: removed, set to a wrong type, set to null.
// A required member must then fail naming its dotted path; an optional one may be absent or null
// but not mistyped; an ignored one changes nothing.
#include <catch2/catch.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/elevenlabs_client_messages.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace el = cb::elevenlabs;
using el::parse_error_code;

namespace {

enum class rule { required, optional, ignored };

struct member {
  std::string name;
  std::string value;  // compact JSON
  rule kind;
};

// One object of an example: its members in order, between the example's text before and after
// them.
struct example_object {
  std::string before;
  std::vector<member> members;
  std::string after;
  std::string path;  // dotted path of the object, empty at the top level

  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  // The example with member `index` replaced by `value`, or removed when value is nullopt.
  [[nodiscard]] std::string with(std::size_t index, std::optional<std::string_view> value) const {
    std::string json = before;
    bool first = true;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i == index && !value) continue;
      if (!first) json += ',';
      first = false;
      json += '"' + members[i].name + "\":";
      json += i == index ? std::string(*value) : members[i].value;
    }
    return json + after;
  }
  [[nodiscard]] std::string whole() const { return with(none, std::nullopt); }
  [[nodiscard]] std::string field(std::size_t index) const {
    return path.empty() ? members[index].name : path + '.' + members[index].name;
  }
};

std::string join(const std::vector<member>& members) {
  std::string json = "{";
  for (const auto& m : members) {
    if (json.size() > 1) json += ',';
    json += '"' + m.name + "\":" + m.value;
  }
  return json + '}';
}

// A server event {"type":T,"P":{members}}: the top level and the payload object.
std::vector<example_object> server_event(const std::string& type, const std::string& payload,
                                         std::vector<member> members) {
  const std::string payload_json = join(members);
  return {
      {"{",
       {{"type", '"' + type + '"', rule::required}, {payload, payload_json, rule::required}},
       "}",
       ""},
      {R"({"type":")" + type + R"(",")" + payload + R"(":{)", std::move(members), "}}", payload},
  };
}

std::string wrong_type_for(const std::string& value) {
  switch (value.front()) {
    case '"':
      return "5";
    case '{':
      return "[]";
    case '[':
      return "{}";
    case 't':
    case 'f':
      return R"("true")";
    default:
      return R"("5")";
  }
}

template <class Parse>
void check_member_rules(const example_object& object, std::string_view example, Parse parse) {
  REQUIRE(object.whole() == example);
  for (std::size_t i = 0; i < object.members.size(); ++i) {
    const member& m = object.members[i];
    const std::string field = object.field(i);
    const std::string removed = object.with(i, std::nullopt);
    const std::string mistyped = object.with(i, wrong_type_for(m.value));
    const std::string null = object.with(i, "null");
    INFO(field);
    switch (m.kind) {
      case rule::required:
        for (const auto& [json, code] : {std::pair{removed, parse_error_code::missing_field},
                                         std::pair{mistyped, parse_error_code::wrong_type},
                                         std::pair{null, parse_error_code::wrong_type}}) {
          INFO(json);
          const auto parsed = parse(json);
          REQUIRE_FALSE(parsed.has_value());
          CHECK(parsed.error().code == code);
          CHECK(parsed.error().field == field);
        }
        break;
      case rule::optional: {
        INFO(mistyped);
        CHECK(parse(removed).has_value());
        CHECK(parse(null).has_value());
        const auto parsed = parse(mistyped);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().code == parse_error_code::wrong_type);
        CHECK(parsed.error().field == field);
        break;
      }
      case rule::ignored:
        CHECK(parse(removed).has_value());
        CHECK(parse(mistyped).has_value());
        CHECK(parse(null).has_value());
        break;
    }
  }
}

// Whitespace outside strings removed, to compare with the spec's spaced client examples.
std::string compact(std::string_view json) {
  std::string out;
  bool in_string = false;
  bool escaped = false;
  for (const char c : json) {
    if (in_string) {
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
    } else if (c == ' ' || c == '\n') {
      continue;
    } else {
      in_string = c == '"';
    }
    out += c;
  }
  return out;
}

const auto parse_server = [](std::string_view json) { return el::parse_server_event(json); };
const auto parse_client = [](std::string_view json) { return el::parse_client_message(json); };

}  // namespace

TEST_CASE("elevenlabs server: each member of each example follows its rule", "[elevenlabs]") {
  const std::pair<std::vector<example_object>, std::string_view> events[] = {
      {server_event("conversation_initiation_metadata", "conversation_initiation_metadata_event",
                    {{"conversation_id", R"("conv_123")", rule::required},
                     {"agent_output_audio_format", R"("pcm_16000")", rule::required},
                     {"user_input_audio_format", R"("pcm_16000")", rule::optional}}),
       R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"conv_123","agent_output_audio_format":"pcm_16000","user_input_audio_format":"pcm_16000"}})"},
      {server_event(
           "audio", "audio_event",
           {{"audio_base_64", R"("AAECAwT/")", rule::required},
            {"event_id", "5", rule::required},
            {"alignment",
             R"({"chars":["H","i"],"char_start_times_ms":[0,60],"char_durations_ms":[60,80]})",
             rule::optional}}),
       R"({"type":"audio","audio_event":{"audio_base_64":"AAECAwT/","event_id":5,"alignment":{"chars":["H","i"],"char_start_times_ms":[0,60],"char_durations_ms":[60,80]}}})"},
      {server_event(
           "user_transcript", "user_transcription_event",
           {{"user_transcript", R"("Hello")", rule::required}, {"event_id", "4", rule::required}}),
       R"({"type":"user_transcript","user_transcription_event":{"user_transcript":"Hello","event_id":4}})"},
      {server_event(
           "tentative_user_transcript", "tentative_user_transcription_event",
           {{"user_transcript", R"("Hel")", rule::required}, {"event_id", "4", rule::required}}),
       R"({"type":"tentative_user_transcript","tentative_user_transcription_event":{"user_transcript":"Hel","event_id":4}})"},
      {server_event("agent_response", "agent_response_event",
                    {{"agent_response", R"("Hi! How can I help?")", rule::required},
                     {"event_id", "5", rule::required}}),
       R"({"type":"agent_response","agent_response_event":{"agent_response":"Hi! How can I help?","event_id":5}})"},
      {server_event(
           "agent_response_correction", "agent_response_correction_event",
           {{"original_agent_response", R"("Let me tell you the whole history…")", rule::required},
            {"corrected_agent_response", R"("Let me tell you…")", rule::required},
            {"event_id", "5", rule::required}}),
       R"({"type":"agent_response_correction","agent_response_correction_event":{"original_agent_response":"Let me tell you the whole history…","corrected_agent_response":"Let me tell you…","event_id":5}})"},
      {server_event("interruption", "interruption_event", {{"event_id", "5", rule::required}}),
       R"({"type":"interruption","interruption_event":{"event_id":5}})"},
      {server_event("ping", "ping_event",
                    {{"event_id", "9", rule::required}, {"ping_ms", "null", rule::optional}}),
       R"({"type":"ping","ping_event":{"event_id":9,"ping_ms":null}})"},
      {server_event("client_tool_call", "client_tool_call",
                    {{"tool_name", R"("open_page")", rule::required},
                     {"tool_call_id", R"("call_1")", rule::required},
                     {"parameters", R"({"url":"/pricing"})", rule::required},
                     {"event_id", "6", rule::required}}),
       R"({"type":"client_tool_call","client_tool_call":{"tool_name":"open_page","tool_call_id":"call_1","parameters":{"url":"/pricing"},"event_id":6}})"},
      {server_event("agent_tool_request", "agent_tool_request",
                    {{"tool_name", R"("lookup")", rule::required},
                     {"tool_call_id", R"("t1")", rule::required},
                     {"tool_type", R"("webhook")", rule::required},
                     {"event_id", "6", rule::required}}),
       R"({"type":"agent_tool_request","agent_tool_request":{"tool_name":"lookup","tool_call_id":"t1","tool_type":"webhook","event_id":6}})"},
      {server_event("agent_tool_response", "agent_tool_response",
                    {{"tool_name", R"("end_call")", rule::required},
                     {"tool_call_id", R"("t2")", rule::required},
                     {"tool_type", R"("system")", rule::required},
                     {"is_error", "false", rule::required},
                     {"is_called", "true", rule::required},
                     {"event_id", "7", rule::required}}),
       R"({"type":"agent_tool_response","agent_tool_response":{"tool_name":"end_call","tool_call_id":"t2","tool_type":"system","is_error":false,"is_called":true,"event_id":7}})"},
      {server_event("vad_score", "vad_score_event", {{"vad_score", "0.95", rule::required}}),
       R"({"type":"vad_score","vad_score_event":{"vad_score":0.95}})"},
  };
  for (const auto& [objects, example] : events) {
    for (const auto& object : objects)
      check_member_rules(object, example, parse_server);
  }

  const example_object alignment{
      R"({"type":"audio","audio_event":{"audio_base_64":"AAECAwT/","event_id":5,"alignment":{)",
      {{"chars", R"(["H","i"])", rule::required},
       {"char_start_times_ms", "[0,60]", rule::required},
       {"char_durations_ms", "[60,80]", rule::required}},
      "}}}",
      "audio_event.alignment"};
  check_member_rules(
      alignment,
      R"({"type":"audio","audio_event":{"audio_base_64":"AAECAwT/","event_id":5,"alignment":{"chars":["H","i"],"char_start_times_ms":[0,60],"char_durations_ms":[60,80]}}})",
      parse_server);

  const example_object nested_error{R"({"type":"error","error_event":{)",
                                    {{"code", "1002", rule::optional},
                                     {"message", R"("…")", rule::optional},
                                     {"error_type", R"("llm_timeout")", rule::optional},
                                     {"reason", R"("…")", rule::optional},
                                     {"debug_message", "null", rule::ignored},
                                     {"details", "null", rule::ignored}},
                                    "}}",
                                    "error_event"};
  check_member_rules(
      nested_error,
      R"({"type":"error","error_event":{"code":1002,"message":"…","error_type":"llm_timeout","reason":"…","debug_message":null,"details":null}})",
      parse_server);
}

TEST_CASE("elevenlabs client: each member of each example follows its rule", "[elevenlabs]") {
  const auto type = [](const char* t) {
    return member{"type", '"' + std::string(t) + '"', rule::required};
  };
  const std::pair<example_object, std::string_view> messages[] = {
      {{"{", {type("pong"), {"event_id", "123", rule::required}}, "}", ""},
       R"({"type": "pong", "event_id": 123})"},
      {{"{",
        {type("user_message"),
         {"text", R"("I would like to upgrade")", rule::required},
         {"rich_content_id", R"("rc_1")", rule::optional}},
        "}",
        ""},
       R"({"type": "user_message", "text": "I would like to upgrade", "rich_content_id": "rc_1"})"},
      {{"{",
        {type("contextual_update"),
         {"text", R"("User opened the pricing page")", rule::required},
         {"context_id", R"("page")", rule::optional}},
        "}",
        ""},
       R"({"type": "contextual_update", "text": "User opened the pricing page", "context_id": "page"})"},
      {{"{", {type("user_activity")}, "}", ""}, R"({"type": "user_activity"})"},
      {{"{",
        {type("client_tool_result"),
         {"tool_call_id", R"("call_123")", rule::required},
         {"result", R"("42")", rule::required},
         {"is_error", "false", rule::required}},
        "}",
        ""},
       R"({"type": "client_tool_result", "tool_call_id": "call_123", "result": "42", "is_error": false})"},
      {{"{",
        {type("mcp_tool_approval_result"),
         {"tool_call_id", R"("mcp_1")", rule::required},
         {"is_approved", "true", rule::required}},
        "}",
        ""},
       R"({"type": "mcp_tool_approval_result", "tool_call_id": "mcp_1", "is_approved": true})"},
      {{"{",
        {type("feedback"),
         {"event_id", "7", rule::required},
         {"score", R"("like")", rule::optional}},
        "}",
        ""},
       R"({"type": "feedback", "event_id": 7, "score": "like"})"},
      {{"{",
        {type("multimodal_message"),
         {"text", R"({"type":"user_message","text":"What is this?"})", rule::optional},
         {"file", R"({"type":"file_input","file_id":"file_abc"})", rule::optional}},
        "}",
        ""},
       R"({"type": "multimodal_message", "text": {"type": "user_message", "text": "What is this?"}, "file": {"type": "file_input", "file_id": "file_abc"}})"},
      {{R"({"type":"multimodal_message","text":{)",
        {{"type", R"("user_message")", rule::ignored},
         {"text", R"("What is this?")", rule::required}},
        R"(},"file":{"type":"file_input","file_id":"file_abc"}})",
        "text"},
       R"({"type": "multimodal_message", "text": {"type": "user_message", "text": "What is this?"}, "file": {"type": "file_input", "file_id": "file_abc"}})"},
      {{R"({"type":"multimodal_message","text":{"type":"user_message","text":"What is this?"},"file":{)",
        {{"type", R"("file_input")", rule::ignored}, {"file_id", R"("file_abc")", rule::required}},
        "}}",
        "file"},
       R"({"type": "multimodal_message", "text": {"type": "user_message", "text": "What is this?"}, "file": {"type": "file_input", "file_id": "file_abc"}})"},
      {{"{",
        {type("conversation_initiation_client_data"),
         {"conversation_config_override",
          R"({"agent":{"prompt":{"prompt":"You are a helpful support agent.","llm":null},"first_message":"Hi, how can I help?","language":"en","native_mcp_server_ids":null},"tts":{"voice_id":"21m00Tcm4TlvDq8ikWAM","speed":1.0,"stability":0.5,"similarity_boost":0.75},"asr":{"keywords":["ElevenLabs"]},"conversation":{"text_only":false,"client_events":["audio","interruption","ping"]}})",
          rule::optional},
         {"custom_llm_extra_body", R"({"temperature":0.7,"max_tokens":150})", rule::optional},
         {"dynamic_variables", R"({"user_name":"John","account_type":"premium"})", rule::optional},
         {"user_id", R"("user-123")", rule::optional},
         {"source_info", R"({"source":"js_sdk","version":"1.2.3"})", rule::optional},
         {"tool_mock_config",
          R"({"mocking_strategy":"none","mocked_tool_names":[],"fallback_strategy":"raise_error"})",
          rule::ignored}},
        "}",
        ""},
       R"({
  "type": "conversation_initiation_client_data",
  "conversation_config_override": {
    "agent": {
      "prompt": { "prompt": "You are a helpful support agent.", "llm": null },
      "first_message": "Hi, how can I help?",
      "language": "en",
      "native_mcp_server_ids": null
    },
    "tts": { "voice_id": "21m00Tcm4TlvDq8ikWAM", "speed": 1.0, "stability": 0.5, "similarity_boost": 0.75 },
    "asr": { "keywords": ["ElevenLabs"] },
    "conversation": { "text_only": false, "client_events": ["audio", "interruption", "ping"] }
  },
  "custom_llm_extra_body": { "temperature": 0.7, "max_tokens": 150 },
  "dynamic_variables": { "user_name": "John", "account_type": "premium" },
  "user_id": "user-123",
  "source_info": { "source": "js_sdk", "version": "1.2.3" },
  "tool_mock_config": { "mocking_strategy": "none", "mocked_tool_names": [], "fallback_strategy": "raise_error" }
})"},
  };
  for (const auto& [object, example] : messages) {
    check_member_rules(object, compact(example), parse_client);
  }
}

TEST_CASE("elevenlabs client: each override member follows its rule", "[elevenlabs]") {
  const std::string before =
      R"({"type":"conversation_initiation_client_data","conversation_config_override":)";
  const example_object override_members{
      before + "{",
      {{"agent", R"({"first_message":"Hi","language":"en"})", rule::optional},
       {"tts", R"({"voice_id":"v","speed":1.1,"stability":0.5,"similarity_boost":0.75})",
        rule::optional},
       {"asr", R"({"keywords":["k"]})", rule::optional},
       {"conversation", R"({"text_only":true,"client_events":["audio"]})", rule::optional}},
      "}}",
      "conversation_config_override"};
  check_member_rules(override_members, override_members.whole(), parse_client);
  const example_object agent{before + R"({"agent":{)",
                             {{"prompt", R"({"prompt":"p","llm":"gpt-4o"})", rule::optional},
                              {"first_message", R"("Hi")", rule::optional},
                              {"language", R"("en")", rule::optional}},
                             "}}}",
                             "conversation_config_override.agent"};
  check_member_rules(agent, agent.whole(), parse_client);
  const example_object prompt{
      before + R"({"agent":{"prompt":{)",
      {{"prompt", R"("p")", rule::optional}, {"llm", R"("gpt-4o")", rule::optional}},
      "}}}}",
      "conversation_config_override.agent.prompt"};
  check_member_rules(prompt, prompt.whole(), parse_client);
  const example_object tts{before + R"({"tts":{)",
                           {{"voice_id", R"("v")", rule::optional},
                            {"speed", "1.1", rule::optional},
                            {"stability", "0.5", rule::optional},
                            {"similarity_boost", "0.75", rule::optional}},
                           "}}}",
                           "conversation_config_override.tts"};
  check_member_rules(tts, tts.whole(), parse_client);
  const example_object conversation{
      before + R"({"conversation":{)",
      {{"text_only", "true", rule::optional}, {"client_events", R"(["audio"])", rule::optional}},
      "}}}",
      "conversation_config_override.conversation"};
  check_member_rules(conversation, conversation.whole(), parse_client);
  const example_object source{
      R"({"type":"conversation_initiation_client_data","source_info":{)",
      {{"source", R"("js_sdk")", rule::optional}, {"version", R"("1.2.3")", rule::optional}},
      "}}",
      "source_info"};
  check_member_rules(source, source.whole(), parse_client);
}
