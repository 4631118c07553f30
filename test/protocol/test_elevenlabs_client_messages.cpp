#include <catch2/catch.hpp>

#include <rapidjson/reader.h>
#include <rapidjson/stream.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/base64.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace el = cb::elevenlabs;
using el::parse_error_code;

namespace {

// Protocol §3.1 to §3.3 examples, verbatim.
constexpr std::string_view initiation_example = R"({
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
})";
constexpr std::string_view audio_chunk_example =
    R"({"user_audio_chunk": "<base64 of raw PCM16LE or μ-law bytes in user_input_audio_format>"})";
constexpr std::string_view pong_example = R"({"type": "pong", "event_id": 123})";
constexpr std::string_view user_message_example =
    R"({"type": "user_message", "text": "I would like to upgrade", "rich_content_id": "rc_1"})";
constexpr std::string_view contextual_update_example =
    R"({"type": "contextual_update", "text": "User opened the pricing page", "context_id": "page"})";
constexpr std::string_view user_activity_example = R"({"type": "user_activity"})";
constexpr std::string_view client_tool_result_example =
    R"({"type": "client_tool_result", "tool_call_id": "call_123", "result": "42", "is_error": false})";
constexpr std::string_view mcp_tool_approval_result_example =
    R"({"type": "mcp_tool_approval_result", "tool_call_id": "mcp_1", "is_approved": true})";
constexpr std::string_view feedback_example =
    R"({"type": "feedback", "event_id": 7, "score": "like"})";
constexpr std::string_view multimodal_message_example =
    R"({"type": "multimodal_message", "text": {"type": "user_message", "text": "What is this?"}, "file": {"type": "file_input", "file_id": "file_abc"}})";

template <class Message>
Message parse_as(std::string_view json) {
  INFO(json);
  const auto parsed = el::parse_client_message(json);
  if (!parsed) FAIL(el::to_string(parsed.error()));
  REQUIRE(std::holds_alternative<Message>(*parsed));
  return std::get<Message>(*parsed);
}

el::parse_error parse_failure(std::string_view json) {
  INFO(json);
  const auto parsed = el::parse_client_message(json);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error();
}

void check_round_trip(const el::client_message& message) {
  const std::string json = el::serialize(message);
  INFO(json);
  const auto parsed = el::parse_client_message(json);
  if (!parsed) FAIL(el::to_string(parsed.error()));
  CHECK(*parsed == message);
}

el::json_object object_of(std::string_view json) {
  auto parsed = el::json_object::parse(json);
  if (!parsed) FAIL(el::to_string(parsed.error()));
  return *parsed;
}

// Collects what RapidJSON's reader sees in a flat object of strings. (RapidJSON's Document is not
// used: its internal stack trips UBSan, see protocol/elevenlabs_json.hpp.)
struct string_members : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, string_members> {
  int objects = 0;
  bool anything_else = false;
  std::vector<std::string> keys;
  std::vector<std::string> strings;

  bool Default() {
    anything_else = true;
    return true;
  }
  bool StartObject() {
    ++objects;
    return true;
  }
  bool EndObject(rapidjson::SizeType /*members*/) { return true; }
  bool Key(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    keys.emplace_back(s, n);
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    strings.emplace_back(s, n);
    return true;
  }
};

}  // namespace

