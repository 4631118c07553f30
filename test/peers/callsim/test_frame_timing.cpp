#include <catch2/catch.hpp>

#include <cstdint>

#include "apps/callsim/frame_timing.hpp"

using cb::callsim::frame_timing;

namespace {
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t t0 = 5'000 * ms;
constexpr std::int64_t period = 20 * ms;
}  // namespace

TEST_CASE("frames on a steady 20 ms cadence are neither late nor bursts") {
  frame_timing timing;
  for (int k = 0; k < 50; ++k)
    timing.record(t0 + k * period);
  const auto s = timing.stats();
  CHECK(s.frames == 50);
  CHECK(s.late_frames == 0);
  CHECK(s.bursts == 0);
  CHECK(s.pauses == 0);
  CHECK(s.mean_gap_ms == Approx(20.0));
  CHECK(s.deviation_max_ms == 0.0);
  CHECK(s.longest_run_frames == 50);
  CHECK(s.longest_run_ms == Approx(1000.0));
}

TEST_CASE("a frame more than 5 ms past its slot is late, and the next one on time is not") {
  frame_timing timing;
  timing.record(t0);
  timing.record(t0 + 20 * ms);
  timing.record(t0 + 48 * ms);  // slot 40 ms: 8 ms late
  timing.record(t0 + 60 * ms);  // back on its slot after a 12 ms gap
  timing.record(t0 + 84 * ms);  // 4 ms: within tolerance
  const auto s = timing.stats();
  CHECK(s.late_frames == 1);
  CHECK(s.bursts == 0);
  CHECK(s.deviation_max_ms == Approx(8.0));
}

TEST_CASE("frames arriving together are bursts") {
  frame_timing timing;
  for (int k = 0; k < 5; ++k)
    timing.record(t0 + k * ms / 10);
  const auto s = timing.stats();
  CHECK(s.bursts == 4);
  CHECK(s.late_frames == 0);
  CHECK(s.deviation_max_ms == Approx(19.9));
}

TEST_CASE("after a pause the slots re-anchor, and the pause is not jitter") {
  frame_timing timing;
  for (int k = 0; k < 10; ++k)
    timing.record(t0 + k * period);
  const std::int64_t resume = t0 + 9 * period + 1'007 * ms;  // off the old cadence
  for (int k = 0; k < 10; ++k)
    timing.record(resume + k * period);
  const auto s = timing.stats();
  CHECK(s.pauses == 1);
  CHECK(s.late_frames == 0);
  CHECK(s.deviation_max_ms == 0.0);
  CHECK(s.mean_gap_ms == Approx(20.0));
  CHECK(s.longest_run_frames == 10);
}

TEST_CASE("a gap of more than two periods ends a run") {
  frame_timing timing;
  std::int64_t t = t0;
  for (int k = 0; k < 5; ++k)
    timing.record(t += 20 * ms);
  t += 45 * ms;
  for (int k = 0; k < 8; ++k)
    timing.record(t += 20 * ms);
  const auto s = timing.stats();
  CHECK(s.longest_run_frames == 8);
  CHECK(s.longest_run_ms == Approx(160.0));
  CHECK(s.late_frames == 8);  // everything after the stall is 45 ms behind its slot
}
