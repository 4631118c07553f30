// Percentiles of many short durations (frame jitter, stamp latency) without keeping every sample:
// fixed-size, no allocation per record, and mergeable across calls for the aggregate report.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cb::callsim {

// Log-linear bins over microseconds: exact below 64 us, then 32 bins per octave (at most 3.2%
// wide), up to about 71 minutes; longer values land in the last bin. Count, sum, min and max are
// exact.
class duration_histogram {
 public:
  // Negative durations count as 0.
  void record(std::int64_t ns);
  void merge(const duration_histogram& other);

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::int64_t min_ns() const { return count_ == 0 ? 0 : min_ns_; }
  [[nodiscard]] std::int64_t max_ns() const { return max_ns_; }
  [[nodiscard]] double mean_ns() const;
  // The smallest bin edge at or below which `fraction` (0..1) of the records lie, clamped to
  // [min, max]; 0 when empty.
  [[nodiscard]] std::int64_t percentile_ns(double fraction) const;

 private:
  static constexpr std::size_t exact_bins = 64;
  static constexpr std::size_t bins_per_octave = 32;
  static constexpr std::size_t octaves = 26;  // 2^6 .. 2^32 us
  static constexpr std::size_t bin_count = exact_bins + octaves * bins_per_octave;

  static std::size_t bin_of(std::uint64_t us);
  static std::uint64_t upper_edge_us(std::size_t bin);

  std::array<std::uint32_t, bin_count> bins_{};
  std::uint64_t count_ = 0;
  std::int64_t sum_ns_ = 0;
  std::int64_t min_ns_ = 0;
  std::int64_t max_ns_ = 0;
};

}  // namespace cb::callsim
