// Why a frame from (or for) the agent could not be read. The bridge ends the call with this as the
// reason, so it names the offending member by its JSON path.
#pragma once

#include <cstdint>
#include <string>

namespace cb::elevenlabs {

enum class parse_error_code : std::uint8_t {
  malformed_json,  // not JSON text (RapidJSON's reason and byte offset in detail), or nested too
                   // deep
  not_an_object,   // JSON, but the top level is not an object
  missing_field,   // a required member is absent ("type" when the message has no type)
  wrong_type,      // a member has the wrong JSON type (null counts as wrong for a required member)
  invalid_value,   // right JSON type, but a value the protocol does not allow (bad base64, ...)
  unknown_type,    // a client message whose `type` this protocol does not define
};

struct parse_error {
  parse_error_code code = parse_error_code::malformed_json;
  std::string field;  // dotted JSON path, e.g. "audio_event.event_id"; empty for the whole text
  std::string detail;

  friend bool operator==(const parse_error& a, const parse_error& b) {
    return a.code == b.code && a.field == b.field && a.detail == b.detail;
  }
  friend bool operator!=(const parse_error& a, const parse_error& b) { return !(a == b); }
};

[[nodiscard]] const char* to_string(parse_error_code code);
// One line for logs and call-end reasons: "wrong_type at audio_event.event_id: expected an
// integer".
[[nodiscard]] std::string to_string(const parse_error& error);

}  // namespace cb::elevenlabs
