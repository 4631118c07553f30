// Text forms of call_spec fields, as the callsim command line takes them.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "apps/callsim/call_spec.hpp"

namespace cb::callsim {

// "5s", "1.5s", "250ms", "300us", "2m"; a bare number is in bare_unit. Negative values and
// trailing garbage are refused.
[[nodiscard]] std::optional<std::chrono::nanoseconds> parse_duration(
    std::string_view text, std::chrono::nanoseconds bare_unit);

// "1500:5,2500:#": digit 5 at 1.5 s, # at 2.5 s after connect; times in ms unless they carry a
// unit ("1.5s:5").
[[nodiscard]] std::optional<std::vector<dtmf_event>> parse_dtmf_schedule(std::string_view text);

// "2000+500": send nothing from 2 s to 2.5 s after connect; ms unless a unit is given
// ("2s+500ms").
[[nodiscard]] std::optional<send_gap> parse_gap(std::string_view text);

}  // namespace cb::callsim
