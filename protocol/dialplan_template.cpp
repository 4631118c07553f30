#include "protocol/dialplan_template.hpp"

#include <algorithm>

namespace cb::dialplan {

namespace {

const char* to_string(template_error_code code) {
  switch (code) {
    case template_error_code::unclosed_placeholder:
      return "unclosed_placeholder";
    case template_error_code::empty_placeholder:
      return "empty_placeholder";
    case template_error_code::missing_value:
      return "missing_value";
    case template_error_code::unsafe_value:
      return "unsafe_value";
  }
  return "missing_value";
}

}  // namespace

std::string to_string(const template_error& error) {
  return std::string(to_string(error.code)) + " for {" + error.name + "}";
}

bool is_safe_value(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '*' || c == '#' || c == '_' || c == '.' || c == '@' || c == '-';
  });
}

expected<std::string, template_error> fill(
    std::string_view text,
    const std::function<std::optional<std::string>(std::string_view name)>& lookup) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto open = text.find('{');
    out.append(text.substr(0, open));
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open);
    if (close == std::string_view::npos) {
      return unexpected{template_error{template_error_code::unclosed_placeholder,
                                       std::string(text.substr(open + 1))}};
    }
    const auto name = text.substr(open + 1, close - open - 1);
    if (name.empty()) return unexpected{template_error{template_error_code::empty_placeholder, {}}};
    auto value = lookup(name);
    if (!value)
      return unexpected{template_error{template_error_code::missing_value, std::string(name)}};
    if (!is_safe_value(*value)) {
      return unexpected{template_error{template_error_code::unsafe_value, std::string(name)}};
    }
    out += *value;
    text.remove_prefix(close + 1);
  }
  return out;
}

}  // namespace cb::dialplan
