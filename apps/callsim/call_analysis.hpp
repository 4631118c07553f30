// Questions the integration tests ask of what a caller heard: which tone, for how long, from when,
// and when a given tone was last present. All work on a call_report's frame log; the tone test also
// needs its PCM (call_spec::record_pcm).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>

#include "apps/callsim/call_report.hpp"

namespace cb::callsim {

// Arrival times (CLOCK_MONOTONIC ns), from inclusive, to exclusive.
struct time_window {
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();

  [[nodiscard]] bool contains(std::int64_t t) const { return t >= from_ns && t < to_ns; }
};

inline constexpr double default_silence_dbfs = -50.0;

// The median of the per-frame zero-crossing estimates over the audio frames above silence_dbfs in
// the window: robust to the odd frame that straddles a change of tone. 0 when none.
[[nodiscard]] double dominant_frequency_hz(const call_report& report, time_window window = {},
                                           double silence_dbfs = default_silence_dbfs);

// Total duration of the audio frames above silence_dbfs in the window.
[[nodiscard]] double non_silent_ms(const call_report& report, time_window window = {},
                                   double silence_dbfs = default_silence_dbfs);

[[nodiscard]] std::optional<std::int64_t> first_non_silent_ns(
    const call_report& report, double silence_dbfs = default_silence_dbfs);

// A frame holds a tone when the tone's power (Goertzel over the frame) is above min_level_dbfs and
// is at least min_share of the frame's power.
struct tone_threshold {
  double min_level_dbfs = -50.0;
  double min_share = 0.5;
};

// Arrival of the last audio frame in the window holding frequency_hz; nullopt when none does or
// the PCM was not recorded.
[[nodiscard]] std::optional<std::int64_t> last_frame_with_tone_ns(const call_report& report,
                                                                  double frequency_hz,
                                                                  time_window window = {},
                                                                  tone_threshold threshold = {});

}  // namespace cb::callsim
