#include "apps/callsim/duration_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace cb::callsim {

namespace {
constexpr int mantissa_bits = 5;  // log2(bins_per_octave)
constexpr std::int64_t ns_per_us = 1000;

int floor_log2(std::uint64_t v) {
  int e = 0;
  while ((v >>= 1) != 0)
    ++e;
  return e;
}
}  // namespace

std::size_t duration_histogram::bin_of(std::uint64_t us) {
  if (us < exact_bins) return static_cast<std::size_t>(us);
  const int e = floor_log2(us);
  const auto octave = static_cast<std::size_t>(e) - (mantissa_bits + 1);
  if (octave >= octaves) return bin_count - 1;
  const auto sub = static_cast<std::size_t>((us >> (e - mantissa_bits)) & (bins_per_octave - 1));
  return exact_bins + octave * bins_per_octave + sub;
}

std::uint64_t duration_histogram::upper_edge_us(std::size_t bin) {
  if (bin < exact_bins) return bin + 1;
  const auto octave = (bin - exact_bins) / bins_per_octave;
  const auto sub = (bin - exact_bins) % bins_per_octave;
  const int e = static_cast<int>(octave) + mantissa_bits + 1;
  return (std::uint64_t{1} << e) + ((sub + 1) << (e - mantissa_bits));
}

void duration_histogram::record(std::int64_t ns) {
  ns = std::max<std::int64_t>(ns, 0);
  ++bins_[bin_of(static_cast<std::uint64_t>(ns / ns_per_us))];
  min_ns_ = count_ == 0 ? ns : std::min(min_ns_, ns);
  max_ns_ = std::max(max_ns_, ns);
  sum_ns_ += ns;
  ++count_;
}

void duration_histogram::merge(const duration_histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < bin_count; ++i)
    bins_[i] += other.bins_[i];
  min_ns_ = count_ == 0 ? other.min_ns_ : std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
  count_ += other.count_;
}

double duration_histogram::mean_ns() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ns_) / static_cast<double>(count_);
}

std::int64_t duration_histogram::percentile_ns(double fraction) const {
  if (count_ == 0) return 0;
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(
             std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bin_count; ++i) {
    seen += bins_[i];
    if (seen >= wanted) {
      const auto edge = static_cast<std::int64_t>(upper_edge_us(i)) * ns_per_us;
      return std::clamp(edge, min_ns_, max_ns_);
    }
  }
  return max_ns_;
}

}  // namespace cb::callsim
