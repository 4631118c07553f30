#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/elevenlabs_server_events.hpp"

namespace el = cb::elevenlabs;
using el::parse_error_code;

namespace {

// Protocol §4.1 and §4.2 examples, verbatim, except that the audio example's "<base64>" placeholder
// is replaced by real base64 (the placeholder itself is tested separately).
constexpr std::string_view metadata_example =
    R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"conv_123","agent_output_audio_format":"pcm_16000","user_input_audio_format":"pcm_16000"}})";
constexpr std::string_view audio_example_as_printed =
    R"({"type":"audio","audio_event":{"audio_base_64":"<base64>","event_id":5,"alignment":{"chars":["H","i"],"char_start_times_ms":[0,60],"char_durations_ms":[60,80]}}})";
constexpr std::string_view audio_example =
    R"({"type":"audio","audio_event":{"audio_base_64":"AAECAwT/","event_id":5,"alignment":{"chars":["H","i"],"char_start_times_ms":[0,60],"char_durations_ms":[60,80]}}})";
constexpr std::string_view user_transcript_example =
    R"({"type":"user_transcript","user_transcription_event":{"user_transcript":"Hello","event_id":4}})";
constexpr std::string_view tentative_user_transcript_example =
    R"({"type":"tentative_user_transcript","tentative_user_transcription_event":{"user_transcript":"Hel","event_id":4}})";
constexpr std::string_view agent_response_example =
    R"({"type":"agent_response","agent_response_event":{"agent_response":"Hi! How can I help?","event_id":5}})";
constexpr std::string_view agent_response_correction_example =
    R"({"type":"agent_response_correction","agent_response_correction_event":{"original_agent_response":"Let me tell you the whole history…","corrected_agent_response":"Let me tell you…","event_id":5}})";
constexpr std::string_view interruption_example =
    R"({"type":"interruption","interruption_event":{"event_id":5}})";
constexpr std::string_view ping_example =
    R"({"type":"ping","ping_event":{"event_id":9,"ping_ms":null}})";
constexpr std::string_view client_tool_call_example =
    R"({"type":"client_tool_call","client_tool_call":{"tool_name":"open_page","tool_call_id":"call_1","parameters":{"url":"/pricing"},"event_id":6}})";
constexpr std::string_view agent_tool_request_example =
    R"({"type":"agent_tool_request","agent_tool_request":{"tool_name":"lookup","tool_call_id":"t1","tool_type":"webhook","event_id":6}})";
constexpr std::string_view agent_tool_response_example =
    R"({"type":"agent_tool_response","agent_tool_response":{"tool_name":"end_call","tool_call_id":"t2","tool_type":"system","is_error":false,"is_called":true,"event_id":7}})";
constexpr std::string_view vad_score_example =
    R"({"type":"vad_score","vad_score_event":{"vad_score":0.95}})";
constexpr std::string_view nested_error_example =
    R"({"type":"error","error_event":{"code":1002,"message":"…","error_type":"llm_timeout","reason":"…","debug_message":null,"details":null}})";
constexpr std::string_view quota_error_example =
    R"({"type":"error","message":"received 1002 (protocol error) This request exceeds your quota limit.; then sent 1002 …"})";

template <class Event>
Event parse_as(std::string_view json) {
  INFO(json);
  const auto parsed = el::parse_server_event(json);
  if (!parsed) FAIL(el::to_string(parsed.error()));
  REQUIRE(std::holds_alternative<Event>(*parsed));
  return std::get<Event>(*parsed);
}

el::parse_error parse_failure(std::string_view json) {
  INFO(json);
  const auto parsed = el::parse_server_event(json);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error();
}

void check_round_trip(const el::server_event& event) {
  const std::string json = el::serialize(event);
  INFO(json);
  const auto parsed = el::parse_server_event(json);
  if (!parsed) FAIL(el::to_string(parsed.error()));
  CHECK(*parsed == event);
}

}  // namespace

TEST_CASE("elevenlabs server: conversation_initiation_metadata example", "[elevenlabs]") {
  const auto e = parse_as<el::conversation_initiation_metadata_event>(metadata_example);
  CHECK(e.conversation_id == "conv_123");
  CHECK(e.agent_output_audio_format == "pcm_16000");
  CHECK(e.user_input_audio_format == "pcm_16000");
}

