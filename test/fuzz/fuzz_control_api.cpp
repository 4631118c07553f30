// Everything an API client or a webhook sender controls goes through these parsers: whatever the
// bytes, they answer a value or an error naming the problem, and never crash, hang or read past
// the input.
//
// Input: a selector byte, then the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/control_api.hpp"
#include "protocol/elevenlabs_webhook.hpp"

namespace api = cb::api;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto format = (data[0] & 0x80) != 0 ? api::body_format::form : api::body_format::json;
  switch (data[0] & 0x0f) {
    case 0:
      (void)api::parse_ws_message(text);
      (void)api::legacy_request_id(text);
      break;
    case 1:
      (void)api::parse_call_setup(text, format);
      break;
    case 2:
      (void)api::parse_originate(text, format);
      break;
    case 3:
      (void)api::parse_transfer(text, format);
      break;
    case 4:
      (void)api::parse_message(text, format);
      break;
    case 5:
      (void)api::parse_legacy_start_call(text);
      break;
    case 6:
      if (auto target = api::parse_target(text)) (void)api::parse_history_query(target->query);
      break;
    case 7:
      (void)api::parse_form(text);
      break;
    case 8:
      (void)cb::elevenlabs::parse_post_call_webhook(text);
      break;
    case 9: {
      // The header's grammar: a signature over an empty body with a fixed secret and clock.
      const auto cut = text.find('\n');
      (void)cb::elevenlabs::verify_webhook_signature(
          text.substr(0, cut),
          cut == std::string_view::npos ? std::string_view{} : text.substr(cut + 1), "wsec_fuzz",
          1795543200);
      break;
    }
    default:
      break;
  }
  return 0;
}
