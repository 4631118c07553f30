#include "protocol/elevenlabs_webhook.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "protocol/elevenlabs_json.hpp"

namespace cb::elevenlabs {
namespace {

using detail::field_reader;
using detail::presence;

using digest = std::array<std::uint8_t, 32>;

// HMAC-SHA256 from OpenSSL's libcrypto, fed in parts so the signed "<t>.<body>" is never copied
// into one buffer (a post_call_audio body is megabytes).
class hmac_sha256_stream {
 public:
  explicit hmac_sha256_stream(std::string_view key)
      : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)), ctx_(EVP_MAC_CTX_new(mac_)) {
    char sha256_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0),
        OSSL_PARAM_construct_end()};
    ok_ = ctx_ != nullptr && EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(key.data()),
                                          key.size(), params) == 1;
  }
  hmac_sha256_stream(const hmac_sha256_stream&) = delete;
  hmac_sha256_stream& operator=(const hmac_sha256_stream&) = delete;
  ~hmac_sha256_stream() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }

  void update(std::string_view data) {
    ok_ = ok_ && EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size()) == 1;
  }

  // All zeros if libcrypto failed (it does not for HMAC-SHA256): matches no real signature.
  digest finish() {
    digest out{};
    std::size_t length = 0;
    if (!ok_ || EVP_MAC_final(ctx_, out.data(), &length, out.size()) != 1 || length != out.size()) {
      out.fill(0);
    }
    return out;
  }

 private:
  EVP_MAC* mac_;
  EVP_MAC_CTX* ctx_;
  bool ok_ = false;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<digest> parse_hex_digest(std::string_view hex) {
  digest out{};
  if (hex.size() != 2 * out.size()) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

bool equal_in_constant_time(const digest& a, const digest& b) {
  unsigned difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    difference |= static_cast<unsigned>(a[i] ^ b[i]);
  return difference == 0;
}

struct parsed_signature {
  std::int64_t timestamp = 0;
  std::string_view timestamp_text;
  std::vector<digest> candidates;
};

std::optional<parsed_signature> parse_signature_header(std::string_view header) {
  parsed_signature out;
  bool has_timestamp = false;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const auto part = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (part.substr(0, 2) == "t=") {
      const auto digits = part.substr(2);
      const char* last = digits.data() + digits.size();
      if (has_timestamp || digits.empty() || digits.front() == '-') return std::nullopt;
      const auto [end, ec] = std::from_chars(digits.data(), last, out.timestamp);
      if (ec != std::errc{} || end != last) return std::nullopt;
      out.timestamp_text = digits;
      has_timestamp = true;
    } else if (part.substr(0, 3) == "v0=") {
      auto candidate = parse_hex_digest(part.substr(3));
      if (!candidate) return std::nullopt;
      out.candidates.push_back(*candidate);
    }
  }
  if (!has_timestamp || out.candidates.empty()) return std::nullopt;
  return out;
}

constexpr std::string_view transcription_type = "post_call_transcription";
constexpr std::string_view audio_type = "post_call_audio";

void read_data(field_reader& data, post_call_webhook& out) {
  data.read("conversation_id", out.conversation_id);
  std::optional<std::string> agent_id;
  data.read("agent_id", agent_id);
  out.agent_id = agent_id.value_or("");
  if (auto analysis = data.child("analysis", presence::optional)) {
    std::optional<std::string> summary;
    analysis->read("transcript_summary", summary);
    out.summary = summary.value_or("");
    detail::json_writer(out.analysis_json).value(analysis->object());
  }
  if (auto metadata = data.child("metadata", presence::optional)) {
    std::optional<std::string> reason;
    metadata->read("termination_reason", reason);
    out.termination_reason = reason.value_or("");
    metadata->read("cost", out.cost);
  }
  if (!data.ok()) return;
  // The audio is the recording itself (megabytes of base64 MP3): not a record to keep in a row.
  detail::json_writer w(out.payload_json);
  w.begin_object();
  for (const auto& member : data.object().GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name == "full_audio") continue;
    w.key(name).value(member.value);
  }
  w.end_object();
}

}  // namespace

const char* to_string(webhook_auth_error error) {
  switch (error) {
    case webhook_auth_error::no_secret:
      return "no webhook secret is configured";
    case webhook_auth_error::malformed_signature:
      return "missing or malformed ElevenLabs-Signature header";
    case webhook_auth_error::stale_timestamp:
      return "signature timestamp outside the 30-minute tolerance";
    case webhook_auth_error::bad_signature:
      return "signature does not match";
  }
  return "unknown webhook authentication error";
}

std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view message) {
  hmac_sha256_stream mac(key);
  mac.update(message);
  return mac.finish();
}

std::optional<webhook_auth_error> verify_webhook_signature(std::string_view signature_header,
                                                           std::string_view raw_body,
                                                           std::string_view secret,
                                                           std::int64_t now_unix_s) {
  if (secret.empty()) return webhook_auth_error::no_secret;
  const auto signature = parse_signature_header(signature_header);
  if (!signature) return webhook_auth_error::malformed_signature;
  const std::int64_t age = now_unix_s - signature->timestamp;
  if (age > webhook_tolerance_s || age < -webhook_tolerance_s) {
    return webhook_auth_error::stale_timestamp;
  }
  hmac_sha256_stream mac(secret);
  mac.update(signature->timestamp_text);
  mac.update(".");
  mac.update(raw_body);
  const auto expected = mac.finish();
  bool matched = false;
  for (const auto& candidate : signature->candidates)
    matched |= equal_in_constant_time(candidate, expected);
  if (!matched) return webhook_auth_error::bad_signature;
  return std::nullopt;
}

expected<post_call_webhook, parse_error> parse_post_call_webhook(std::string_view body) {
  std::string buffer = detail::padded_copy(body);
  detail::parsed_document document;
  if (auto error = document.parse_object_in_place(buffer)) return unexpected{std::move(*error)};
  std::optional<parse_error> error;
  field_reader root(document.root(), error);
  post_call_webhook out;
  root.read("type", out.kind);
  if (root.ok() && out.kind != transcription_type && out.kind != audio_type) {
    root.fail(parse_error_code::unknown_type, "type", "not a post-call webhook: " + out.kind);
  }
  root.read("event_timestamp", out.event_unix_s);
  if (auto data = root.child("data", presence::required)) read_data(*data, out);
  if (error) return unexpected{std::move(*error)};
  return out;
}

}  // namespace cb::elevenlabs
