// ElevenLabs' post-call webhooks: the ElevenLabs-Signature check and the post_call_transcription /
// post_call_audio bodies, reduced to what the call store joins to a call by conversation id.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/expected.hpp"
#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs {

// The official SDKs refuse signatures older than this; newer than now by as much is refused too, so
// a leaked request cannot be replayed for longer than the window either way.
inline constexpr std::int64_t webhook_tolerance_s = 30 * 60;

enum class webhook_auth_error : std::uint8_t {
  no_secret,            // no webhook secret configured: every webhook is refused
  malformed_signature,  // no ElevenLabs-Signature header, or not "t=<unix>,v0=<64 hex digits>"
  stale_timestamp,      // t is more than webhook_tolerance_s away from now
  bad_signature,        // no v0 matches HMAC-SHA256(secret, "<t>.<raw body>")
};

[[nodiscard]] const char* to_string(webhook_auth_error error);

// Checks `ElevenLabs-Signature: t=<unix>,v0=<hex>` against the raw body as received. Parts are
// comma-separated in any order; unknown schemes are ignored and any of several v0 parts may match
// (secret rotation). The digest comparison takes the same time wherever the first difference is.
[[nodiscard]] std::optional<webhook_auth_error> verify_webhook_signature(
    std::string_view signature_header, std::string_view raw_body, std::string_view secret,
    std::int64_t now_unix_s);

// HMAC-SHA256 (RFC 2104, FIPS 180-4), the webhook signature's primitive.
[[nodiscard]] std::array<std::uint8_t, 32> hmac_sha256(std::string_view key,
                                                       std::string_view message);

// What a post-call webhook says about one conversation.
struct post_call_webhook {
  std::string conversation_id;
  std::string agent_id;
  std::string kind;  // "post_call_transcription" or "post_call_audio"
  std::int64_t event_unix_s = 0;
  std::string summary;             // data.analysis.transcript_summary
  std::string analysis_json;       // data.analysis, compact JSON; empty when absent
  std::string termination_reason;  // data.metadata.termination_reason
  std::optional<double> cost;      // data.metadata.cost
  std::string payload_json;        // the data object as compact JSON, without full_audio

  friend bool operator==(const post_call_webhook& a, const post_call_webhook& b) {
    return a.conversation_id == b.conversation_id && a.agent_id == b.agent_id && a.kind == b.kind &&
           a.event_unix_s == b.event_unix_s && a.summary == b.summary &&
           a.analysis_json == b.analysis_json && a.termination_reason == b.termination_reason &&
           a.cost == b.cost && a.payload_json == b.payload_json;
  }
  friend bool operator!=(const post_call_webhook& a, const post_call_webhook& b) {
    return !(a == b);
  }
};

// Parses {"type":…,"event_timestamp":<unix>,"data":{"conversation_id":…,…}}. type, event_timestamp,
// data and data.conversation_id are required; another type (call_initiation_failure, …) is
// unknown_type at "type", which a receiver acknowledges without storing anything.
[[nodiscard]] expected<post_call_webhook, parse_error> parse_post_call_webhook(
    std::string_view body);

}  // namespace cb::elevenlabs
