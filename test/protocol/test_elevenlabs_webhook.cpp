#include <catch2/catch.hpp>

#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/elevenlabs_webhook.hpp"

namespace el = cb::elevenlabs;
using el::webhook_auth_error;

namespace {

std::string hex(const std::array<std::uint8_t, 32>& digest) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  for (const auto b : digest) {
    out += digits[b >> 4U];
    out += digits[b & 0xfU];
  }
  return out;
}

// Signed with Python's hmac module: hmac.new(b"wsec_test", b"1739537297." + body, sha256).
constexpr std::string_view signed_body =
    R"({"type":"post_call_transcription","event_timestamp":1739537297,"data":{"agent_id":"agent_1","conversation_id":"conv_1"}})";
constexpr std::string_view secret = "wsec_test";
constexpr std::int64_t signed_at = 1739537297;
constexpr std::string_view good_digest =
    "ccc52164e64ef915d1aadd098c58f09de0a049b80ce02bb2bb0fb4e38e254383";

std::string header_for(std::string_view digest) {
  return "t=" + std::to_string(signed_at) + ",v0=" + std::string(digest);
}

// The documented post_call_transcription shape (GET-conversation data), trimmed to a short call.
constexpr std::string_view transcription_example = R"({
  "type": "post_call_transcription",
  "event_timestamp": 1739537297,
  "data": {
    "agent_id": "xyz",
    "conversation_id": "abc",
    "status": "done",
    "transcript": [
      {"role": "agent", "message": "Hey there angelo. How are you?", "tool_calls": null,
       "tool_results": null, "feedback": null, "time_in_call_secs": 0,
       "conversation_turn_metrics": null},
      {"role": "user", "message": "Hey, can you tell me, like, a fun fact about 11 Labs?",
       "tool_calls": null, "tool_results": null, "feedback": null, "time_in_call_secs": 2,
       "conversation_turn_metrics": null}
    ],
    "metadata": {
      "start_time_unix_secs": 1739537297,
      "call_duration_secs": 22,
      "cost": 296,
      "deletion_settings": {"deletion_time_unix_secs": 1802609320, "deleted_logs_at_time_unix_secs": null},
      "feedback": {"overall_score": null, "likes": 0, "dislikes": 0},
      "authorization_method": "authorization_header",
      "charging": {"dev_discount": true},
      "termination_reason": "client disconnected"
    },
    "analysis": {
      "evaluation_criteria_results": {},
      "data_collection_results": {},
      "call_successful": "success",
      "transcript_summary": "The conversation begins with the agent asking how Angelo is."
    },
    "conversation_initiation_client_data": {
      "conversation_config_override": {"agent": {"prompt": null, "first_message": null, "language": "en"}},
      "custom_llm_extra_body": {},
      "dynamic_variables": {"user_name": "angelo"}
    }
  }
})";

}  // namespace