TEST_CASE("elevenlabs client: initiation example", "[elevenlabs]") {
  const auto m = parse_as<el::conversation_initiation_client_data>(initiation_example);
  REQUIRE(m.conversation_config_override.has_value());
  REQUIRE(std::holds_alternative<el::config_override>(*m.conversation_config_override));
  const auto& o = std::get<el::config_override>(*m.conversation_config_override);
  REQUIRE(o.agent.has_value());
  REQUIRE(o.agent->prompt.has_value());
  CHECK(o.agent->prompt->prompt == std::optional<std::string>{"You are a helpful support agent."});
  CHECK_FALSE(o.agent->prompt->llm.has_value());
  CHECK(o.agent->first_message == std::optional<std::string>{"Hi, how can I help?"});
  CHECK(o.agent->language == std::optional<std::string>{"en"});
  REQUIRE(o.tts.has_value());
  CHECK(o.tts->voice_id == std::optional<std::string>{"21m00Tcm4TlvDq8ikWAM"});
  CHECK(o.tts->speed == std::optional<double>{1.0});
  CHECK(o.tts->stability == std::optional<double>{0.5});
  CHECK(o.tts->similarity_boost == std::optional<double>{0.75});
  REQUIRE(o.asr.has_value());
  CHECK(o.asr->keywords == std::optional<std::vector<std::string>>{{"ElevenLabs"}});
  REQUIRE(o.conversation.has_value());
  CHECK(o.conversation->text_only == std::optional<bool>{false});
  CHECK(o.conversation->client_events ==
        std::optional<std::vector<std::string>>{{"audio", "interruption", "ping"}});
  REQUIRE(m.custom_llm_extra_body.has_value());
  CHECK(m.custom_llm_extra_body->text() == R"({"temperature":0.7,"max_tokens":150})");
  CHECK(m.dynamic_variables ==
        std::optional<el::dynamic_variable_map>{
            {{"user_name", std::string("John")}, {"account_type", std::string("premium")}}});
  CHECK(m.user_id == std::optional<std::string>{"user-123"});
  REQUIRE(m.source_info.has_value());
  CHECK(m.source_info->source == std::optional<std::string>{"js_sdk"});
  CHECK(m.source_info->version == std::optional<std::string>{"1.2.3"});
}

TEST_CASE("elevenlabs client: initiation with only a type is valid and written that way",
          "[elevenlabs]") {
  const el::conversation_initiation_client_data empty;
  CHECK(el::serialize(empty) == R"({"type":"conversation_initiation_client_data"})");
  CHECK(parse_as<el::conversation_initiation_client_data>(
            R"({"type":"conversation_initiation_client_data"})") == empty);
}

TEST_CASE("elevenlabs client: initiation writes only the fields that are set, never null",
          "[elevenlabs]") {
  el::conversation_initiation_client_data m;
  el::config_override o;
  o.agent.emplace().first_message = "Hello";
  o.tts.emplace().speed = 1.25;
  m.conversation_config_override = o;
  m.dynamic_variables = el::dynamic_variable_map{{"caller", std::string("+4930123")}};
  CHECK(el::serialize(m) ==
        R"({"type":"conversation_initiation_client_data","conversation_config_override":)"
        R"({"agent":{"first_message":"Hello"},"tts":{"speed":1.25}},)"
        R"("dynamic_variables":{"caller":"+4930123"}})");
}

TEST_CASE("elevenlabs client: dynamic variables keep their JSON type", "[elevenlabs]") {
  const auto m = parse_as<el::conversation_initiation_client_data>(
      R"({"type":"conversation_initiation_client_data","dynamic_variables":)"
      R"({"s":"text","i":42,"neg":-7,"d":1.5,"whole_double":2.0,"t":true,"f":false,"big":18446744073709551615}})");
  REQUIRE(m.dynamic_variables.has_value());
  const auto& v = *m.dynamic_variables;
  CHECK(v.at("s") == el::dynamic_variable{std::string("text")});
  CHECK(v.at("i") == el::dynamic_variable{std::int64_t{42}});
  CHECK(v.at("neg") == el::dynamic_variable{std::int64_t{-7}});
  CHECK(v.at("d") == el::dynamic_variable{1.5});
  CHECK(v.at("whole_double") == el::dynamic_variable{2.0});
  CHECK(v.at("t") == el::dynamic_variable{true});
  CHECK(v.at("f") == el::dynamic_variable{false});
  CHECK(v.at("big") == el::dynamic_variable{18446744073709551615.0});
  const std::string json = el::serialize(m);
  CHECK(json.find(R"("whole_double":2.0)") != std::string::npos);
  CHECK(json.find(R"("i":42)") != std::string::npos);
  check_round_trip(m);
}