TEST_CASE("elevenlabs server: metadata without an input format means pcm_16000, as in the JS SDK",
          "[elevenlabs]") {
  const auto absent = parse_as<el::conversation_initiation_metadata_event>(
      R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"c","agent_output_audio_format":"ulaw_8000"}})");
  CHECK(absent.agent_output_audio_format == "ulaw_8000");
  CHECK(absent.user_input_audio_format == "pcm_16000");
  const auto null = parse_as<el::conversation_initiation_metadata_event>(
      R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"c","agent_output_audio_format":"ulaw_8000","user_input_audio_format":null}})");
  CHECK(null.user_input_audio_format == "pcm_16000");
  const auto given = parse_as<el::conversation_initiation_metadata_event>(
      R"({"type":"conversation_initiation_metadata","conversation_initiation_metadata_event":{"conversation_id":"c","agent_output_audio_format":"ulaw_8000","user_input_audio_format":"ulaw_8000"}})");
  CHECK(given.user_input_audio_format == "ulaw_8000");
}

TEST_CASE("elevenlabs server: audio example decodes base64 and alignment", "[elevenlabs]") {
  const auto e = parse_as<el::audio_event>(audio_example);
  CHECK(e.audio == std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0x03, 0x04, 0xFF});
  CHECK(e.event_id == 5);
  REQUIRE(e.alignment.has_value());
  CHECK(e.alignment->chars == std::vector<std::string>{"H", "i"});
  CHECK(e.alignment->char_start_times_ms == std::vector<double>{0, 60});
  CHECK(e.alignment->char_durations_ms == std::vector<double>{60, 80});
}

TEST_CASE("elevenlabs server: the audio example's <base64> placeholder is not base64",
          "[elevenlabs]") {
  const auto error = parse_failure(audio_example_as_printed);
  CHECK(error.code == parse_error_code::invalid_value);
  CHECK(error.field == "audio_event.audio_base_64");
}

TEST_CASE("elevenlabs server: audio without alignment, or with null alignment", "[elevenlabs]") {
  const auto absent = parse_as<el::audio_event>(
      R"({"type":"audio","audio_event":{"audio_base_64":"","event_id":1}})");
  CHECK(absent.audio.empty());
  CHECK_FALSE(absent.alignment.has_value());
  const auto null = parse_as<el::audio_event>(
      R"({"type":"audio","audio_event":{"audio_base_64":"AQ==","event_id":2,"alignment":null}})");
  CHECK(null.audio == std::vector<std::uint8_t>{1});
  CHECK_FALSE(null.alignment.has_value());
}

TEST_CASE("elevenlabs server: transcript and response examples", "[elevenlabs]") {
  const auto user = parse_as<el::user_transcript_event>(user_transcript_example);
  CHECK(user.user_transcript == "Hello");
  CHECK(user.event_id == 4);
  const auto tentative =
      parse_as<el::tentative_user_transcript_event>(tentative_user_transcript_example);
  CHECK(tentative.user_transcript == "Hel");
  CHECK(tentative.event_id == 4);
  const auto response = parse_as<el::agent_response_event>(agent_response_example);
  CHECK(response.agent_response == "Hi! How can I help?");
  CHECK(response.event_id == 5);
  const auto correction =
      parse_as<el::agent_response_correction_event>(agent_response_correction_example);
  CHECK(correction.original_agent_response == "Let me tell you the whole history…");
  CHECK(correction.corrected_agent_response == "Let me tell you…");
  CHECK(correction.event_id == 5);
}

TEST_CASE("elevenlabs server: interruption and ping examples", "[elevenlabs]") {
  CHECK(parse_as<el::interruption_event>(interruption_example).event_id == 5);
  const auto ping = parse_as<el::ping_event>(ping_example);
  CHECK(ping.event_id == 9);
  CHECK_FALSE(ping.ping_ms.has_value());
  const auto measured =
      parse_as<el::ping_event>(R"({"type":"ping","ping_event":{"event_id":10,"ping_ms":42}})");
  CHECK(measured.ping_ms == std::optional<std::int64_t>{42});
  CHECK_FALSE(parse_as<el::ping_event>(R"({"type":"ping","ping_event":{"event_id":1}})")
                  .ping_ms.has_value());
  const auto fractional =
      parse_failure(R"({"type":"ping","ping_event":{"event_id":1,"ping_ms":4.5}})");
  CHECK(fractional.code == parse_error_code::wrong_type);
  CHECK(fractional.field == "ping_event.ping_ms");
}

