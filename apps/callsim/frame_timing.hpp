// How regularly a peer's audio frames arrive. A server must pace its output at one 20 ms frame per
// 20 ms (Asterisk plays what it gets at once, so bursts are dropped downstream and late frames are
// gaps in the caller's ear); this measures that from arrival times alone.
#pragma once

#include <chrono>
#include <cstdint>

#include "apps/callsim/duration_histogram.hpp"

namespace cb::callsim {

struct timing_options {
  std::chrono::nanoseconds frame_period{std::chrono::milliseconds{20}};
  // A frame arriving more than this after its slot is late. Slot k is first + k * frame_period,
  // counted from the first frame (or the first after a pause).
  std::chrono::nanoseconds late_after{std::chrono::milliseconds{5}};
  // A gap shorter than this is a burst: the frame came with or right after the previous one.
  std::chrono::nanoseconds burst_below{std::chrono::milliseconds{10}};
  // A gap longer than this is a pause: the peer sent nothing for a while, as an Asterisk leg does
  // while silent. Slots re-anchor at the frame after it, and the gap is left out of the jitter.
  std::chrono::nanoseconds pause_after{std::chrono::milliseconds{200}};
  // A gap longer than this ends a continuous run of frames.
  std::chrono::nanoseconds run_break_after{std::chrono::milliseconds{40}};
};

struct timing_stats {
  std::uint64_t frames = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t bursts = 0;
  std::uint64_t pauses = 0;
  double mean_gap_ms = 0.0;  // pauses excluded
  // |gap - frame_period| over the gaps that are not pauses.
  double deviation_p50_ms = 0.0;
  double deviation_p99_ms = 0.0;
  double deviation_max_ms = 0.0;
  // The longest stretch with no gap over run_break_after: frames, and first to last arrival plus
  // one period.
  std::uint64_t longest_run_frames = 0;
  double longest_run_ms = 0.0;
};

class frame_timing {
 public:
  explicit frame_timing(timing_options options = {});

  void record(std::int64_t arrival_ns);

  [[nodiscard]] timing_stats stats() const;
  [[nodiscard]] const duration_histogram& deviations() const { return deviations_; }
  [[nodiscard]] const timing_options& options() const { return options_; }

 private:
  timing_options options_;
  duration_histogram deviations_;
  std::uint64_t frames_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t bursts_ = 0;
  std::uint64_t pauses_ = 0;
  std::int64_t gap_sum_ns_ = 0;  // over the gaps that are not pauses
  std::int64_t last_ns_ = 0;
  std::int64_t anchor_ns_ = 0;
  std::uint64_t slot_ = 0;
  std::int64_t run_start_ns_ = 0;
  std::uint64_t run_frames_ = 0;
  std::int64_t longest_run_ns_ = 0;
  std::uint64_t longest_run_frames_ = 0;
};

}  // namespace cb::callsim
