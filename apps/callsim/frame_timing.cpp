#include "apps/callsim/frame_timing.hpp"

#include <cstdlib>

namespace cb::callsim {

namespace {
constexpr double ns_per_ms = 1e6;
}

frame_timing::frame_timing(timing_options options) : options_(options) {}

void frame_timing::record(std::int64_t arrival_ns) {
  const std::int64_t period = options_.frame_period.count();
  if (frames_++ == 0) {
    anchor_ns_ = run_start_ns_ = last_ns_ = arrival_ns;
    run_frames_ = longest_run_frames_ = 1;
    longest_run_ns_ = period;
    return;
  }
  const std::int64_t gap = arrival_ns - last_ns_;
  last_ns_ = arrival_ns;

  if (gap > options_.run_break_after.count()) {
    run_start_ns_ = arrival_ns;
    run_frames_ = 0;
  }
  ++run_frames_;
  if (run_frames_ > longest_run_frames_) {
    longest_run_frames_ = run_frames_;
    longest_run_ns_ = arrival_ns - run_start_ns_ + period;
  }

  if (gap > options_.pause_after.count()) {
    ++pauses_;
    anchor_ns_ = arrival_ns;
    slot_ = 0;
    return;
  }
  gap_sum_ns_ += gap;
  deviations_.record(std::llabs(gap - period));
  if (gap < options_.burst_below.count()) ++bursts_;
  ++slot_;
  const std::int64_t slot_ns = anchor_ns_ + static_cast<std::int64_t>(slot_) * period;
  if (arrival_ns - slot_ns > options_.late_after.count()) ++late_;
}

timing_stats frame_timing::stats() const {
  timing_stats s;
  s.frames = frames_;
  s.late_frames = late_;
  s.bursts = bursts_;
  s.pauses = pauses_;
  if (deviations_.count() > 0) {
    s.mean_gap_ms =
        static_cast<double>(gap_sum_ns_) / static_cast<double>(deviations_.count()) / ns_per_ms;
    s.deviation_p50_ms = static_cast<double>(deviations_.percentile_ns(0.5)) / ns_per_ms;
    s.deviation_p99_ms = static_cast<double>(deviations_.percentile_ns(0.99)) / ns_per_ms;
    s.deviation_max_ms = static_cast<double>(deviations_.max_ns()) / ns_per_ms;
  }
  s.longest_run_frames = longest_run_frames_;
  s.longest_run_ms = static_cast<double>(longest_run_ns_) / ns_per_ms;
  return s;
}

}  // namespace cb::callsim