TEST_CASE("elevenlabs server: tool examples", "[elevenlabs]") {
  const auto call = parse_as<el::client_tool_call_event>(client_tool_call_example);
  CHECK(call.tool_name == "open_page");
  CHECK(call.tool_call_id == "call_1");
  CHECK(call.parameters.text() == R"({"url":"/pricing"})");
  CHECK(call.parameters.scalar("url") == std::optional<el::json_scalar>{std::string("/pricing")});
  CHECK(call.event_id == 6);
  const auto request = parse_as<el::agent_tool_request_event>(agent_tool_request_example);
  CHECK(request.tool_name == "lookup");
  CHECK(request.tool_call_id == "t1");
  CHECK(request.tool_type == "webhook");
  CHECK(request.event_id == 6);
  const auto response = parse_as<el::agent_tool_response_event>(agent_tool_response_example);
  CHECK(response.tool_name == "end_call");
  CHECK(response.tool_call_id == "t2");
  CHECK(response.tool_type == "system");
  CHECK_FALSE(response.is_error);
  CHECK(response.is_called);
  CHECK(response.event_id == 7);
}

TEST_CASE("elevenlabs server: client tool call parameters are kept as compact JSON text",
          "[elevenlabs]") {
  const auto call = parse_as<el::client_tool_call_event>(
      R"({"type":"client_tool_call","client_tool_call":{"tool_name":"t","tool_call_id":"c","event_id":1,
          "parameters": { "n" : 1.50, "list" : [ true, null, "x\u0041\n" ], "nested": {"big": 12345678901234567890, "bigger": 123456789012345678901} } }})");
  CHECK(
      call.parameters.text() ==
      R"({"n":1.5,"list":[true,null,"xA\n"],"nested":{"big":12345678901234567890,"bigger":123456789012345683968.0}})");
  const auto array = parse_failure(
      R"({"type":"client_tool_call","client_tool_call":{"tool_name":"t","tool_call_id":"c","parameters":[],"event_id":1}})");
  CHECK(array.code == parse_error_code::wrong_type);
  CHECK(array.field == "client_tool_call.parameters");
}

TEST_CASE("elevenlabs server: vad_score example", "[elevenlabs]") {
  CHECK(parse_as<el::vad_score_event>(vad_score_example).vad_score == 0.95);
}

TEST_CASE("elevenlabs server: error in the nested error_event shape", "[elevenlabs]") {
  const auto e = parse_as<el::error_event>(nested_error_example);
  CHECK(e.shape == el::error_shape::nested);
  CHECK(e.code == std::optional<std::int64_t>{1002});
  CHECK(e.message == "…");
  CHECK(e.error_type == std::optional<std::string>{"llm_timeout"});
  CHECK(e.reason == std::optional<std::string>{"…"});
}

TEST_CASE("elevenlabs server: error in the flat quota shape", "[elevenlabs]") {
  const auto e = parse_as<el::error_event>(quota_error_example);
  CHECK(e.shape == el::error_shape::flat);
  CHECK(e.message ==
        "received 1002 (protocol error) This request exceeds your quota limit.; then sent 1002 …");
  CHECK_FALSE(e.code.has_value());
  CHECK_FALSE(e.error_type.has_value());
  CHECK_FALSE(e.reason.has_value());
}

TEST_CASE("elevenlabs server: error members are each optional in the nested shape",
          "[elevenlabs]") {
  const auto bare = parse_as<el::error_event>(R"({"type":"error","error_event":{}})");
  CHECK(bare.shape == el::error_shape::nested);
  CHECK(bare.message.empty());
  CHECK_FALSE(bare.code.has_value());
  const auto null_nested =
      parse_as<el::error_event>(R"({"type":"error","error_event":null,"message":"quota"})");
  CHECK(null_nested.shape == el::error_shape::flat);
  CHECK(null_nested.message == "quota");
  const auto neither = parse_failure(R"({"type":"error"})");
  CHECK(neither.code == parse_error_code::missing_field);
  CHECK(neither.field == "error_event");
  const auto bad_code =
      parse_failure(R"({"type":"error","error_event":{"code":"1002","message":"m"}})");
  CHECK(bad_code.code == parse_error_code::wrong_type);
  CHECK(bad_code.field == "error_event.code");
  const auto bad_flat = parse_failure(R"({"type":"error","message":7})");
  CHECK(bad_flat.code == parse_error_code::wrong_type);
  CHECK(bad_flat.field == "message");
}

