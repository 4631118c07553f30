// An arbitrary JSON object carried through the agent protocol without being interpreted: a client
// tool call's parameters, custom_llm_extra_body, or an operator-supplied override object.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "codecs/expected.hpp"
#include "protocol/elevenlabs_parse_error.hpp"

namespace cb::elevenlabs {

namespace detail {
struct json_object_access;
}

// A JSON scalar that keeps its type: string, integer (one that fits int64), any other number, or
// boolean.
using json_scalar = std::variant<std::string, std::int64_t, double, bool>;

// Holds the object as compact JSON text: validated once, embedded verbatim when a message is
// serialized, and compared by that text. The text is canonical (no whitespace, one escaping of
// each string, numbers in shortest round-trip form, integers kept apart from doubles), so an object
// parsed from a serialized message compares equal to the one serialized. Member order and
// duplicates are kept as given.
class json_object {
 public:
  json_object() = default;  // {}

  // Accepts exactly one JSON object (surrounding whitespace allowed), nested at most
  // max_json_depth deep; anything else is a parse_error.
  [[nodiscard]] static expected<json_object, parse_error> parse(std::string_view text);

  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  // The top-level member `key` (the first, if repeated) when it is a scalar; nullopt when it is
  // absent, null, an object or an array. Parses text() on each call: meant for the occasional
  // tool call, not the audio path.
  [[nodiscard]] std::optional<json_scalar> scalar(std::string_view key) const;
  // Every top-level scalar member (the first of repeated keys); objects, arrays and nulls are left
  // out. For tool parameters, like scalar().
  [[nodiscard]] std::map<std::string, json_scalar> scalars() const;

  friend bool operator==(const json_object& a, const json_object& b) { return a.text_ == b.text_; }
  friend bool operator!=(const json_object& a, const json_object& b) { return !(a == b); }

 private:
  friend struct detail::json_object_access;
  explicit json_object(std::string canonical_text) : text_(std::move(canonical_text)) {}

  std::string text_ = "{}";
};

// Deeper JSON is refused (malformed_json) before it can exhaust the stack of the recursive parser
// and writer; real agent messages nest four levels at most.
inline constexpr unsigned max_json_depth = 64;

}  // namespace cb::elevenlabs