TEST_CASE("elevenlabs client: dynamic variables from operator JSON", "[elevenlabs]") {
  const auto parsed = el::parse_dynamic_variables(R"({"name":"Ann","vip":true,"balance":12.5})");
  REQUIRE(parsed.has_value());
  CHECK(*parsed ==
        el::dynamic_variable_map{{"name", std::string("Ann")}, {"vip", true}, {"balance", 12.5}});
  for (const std::string_view bad :
       {R"({"name":null})", R"({"name":{"first":"Ann"}})", R"({"name":["Ann"]})"}) {
    const auto error = el::parse_dynamic_variables(bad);
    REQUIRE_FALSE(error.has_value());
    CHECK(error.error().code == parse_error_code::wrong_type);
    CHECK(error.error().field == "dynamic_variables.name");
  }
  CHECK(el::parse_dynamic_variables("[]").error().code == parse_error_code::not_an_object);
  CHECK(el::parse_dynamic_variables("{").error().code == parse_error_code::malformed_json);
  const auto first_wins = el::parse_dynamic_variables(R"({"a":1,"a":2})");
  REQUIRE(first_wins.has_value());
  CHECK(first_wins->at("a") == el::dynamic_variable{std::int64_t{1}});
}

TEST_CASE("elevenlabs client: an operator's override JSON is embedded verbatim", "[elevenlabs]") {
  el::conversation_initiation_client_data m;
  m.conversation_config_override = object_of(
      R"({ "agent": { "first_message": "Hi", "native_mcp_server_ids": ["a"] }, "tts": {"speed": 1.1} })");
  m.custom_llm_extra_body = object_of(R"({"temperature": 0.2})");
  const std::string json = el::serialize(m);
  CHECK(json ==
        R"({"type":"conversation_initiation_client_data","conversation_config_override":)"
        R"({"agent":{"first_message":"Hi","native_mcp_server_ids":["a"]},"tts":{"speed":1.1}},)"
        R"("custom_llm_extra_body":{"temperature":0.2}})");
  // The receiving side reads the documented fields.
  const auto parsed = parse_as<el::conversation_initiation_client_data>(json);
  REQUIRE(parsed.conversation_config_override.has_value());
  el::config_override expected;
  expected.agent.emplace().first_message = "Hi";
  expected.tts.emplace().speed = 1.1;
  CHECK(*parsed.conversation_config_override == el::config_override_payload{expected});
}

TEST_CASE("elevenlabs client: initiation members with wrong types are named", "[elevenlabs]") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"type":"conversation_initiation_client_data","conversation_config_override":[]})",
       "conversation_config_override"},
      {R"({"type":"conversation_initiation_client_data","conversation_config_override":{"tts":{"speed":"fast"}}})",
       "conversation_config_override.tts.speed"},
      {R"({"type":"conversation_initiation_client_data","conversation_config_override":{"agent":{"prompt":{"prompt":1}}}})",
       "conversation_config_override.agent.prompt.prompt"},
      {R"({"type":"conversation_initiation_client_data","conversation_config_override":{"asr":{"keywords":["a",2]}}})",
       "conversation_config_override.asr.keywords[1]"},
      {R"({"type":"conversation_initiation_client_data","conversation_config_override":{"conversation":{"text_only":"no"}}})",
       "conversation_config_override.conversation.text_only"},
      {R"({"type":"conversation_initiation_client_data","custom_llm_extra_body":"x"})",
       "custom_llm_extra_body"},
      {R"({"type":"conversation_initiation_client_data","dynamic_variables":{"a":[1]}})",
       "dynamic_variables.a"},
      {R"({"type":"conversation_initiation_client_data","user_id":5})", "user_id"},
      {R"({"type":"conversation_initiation_client_data","source_info":{"version":1}})",
       "source_info.version"},
  };
  for (const auto& [json, field] : cases) {
    const auto error = parse_failure(json);
    CHECK(error.code == parse_error_code::wrong_type);
    CHECK(error.field == field);
  }
}