TEST_CASE("elevenlabs server: types the bridge does not act on are unknown_event", "[elevenlabs]") {
  const std::pair<std::string_view, std::string_view> examples[] = {
      {R"({"type":"agent_tool_response_full_payload","agent_tool_response_full_payload":{"tool_name":"…","tool_call_id":"…","tool_type":"…","is_error":false,"is_blocked":false,"is_called":true,"event_id":7,"full_tool_result":"…","truncated":false}})",
       "agent_tool_response_full_payload"},
      {R"({"type":"internal_tentative_agent_response","tentative_agent_response_internal_event":{"tentative_agent_response":"I'd be happy to…"}})",
       "internal_tentative_agent_response"},
      {R"({"type":"internal_turn_probability","turn_probability_internal_event":{"turn_probability":0.8}})",
       "internal_turn_probability"},
      {R"({"type":"agent_chat_response_part","text_response_part":{"text":"Hel","type":"delta","event_id":5}})",
       "agent_chat_response_part"},
      // Its event_id is a string; as an unknown type that is no error.
      {R"({"type":"agent_reasoning_response_part","reasoning_response_part":{"text":"…","type":"delta","event_id":"5"}})",
       "agent_reasoning_response_part"},
      {R"({"type":"mcp_tool_call","mcp_tool_call":{"service_id":"s","tool_call_id":"m1","tool_name":"x","parameters":{},"timestamp":"2026-01-01T00:00:00Z","state":"awaiting_approval","approval_timeout_secs":300}})",
       "mcp_tool_call"},
      {R"({"type":"mcp_connection_status","mcp_connection_status":{"integrations":[{"integration_id":"i","integration_type":"mcp_server","is_connected":true,"tool_count":3}]}})",
       "mcp_connection_status"},
      {R"({"type":"context_usage","context_usage_event":{"event_id":7,"model":"gpt-4o","context_tokens":1834,"context_limit_tokens":128000}})",
       "context_usage"},
      {R"({"type":"asr_initiation_metadata","asr_initiation_metadata_event":{}})",
       "asr_initiation_metadata"},
      {R"({"type":"rich_content","rich_content":{"rich_content_id":"rc_1","component":"buttons","props":{},"event_id":8}})",
       "rich_content"},
      {R"({"type":"guardrail_triggered"})", "guardrail_triggered"},
      {R"({"type":"agent_typing","agent_typing_event":{"is_typing":true,"duration_ms":null}})",
       "agent_typing"},
      {R"({"type":"external_agent_connected","external_agent_connected_event":{}})",
       "external_agent_connected"},
      {R"({"type":"external_agent_disconnected","external_agent_disconnected_event":{}})",
       "external_agent_disconnected"},
      {R"({"type":"queue_status","queue_status_event":{"status":"waiting"}})", "queue_status"},
      {R"({"type":"agent_response_metadata","agent_response_metadata_event":{}})",
       "agent_response_metadata"},
      {R"({"type":"something_new_in_2027"})", "something_new_in_2027"},
      {R"({"type":""})", ""},
  };
  for (const auto& [json, type] : examples) {
    CHECK(parse_as<el::unknown_event>(json).type == type);
  }
}

TEST_CASE("elevenlabs server: event_id as a string is an error naming it", "[elevenlabs]") {
  const auto error =
      parse_failure(R"({"type":"audio","audio_event":{"audio_base_64":"AQ==","event_id":"5"}})");
  CHECK(error.code == parse_error_code::wrong_type);
  CHECK(error.field == "audio_event.event_id");
  CHECK(el::to_string(error) == "wrong_type at audio_event.event_id: expected an integer (64-bit)");
  const auto fractional =
      parse_failure(R"({"type":"interruption","interruption_event":{"event_id":5.5}})");
  CHECK(fractional.field == "interruption_event.event_id");
  const auto too_big = parse_failure(
      R"({"type":"interruption","interruption_event":{"event_id":9223372036854775808}})");
  CHECK(too_big.code == parse_error_code::wrong_type);
}