TEST_CASE("hmac_sha256 matches the RFC 4231 vectors", "[elevenlabs][webhook]") {
  CHECK(hex(el::hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(el::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string long_key(131, '\xaa');
  CHECK(hex(el::hmac_sha256(long_key, "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hex(el::hmac_sha256(long_key,
                            "This is a test using a larger than block-size key and a larger than "
                            "block-size data. The key needs to be hashed before being used by the "
                            "HMAC algorithm.")) ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("hmac_sha256 pads messages at every block boundary", "[elevenlabs][webhook]") {
  // Python's hmac over "x" * n with key "k": lengths around the 64-byte block and its padding.
  const std::array<std::pair<std::size_t, std::string_view>, 6> vectors = {{
      {55, "d33fe5e5824d4a59f5af2ad989b91baccb4bd1a1bc582a2f1df2c8dd30589c88"},
      {56, "bf35c7626f5a247242b52a783a52545c3ff54acf1f0d144b659c410cd0947e4e"},
      {63, "4ff39e3b3b2d0cf83779f52b55d64a27ec9dad4f3ede42f0715b1ef0223a11d9"},
      {64, "fdf4ef53e5323766a0e0b63d7333e486e129156c11f46c640e65fb3edd01b6e5"},
      {119, "a145e845cb6ae8c35b9c76ee2803a7dd685ce7a3cbcf8486a34cbe31a8dfc9a0"},
      {120, "07567cab605779666161feebd8a0a33c09e08acc57f8c86af22e5ef1060ff511"},
  }};
  for (const auto& [length, digest] : vectors) {
    INFO("length " << length);
    CHECK(hex(el::hmac_sha256("k", std::string(length, 'x'))) == digest);
  }
  CHECK(hex(el::hmac_sha256("key", std::string(1000, 'a'))) ==
        "db636adca1d68c3ad2b38a24933870131c45f55262bf8f07b0c9bdc728ee5fb9");
}

TEST_CASE("webhook signature: a correctly signed body is accepted", "[elevenlabs][webhook]") {
  CHECK_FALSE(
      el::verify_webhook_signature(header_for(good_digest), signed_body, secret, signed_at));
  // Parts in either order, with spaces, an unknown scheme, and upper-case hex.
  CHECK_FALSE(el::verify_webhook_signature(
      " v1=zz , v0=" + std::string(good_digest) + " , t=" + std::to_string(signed_at), signed_body,
      secret, signed_at + 60));
  std::string upper(good_digest);
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK_FALSE(el::verify_webhook_signature(header_for(upper), signed_body, secret, signed_at));
  // During a secret rotation any of several v0 parts may match.
  CHECK_FALSE(el::verify_webhook_signature(
      "t=1739537297,v0=" + std::string(64, '0') + ",v0=" + std::string(good_digest), signed_body,
      secret, signed_at));
}

TEST_CASE("webhook signature: tampering and a wrong secret are refused", "[elevenlabs][webhook]") {
  std::string tampered(signed_body);
  tampered.replace(tampered.find("conv_1"), 6, "conv_2");
  CHECK(el::verify_webhook_signature(header_for(good_digest), tampered, secret, signed_at) ==
        webhook_auth_error::bad_signature);
  CHECK(el::verify_webhook_signature(header_for(good_digest), signed_body, "wsec_other",
                                     signed_at) == webhook_auth_error::bad_signature);
  // The timestamp is part of what is signed.
  CHECK(el::verify_webhook_signature("t=1739537298,v0=" + std::string(good_digest), signed_body,
                                     secret, signed_at) == webhook_auth_error::bad_signature);
  std::string flipped(good_digest);
  flipped.back() = flipped.back() == '3' ? '4' : '3';
  CHECK(el::verify_webhook_signature(header_for(flipped), signed_body, secret, signed_at) ==
        webhook_auth_error::bad_signature);
}

TEST_CASE("webhook signature: timestamps more than 30 minutes away are refused",
          "[elevenlabs][webhook]") {
  const auto header = header_for(good_digest);
  CHECK_FALSE(el::verify_webhook_signature(header, signed_body, secret, signed_at + 1800));
  CHECK(el::verify_webhook_signature(header, signed_body, secret, signed_at + 1801) ==
        webhook_auth_error::stale_timestamp);
  CHECK_FALSE(el::verify_webhook_signature(header, signed_body, secret, signed_at - 1800));
  CHECK(el::verify_webhook_signature(header, signed_body, secret, signed_at - 1801) ==
        webhook_auth_error::stale_timestamp);
}

TEST_CASE("webhook signature: no secret or a malformed header is refused",
          "[elevenlabs][webhook]") {
  CHECK(el::verify_webhook_signature(header_for(good_digest), signed_body, "", signed_at) ==
        webhook_auth_error::no_secret);
  const std::string digest(good_digest);
  for (const std::string& header :
       {std::string(), std::string("garbage"), "v0=" + digest, std::string("t=1739537297"),
        "t=,v0=" + digest, "t=abc,v0=" + digest, "t=-5,v0=" + digest, "t=17395372x7,v0=" + digest,
        "t=1739537297,t=1739537297,v0=" + digest, "t=1739537297,v0=" + digest.substr(1),
        "t=1739537297,v0=" + digest + "00", "t=1739537297,v0=" + digest.substr(2) + "zz",
        "t=99999999999999999999,v0=" + digest}) {
    INFO("header: " << header);
    CHECK(el::verify_webhook_signature(header, signed_body, secret, signed_at) ==
          webhook_auth_error::malformed_signature);
  }
}

TEST_CASE("post_call_transcription: summary, analysis, cost and reason are extracted",
          "[elevenlabs][webhook]") {
  const auto parsed = el::parse_post_call_webhook(transcription_example);
  REQUIRE(parsed.has_value());
  CHECK(parsed->kind == "post_call_transcription");
  CHECK(parsed->conversation_id == "abc");
  CHECK(parsed->agent_id == "xyz");
  CHECK(parsed->event_unix_s == 1739537297);
  CHECK(parsed->summary == "The conversation begins with the agent asking how Angelo is.");
  CHECK(parsed->termination_reason == "client disconnected");
  REQUIRE(parsed->cost.has_value());
  CHECK(*parsed->cost == 296.0);
  CHECK(parsed->analysis_json ==
        R"({"evaluation_criteria_results":{},"data_collection_results":{},"call_successful":)"
        R"("success","transcript_summary":"The conversation begins with the agent asking how )"
        R"(Angelo is."})");
  // The whole data object, compact, members in order.
  CHECK(parsed->payload_json.rfind(R"({"agent_id":"xyz","conversation_id":"abc","status":"done",)",
                                   0) == 0);
  CHECK(parsed->payload_json.find(R"("dynamic_variables":{"user_name":"angelo"})") !=
        std::string::npos);
}

TEST_CASE("post_call_audio: the recording is left out of the payload", "[elevenlabs][webhook]") {
  const auto parsed = el::parse_post_call_webhook(
      R"({"type":"post_call_audio","event_timestamp":1739537319,"data":{"agent_id":"xyz",)"
      R"("conversation_id":"abc","full_audio":"SUQzBAAAAAAA"}})");
  REQUIRE(parsed.has_value());
  CHECK(parsed->kind == "post_call_audio");
  CHECK(parsed->conversation_id == "abc");
  CHECK(parsed->event_unix_s == 1739537319);
  CHECK(parsed->summary.empty());
  CHECK(parsed->analysis_json.empty());
  CHECK_FALSE(parsed->cost.has_value());
  CHECK(parsed->payload_json == R"({"agent_id":"xyz","conversation_id":"abc"})");
}

TEST_CASE("post-call webhook: nulls read as absent", "[elevenlabs][webhook]") {
  const auto parsed = el::parse_post_call_webhook(
      R"({"type":"post_call_transcription","event_timestamp":1,"data":{"conversation_id":"c",)"
      R"("agent_id":null,"metadata":{"cost":null,"termination_reason":null},)"
      R"("analysis":{"transcript_summary":null}}})");
  REQUIRE(parsed.has_value());
  CHECK(parsed->agent_id.empty());
  CHECK_FALSE(parsed->cost.has_value());
  CHECK(parsed->termination_reason.empty());
  CHECK(parsed->summary.empty());
  CHECK(parsed->analysis_json == R"({"transcript_summary":null})");
}

TEST_CASE("post-call webhook: other types and broken bodies are typed errors",
          "[elevenlabs][webhook]") {
  using el::parse_error_code;
  const auto failure = el::parse_post_call_webhook(
      R"({"type":"call_initiation_failure","event_timestamp":1,"data":{"agent_id":"a",)"
      R"("conversation_id":"c","failure_reason":"busy"}})");
  REQUIRE_FALSE(failure.has_value());
  CHECK(failure.error().code == parse_error_code::unknown_type);
  CHECK(failure.error().field == "type");

  const auto no_conversation = el::parse_post_call_webhook(
      R"({"type":"post_call_transcription","event_timestamp":1,"data":{"agent_id":"a"}})");
  REQUIRE_FALSE(no_conversation.has_value());
  CHECK(no_conversation.error().code == parse_error_code::missing_field);
  CHECK(no_conversation.error().field == "data.conversation_id");

  const auto bad_cost = el::parse_post_call_webhook(
      R"({"type":"post_call_transcription","event_timestamp":1,"data":{"conversation_id":"c",)"
      R"("metadata":{"cost":"296"}}})");
  REQUIRE_FALSE(bad_cost.has_value());
  CHECK(bad_cost.error().code == parse_error_code::wrong_type);
  CHECK(bad_cost.error().field == "data.metadata.cost");

  const auto no_timestamp =
      el::parse_post_call_webhook(R"({"type":"post_call_audio","data":{"conversation_id":"c"}})");
  REQUIRE_FALSE(no_timestamp.has_value());
  CHECK(no_timestamp.error().field == "event_timestamp");

  CHECK(el::parse_post_call_webhook(R"({"type":"post_call_audio",)").error().code ==
        parse_error_code::malformed_json);
  CHECK(el::parse_post_call_webhook("[1]").error().code == parse_error_code::not_an_object);
}
