// How the callsim command line shows reports: one line per call for people, JSON for scripts, and
// the level bar of the live view.
#pragma once

#include <string>

#include "apps/callsim/call_report.hpp"

namespace cb::callsim {

// "3f2a...: sent 250 dtmf 2, received 249 | gap 20.00 ms, jitter p50 0.05 p99 0.40 max 1.20 ms,
// late 0, bursts 0 | heard 440 Hz for 4980 ms | caller_hangup"
[[nodiscard]] std::string summary_line(const call_report& r);
[[nodiscard]] std::string summary_line(const aggregate_report& total);

// One JSON object; the frame log and PCM are left out.
[[nodiscard]] std::string to_json(const call_report& r);
[[nodiscard]] std::string to_json(const aggregate_report& total);

// `width` characters, '#' for the part of -60..0 dBFS that level_dbfs reaches, '.' for the rest.
[[nodiscard]] std::string level_bar(double level_dbfs, int width);

}  // namespace cb::callsim