TEST_CASE("elevenlabs server: wrong element types in alignment arrays are named", "[elevenlabs]") {
  const auto chars = parse_failure(
      R"({"type":"audio","audio_event":{"audio_base_64":"","event_id":1,"alignment":{"chars":["H",1],"char_start_times_ms":[],"char_durations_ms":[]}}})");
  CHECK(chars.code == parse_error_code::wrong_type);
  CHECK(chars.field == "audio_event.alignment.chars[1]");
  const auto times = parse_failure(
      R"({"type":"audio","audio_event":{"audio_base_64":"","event_id":1,"alignment":{"chars":[],"char_start_times_ms":["0"],"char_durations_ms":[]}}})");
  CHECK(times.field == "audio_event.alignment.char_start_times_ms[0]");
  const auto alignment = parse_failure(
      R"({"type":"audio","audio_event":{"audio_base_64":"","event_id":1,"alignment":[]}})");
  CHECK(alignment.field == "audio_event.alignment");
}

TEST_CASE("elevenlabs server: missing or mistyped type", "[elevenlabs]") {
  const auto missing = parse_failure(R"({"ping_event":{"event_id":1}})");
  CHECK(missing.code == parse_error_code::missing_field);
  CHECK(missing.field == "type");
  const auto mistyped = parse_failure(R"({"type":7})");
  CHECK(mistyped.code == parse_error_code::wrong_type);
  CHECK(mistyped.field == "type");
}

TEST_CASE("elevenlabs server: malformed JSON and non-objects", "[elevenlabs]") {
  const std::string nul_after_object = std::string(ping_example) + '\0' + "garbage";
  const std::string_view malformed[] = {
      "",
      " ",
      "{",
      "not json",
      R"({"type":"ping",})",
      R"({"type":"ping","ping_event":{"event_id":1}} {})",
      R"({"type":"ping","ping_event":{"event_id":01}})",
      R"({"type":"audio","audio_event":{"audio_base_64":"\ud800","event_id":1}})",
      R"({"type":"unknown","\udee5":{}})",
      R"({"type":"user_transcript","user_transcription_event":{"user_transcript":"\udc00","event_id":1}})",
      std::string_view("{\"type\":\"x\",\"k\":\"!\xEE", 19),
      R"({"type":"x","n":1e400})",
      std::string_view("{\"type\":\"user_transcript\",\"user_transcription_event\":"
                       "{\"user_transcript\":\"\xC3\x28\",\"event_id\":1}}"),
      nul_after_object,
      std::string_view("{\"type\":\"pi\0ng\"}", 16),
  };
  for (const auto json : malformed) {
    const auto error = parse_failure(json);
    CHECK(error.code == parse_error_code::malformed_json);
    CHECK(error.field.empty());
    CHECK_FALSE(error.detail.empty());
  }
  for (const std::string_view json : {"[]", "null", "42", R"("ping")", "true"}) {
    CHECK(parse_failure(json).code == parse_error_code::not_an_object);
  }
}

TEST_CASE("elevenlabs server: nesting beyond the depth limit is refused, not a stack overflow",
          "[elevenlabs]") {
  const auto nested = [](unsigned depth) {
    std::string json = R"({"type":"x","deep":)";
    for (unsigned i = 1; i < depth; ++i)
      json += '[';
    for (unsigned i = 1; i < depth; ++i)
      json += ']';
    return json + '}';
  };
  CHECK(parse_as<el::unknown_event>(nested(el::max_json_depth)).type == "x");
  const auto error = parse_failure(nested(el::max_json_depth + 1));
  CHECK(error.code == parse_error_code::malformed_json);
  CHECK(parse_failure(nested(100000)).code == parse_error_code::malformed_json);
}

