#include "apps/callsim/spec_parse.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

#include "protocol/audiosocket.hpp"

namespace cb::callsim {

namespace {

struct unit {
  std::string_view suffix;
  double ns;
};

// Longer suffixes first, so "ms" is not read as "s".
constexpr unit units[] = {{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}};

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       std::chrono::nanoseconds bare_unit) {
  auto scale = static_cast<double>(bare_unit.count());
  for (const auto& u : units) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      text.remove_suffix(u.suffix.size());
      scale = u.ns;
      break;
    }
  }
  if (text.empty() || text.front() == '-' || text.front() == '+' || text.front() == ' ') {
    return std::nullopt;
  }
  const std::string number(text);
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return std::nullopt;
  return std::chrono::nanoseconds{std::llround(value * scale)};
}

std::optional<std::vector<dtmf_event>> parse_dtmf_schedule(std::string_view text) {
  std::vector<dtmf_event> events;
  for (bool more = !text.empty(); more;) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    more = comma != std::string_view::npos;
    if (more) text.remove_prefix(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos || colon + 2 != item.size()) return std::nullopt;
    const auto at = parse_duration(item.substr(0, colon), std::chrono::milliseconds{1});
    const char digit = item[colon + 1];
    if (!at || !audiosocket::is_dtmf_digit(digit)) return std::nullopt;
    events.push_back(dtmf_event{*at, digit});
  }
  if (events.empty()) return std::nullopt;
  return events;
}

std::optional<send_gap> parse_gap(std::string_view text) {
  const auto plus = text.find('+');
  if (plus == std::string_view::npos) return std::nullopt;
  const auto start = parse_duration(text.substr(0, plus), std::chrono::milliseconds{1});
  const auto length = parse_duration(text.substr(plus + 1), std::chrono::milliseconds{1});
  if (!start || !length) return std::nullopt;
  return send_gap{*start, *length};
}

}  // namespace cb::callsim