TEST_CASE("elevenlabs client: keep-alive and text examples", "[elevenlabs]") {
  CHECK(parse_as<el::pong>(pong_example) == el::pong{123});
  CHECK(parse_as<el::user_message>(user_message_example) ==
        el::user_message{"I would like to upgrade", "rc_1"});
  CHECK(parse_as<el::contextual_update>(contextual_update_example) ==
        el::contextual_update{"User opened the pricing page", "page"});
  CHECK(parse_as<el::user_activity>(user_activity_example) == el::user_activity{});
  CHECK(parse_as<el::user_message>(R"({"type":"user_message","text":"hi"})") ==
        el::user_message{"hi", std::nullopt});
  CHECK(parse_as<el::contextual_update>(
            R"({"type":"contextual_update","text":"t","context_id":null})") ==
        el::contextual_update{"t", std::nullopt});
}

TEST_CASE("elevenlabs client: tool, feedback and multimodal examples", "[elevenlabs]") {
  CHECK(parse_as<el::client_tool_result>(client_tool_result_example) ==
        el::client_tool_result{"call_123", "42", false});
  CHECK(parse_as<el::mcp_tool_approval_result>(mcp_tool_approval_result_example) ==
        el::mcp_tool_approval_result{"mcp_1", true});
  CHECK(parse_as<el::feedback>(feedback_example) == el::feedback{7, el::feedback_score::like});
  CHECK(parse_as<el::multimodal_message>(multimodal_message_example) ==
        el::multimodal_message{"What is this?", "file_abc"});
}

TEST_CASE("elevenlabs client: the audio chunk example's placeholder is not base64",
          "[elevenlabs]") {
  const auto error = parse_failure(audio_chunk_example);
  CHECK(error.code == parse_error_code::invalid_value);
  CHECK(error.field == "user_audio_chunk");
}

TEST_CASE("elevenlabs client: an audio chunk is recognised by its member, not a type",
          "[elevenlabs]") {
  CHECK(parse_as<el::user_audio_chunk>(R"({"user_audio_chunk":"AAEC"})").audio ==
        std::vector<std::uint8_t>{0, 1, 2});
  CHECK(parse_as<el::user_audio_chunk>(R"({"user_audio_chunk":""})").audio.empty());
  CHECK(parse_as<el::user_audio_chunk>(R"({"type":"pong","user_audio_chunk":"AA=="})").audio ==
        std::vector<std::uint8_t>{0});
  const auto mistyped = parse_failure(R"({"user_audio_chunk":[1,2]})");
  CHECK(mistyped.code == parse_error_code::wrong_type);
  CHECK(mistyped.field == "user_audio_chunk");
}

TEST_CASE("elevenlabs client: feedback score is like, dislike or null", "[elevenlabs]") {
  CHECK(parse_as<el::feedback>(R"({"type":"feedback","event_id":7,"score":"dislike"})").score ==
        el::feedback_score::dislike);
  CHECK_FALSE(
      parse_as<el::feedback>(R"({"type":"feedback","event_id":7,"score":null})").score.has_value());
  CHECK(el::serialize(el::feedback{7, std::nullopt}) ==
        R"({"type":"feedback","event_id":7,"score":null})");
  const auto bad = parse_failure(R"({"type":"feedback","event_id":7,"score":"meh"})");
  CHECK(bad.code == parse_error_code::invalid_value);
  CHECK(bad.field == "score");
  CHECK(parse_failure(R"({"type":"feedback","event_id":7,"score":1})").code ==
        parse_error_code::wrong_type);
}

