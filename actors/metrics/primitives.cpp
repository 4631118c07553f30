#include "actors/metrics/primitives.hpp"

#include <algorithm>

namespace cb::metrics {

std::size_t bucket_index(const bucket_layout& layout, std::uint64_t value) noexcept {
  // Linear: values cluster in the first few buckets, and the bounds fit two cache lines.
  std::size_t i = 0;
  while (i < layout.size && value > layout.upper_bounds[i])
    ++i;
  return i;
}

std::uint64_t histogram_snapshot::count() const noexcept {
  std::uint64_t total = 0;
  for (const auto c : counts)
    total += c;
  return total;
}

void histogram_snapshot::merge(const histogram_snapshot& other) noexcept {
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] += other.counts[i];
  sum += other.sum;
}

double histogram_snapshot::quantile(double q) const noexcept {
  const auto total = count();
  if (total == 0 || layout == nullptr) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  std::uint64_t below = 0;
  for (std::size_t i = 0; i <= layout->size; ++i) {
    const auto in_bucket = counts[i];
    if (in_bucket > 0 && static_cast<double>(below + in_bucket) >= rank) {
      if (i == layout->size) {
        return layout->size == 0
                   ? 0
                   : static_cast<double>(layout->upper_bounds[i - 1]) / layout->units_per_base;
      }
      const double start = i == 0 ? 0 : static_cast<double>(layout->upper_bounds[i - 1]);
      const auto end = static_cast<double>(layout->upper_bounds[i]);
      const double fraction = (rank - static_cast<double>(below)) / static_cast<double>(in_bucket);
      return (start + (end - start) * fraction) / layout->units_per_base;
    }
    below += in_bucket;
  }
  return 0;
}

double histogram_snapshot::sum_in_base() const noexcept {
  return layout == nullptr ? 0 : static_cast<double>(sum) / layout->units_per_base;
}

void detail::histogram_cells::add_to(histogram_snapshot& out) const noexcept {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out.counts[i] += counts[i].load(std::memory_order_relaxed);
  }
  out.sum += sum.load(std::memory_order_relaxed);
}

histogram_snapshot histogram::read() const noexcept {
  histogram_snapshot out;
  out.layout = layout_;
  cells_.add_to(out);
  return out;
}

std::size_t detail::next_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % stripe_count;
}

std::uint64_t striped_counter::value() const noexcept {
  std::uint64_t total = 0;
  for (const auto& s : stripes_)
    total += s.cell.value();
  return total;
}

histogram_snapshot striped_histogram::read() const noexcept {
  histogram_snapshot out;
  out.layout = layout_;
  for (const auto& s : stripes_)
    s.cells.add_to(out);
  return out;
}

}  // namespace cb::metrics
