#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs {

const char* to_string(parse_error_code code) {
  switch (code) {
    case parse_error_code::malformed_json:
      return "malformed_json";
    case parse_error_code::not_an_object:
      return "not_an_object";
    case parse_error_code::missing_field:
      return "missing_field";
    case parse_error_code::wrong_type:
      return "wrong_type";
    case parse_error_code::invalid_value:
      return "invalid_value";
    case parse_error_code::unknown_type:
      return "unknown_type";
  }
  return "unknown_parse_error";
}

std::string to_string(const parse_error& error) {
  std::string text = to_string(error.code);
  if (!error.field.empty()) {
    text += " at ";
    text += error.field;
  }
  if (!error.detail.empty()) {
    text += ": ";
    text += error.detail;
  }
  return text;
}

}  // namespace cb::elevenlabs