TEST_CASE("elevenlabs client: tool result must be a string", "[elevenlabs]") {
  const auto error = parse_failure(
      R"({"type":"client_tool_result","tool_call_id":"c","result":{"ok":true},"is_error":false})");
  CHECK(error.code == parse_error_code::wrong_type);
  CHECK(error.field == "result");
}

TEST_CASE("elevenlabs client: event_id as a string is an error naming it", "[elevenlabs]") {
  const auto error = parse_failure(R"({"type":"pong","event_id":"123"})");
  CHECK(error.code == parse_error_code::wrong_type);
  CHECK(error.field == "event_id");
}

TEST_CASE("elevenlabs client: unknown or missing type", "[elevenlabs]") {
  const auto unknown = parse_failure(R"({"type":"enclave_setup_config"})");
  CHECK(unknown.code == parse_error_code::unknown_type);
  CHECK(unknown.field == "type");
  CHECK(el::to_string(unknown) ==
        R"(unknown_type at type: "enclave_setup_config" is not a client message type)");
  const auto missing = parse_failure(R"({"event_id":1})");
  CHECK(missing.code == parse_error_code::missing_field);
  CHECK(missing.field == "type");
  CHECK(parse_failure(R"({"type":null})").code == parse_error_code::wrong_type);
}

TEST_CASE("elevenlabs client: malformed JSON and non-objects", "[elevenlabs]") {
  for (const std::string_view json : {"", "{", R"({"type":"pong","event_id":1)", "{}}", "nul"}) {
    CHECK(parse_failure(json).code == parse_error_code::malformed_json);
  }
  CHECK(parse_failure("[1]").code == parse_error_code::not_an_object);
}

TEST_CASE("elevenlabs client: serializing a parsed example reproduces it, whitespace aside",
          "[elevenlabs]") {
  const std::pair<std::string_view, std::string_view> examples[] = {
      {pong_example, R"({"type":"pong","event_id":123})"},
      {user_message_example,
       R"({"type":"user_message","text":"I would like to upgrade","rich_content_id":"rc_1"})"},
      {contextual_update_example,
       R"({"type":"contextual_update","text":"User opened the pricing page","context_id":"page"})"},
      {user_activity_example, R"({"type":"user_activity"})"},
      {client_tool_result_example,
       R"({"type":"client_tool_result","tool_call_id":"call_123","result":"42","is_error":false})"},
      {mcp_tool_approval_result_example,
       R"({"type":"mcp_tool_approval_result","tool_call_id":"mcp_1","is_approved":true})"},
      {feedback_example, R"({"type":"feedback","event_id":7,"score":"like"})"},
      {multimodal_message_example,
       R"({"type":"multimodal_message","text":{"type":"user_message","text":"What is this?"},"file":{"type":"file_input","file_id":"file_abc"}})"},
  };
  for (const auto& [example, compact] : examples) {
    const auto parsed = el::parse_client_message(example);
    REQUIRE(parsed.has_value());
    CHECK(el::serialize(*parsed) == compact);
  }
}