TEST_CASE("elevenlabs server: serializing a parsed example reproduces it byte for byte",
          "[elevenlabs]") {
  for (const auto json :
       {metadata_example, audio_example, user_transcript_example, tentative_user_transcript_example,
        agent_response_example, agent_response_correction_example, interruption_example,
        ping_example, client_tool_call_example, agent_tool_request_example,
        agent_tool_response_example, vad_score_example, quota_error_example}) {
    const auto parsed = el::parse_server_event(json);
    REQUIRE(parsed.has_value());
    CHECK(el::serialize(*parsed) == json);
  }
  CHECK(el::serialize(el::unknown_event{"guardrail_triggered"}) ==
        R"({"type":"guardrail_triggered"})");
}

TEST_CASE("elevenlabs server: every event round-trips through serialize and parse",
          "[elevenlabs]") {
  check_round_trip(el::conversation_initiation_metadata_event{"conv", "pcm_44100", "ulaw_8000"});
  check_round_trip(el::audio_event{{}, 0, std::nullopt});
  check_round_trip(el::audio_event{
      {1, 2, 3, 250}, 99, el::audio_alignment{{"é", "\"", "\\"}, {0, 12.5, 1e-3}, {12.5, 7, 0}}});
  check_round_trip(el::user_transcript_event{"Hello \"there\"\n", 4});
  check_round_trip(el::tentative_user_transcript_event{"", -1});
  check_round_trip(el::agent_response_event{"Hi", INT64_MAX});
  check_round_trip(el::agent_response_correction_event{"long", "lo", INT64_MIN});
  check_round_trip(el::interruption_event{3});
  check_round_trip(el::ping_event{9, std::nullopt});
  check_round_trip(el::ping_event{9, 120});
  auto parameters = el::json_object::parse(R"({"a":[1,2.5,"x"],"b":{"c":null}})");
  REQUIRE(parameters.has_value());
  check_round_trip(el::client_tool_call_event{"open_page", "call_1", *parameters, 6});
  check_round_trip(el::client_tool_call_event{"noop", "call_2", el::json_object{}, 7});
  check_round_trip(el::agent_tool_request_event{"lookup", "t1", "webhook", 6});
  check_round_trip(el::agent_tool_response_event{"end_call", "t2", "system", true, false, 7});
  check_round_trip(el::vad_score_event{0.123456789});
  check_round_trip(el::vad_score_event{1});
  check_round_trip(el::error_event{el::error_shape::nested, 1008, "bad", "override_error", "r"});
  check_round_trip(
      el::error_event{el::error_shape::nested, std::nullopt, "", std::nullopt, std::nullopt});
  check_round_trip(
      el::error_event{el::error_shape::flat, std::nullopt, "quota", std::nullopt, std::nullopt});
  check_round_trip(el::unknown_event{"agent_response_metadata"});
}

TEST_CASE("elevenlabs server: parsing into an event reuses the previous audio buffers",
          "[elevenlabs]") {
  el::server_event event;
  std::string buffer(audio_example);
  REQUIRE_FALSE(el::parse_server_event_into(buffer, event).has_value());
  REQUIRE(std::holds_alternative<el::audio_event>(event));
  const std::uint8_t* audio_storage = std::get<el::audio_event>(event).audio.data();

  buffer = R"({"type":"audio","audio_event":{"audio_base_64":"BwgJ","event_id":6}})";
  REQUIRE_FALSE(el::parse_server_event_into(buffer, event).has_value());
  const auto& audio = std::get<el::audio_event>(event);
  CHECK(audio.audio == std::vector<std::uint8_t>{7, 8, 9});
  CHECK(audio.audio.data() == audio_storage);
  CHECK(audio.event_id == 6);
  CHECK_FALSE(audio.alignment.has_value());

  buffer = std::string(ping_example);
  REQUIRE_FALSE(el::parse_server_event_into(buffer, event).has_value());
  CHECK(event == el::server_event{el::ping_event{9, std::nullopt}});
}

TEST_CASE("elevenlabs server: parsing into an event reports errors like parse_server_event",
          "[elevenlabs]") {
  el::server_event event = el::ping_event{1, 2};
  std::string buffer = R"({"type":"audio","audio_event":{"audio_base_64":"AQ=","event_id":1}})";
  const auto error = el::parse_server_event_into(buffer, event);
  REQUIRE(error.has_value());
  CHECK(error->code == parse_error_code::invalid_value);
  CHECK(error->field == "audio_event.audio_base_64");
  CHECK(el::to_string(*error) ==
        "invalid_value at audio_event.audio_base_64: base64 text length is not a multiple of 4");
}
