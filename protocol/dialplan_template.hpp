// Dialplan targets built from operator templates such as "{destination}" or "ingroup_{queue}":
// the values come from an agent's tool call or an API body, so what may fill a placeholder is
// restricted to what a dialplan extension or context can safely hold.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "codecs/expected.hpp"

namespace cb::dialplan {

enum class template_error_code : std::uint8_t {
  unclosed_placeholder,  // "{" without "}"
  empty_placeholder,     // "{}"
  missing_value,         // no value for a placeholder
  unsafe_value,          // a value with characters outside [A-Za-z0-9+*#_.@-], or empty
};

struct template_error {
  template_error_code code = template_error_code::missing_value;
  std::string name;  // the placeholder at fault

  friend bool operator==(const template_error& a, const template_error& b) {
    return a.code == b.code && a.name == b.name;
  }
  friend bool operator!=(const template_error& a, const template_error& b) { return !(a == b); }
};

// "missing_value for {destination}".
[[nodiscard]] std::string to_string(const template_error& error);

// True for a value that may be put into an extension, a context or a priority label.
[[nodiscard]] bool is_safe_value(std::string_view value);

// Replaces each {name} with lookup(name). Text outside placeholders is the operator's and is kept.
[[nodiscard]] expected<std::string, template_error> fill(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup);

}  // namespace cb::dialplan