TEST_CASE("elevenlabs client: every message round-trips through serialize and parse",
          "[elevenlabs]") {
  el::conversation_initiation_client_data full;
  el::config_override o;
  o.agent = el::agent_override{el::prompt_override{"Be brief.", "gpt-4o"}, "", "pt-br"};
  o.tts = el::tts_override{"voice", 0.7, 0.0, 1.0};
  o.asr = el::asr_override{std::vector<std::string>{}};
  o.conversation = el::conversation_override{true, std::vector<std::string>{"audio", "ping"}};
  full.conversation_config_override = o;
  full.custom_llm_extra_body = object_of(R"({"nested":{"list":[1,-2.5e-8,"\u00e9"]}})");
  full.dynamic_variables = el::dynamic_variable_map{
      {"s", std::string("x\"y")}, {"i", std::int64_t{-3}}, {"d", 0.1}, {"b", false}};
  full.user_id = "user-1";
  full.source_info = el::client_source_info{"callbridge", std::nullopt};
  check_round_trip(full);
  check_round_trip(el::conversation_initiation_client_data{});

  check_round_trip(el::user_audio_chunk{});
  check_round_trip(el::user_audio_chunk{{0, 255, 128, 7}});
  check_round_trip(el::pong{INT64_MIN});
  check_round_trip(el::user_message{"héllo\n\t\"", std::nullopt});
  check_round_trip(el::user_message{"", "rc"});
  check_round_trip(el::contextual_update{"ctx", "page"});
  check_round_trip(el::user_activity{});
  check_round_trip(el::client_tool_result{"c", R"({"ok":true})", true});
  check_round_trip(el::mcp_tool_approval_result{"m", false});
  check_round_trip(el::feedback{1, el::feedback_score::dislike});
  check_round_trip(el::feedback{2, std::nullopt});
  check_round_trip(el::multimodal_message{std::nullopt, std::nullopt});
  check_round_trip(el::multimodal_message{"only text", std::nullopt});
  check_round_trip(el::multimodal_message{std::nullopt, "file_1"});
}

TEST_CASE("elevenlabs client: append_user_audio_chunk writes JSON that decodes to the input",
          "[elevenlabs]") {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out;
  for (const std::size_t n : {0, 1, 2, 3, 4, 160, 320, 640, 1919}) {
    std::vector<std::uint8_t> audio(n);
    for (auto& b : audio)
      b = static_cast<std::uint8_t>(byte(rng));
    out.clear();
    el::append_user_audio_chunk(out, audio.data(), audio.size());
    INFO("n = " << n << ", json = " << out);

    std::string in_place = out;
    rapidjson::InsituStringStream stream(in_place.data());
    string_members members;
    rapidjson::Reader reader;
    const auto result =
        reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseValidateEncodingFlag>(stream,
                                                                                          members);
    REQUIRE_FALSE(result.IsError());
    CHECK(members.objects == 1);
    CHECK_FALSE(members.anything_else);
    REQUIRE(members.keys == std::vector<std::string>{"user_audio_chunk"});
    REQUIRE(members.strings.size() == 1);
    std::vector<std::uint8_t> decoded;
    const auto size = cb::codecs::base64::decode(members.strings[0], decoded);
    REQUIRE(size.has_value());
    CHECK(decoded == audio);
  }
}

TEST_CASE("elevenlabs client: append_user_audio_chunk appends and reuses the buffer",
          "[elevenlabs]") {
  const std::vector<std::uint8_t> audio(320, 0x7F);
  std::string out = "prefix";
  el::append_user_audio_chunk(out, audio.data(), audio.size());
  CHECK(out.rfind(R"(prefix{"user_audio_chunk":")", 0) == 0);
  CHECK(out.size() == 6 + 21 + cb::codecs::base64::encoded_size(audio.size()) + 2);

  out.clear();
  el::append_user_audio_chunk(out, audio.data(), audio.size());
  const char* storage = out.data();
  const std::string first = out;
  out.clear();
  el::append_user_audio_chunk(out, audio.data(), audio.size());
  CHECK(out.data() == storage);
  CHECK(out == first);
  std::string via_serialize;
  el::serialize(el::user_audio_chunk{audio}, via_serialize);
  CHECK(via_serialize == first);
}

TEST_CASE("dynamic variables serialize on their own and read back", "[elevenlabs][client]") {
  cb::elevenlabs::dynamic_variable_map variables{
      {"lead_id", std::int64_t{42}}, {"name", std::string("Zoë \"Q\"")}, {"vip", true}};
  std::string json;
  cb::elevenlabs::serialize(variables, json);
  CHECK(json == R"({"lead_id":42,"name":"Zoë \"Q\"","vip":true})");
  auto back = cb::elevenlabs::parse_dynamic_variables(json);
  REQUIRE(back);
  CHECK(*back == variables);
}
