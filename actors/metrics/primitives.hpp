// The bridge's own metric cells (CAF 0.17 has no telemetry). Recording is a few relaxed atomic
// operations: no lock, no allocation, so it can sit on the 20 ms audio path of every call.
//
// counter, gauge, histogram: one set of atomics, for values one call's actors record.
// striped_counter, striped_histogram: one set per stripe of threads, each on its own cache lines,
// for the process-wide values every scheduler thread records many times a second; a shared
// atomic would bounce its cache line between cores on every message. Readers sum the stripes.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace cb::metrics {

// Histogram buckets: ascending inclusive upper bounds in an integer unit (the unit values are
// recorded in), and how many of that unit make the base unit Prometheus reports (seconds).
struct bucket_layout {
  const std::uint64_t* upper_bounds;
  std::size_t size;
  double units_per_base;
};

inline constexpr std::size_t max_buckets = 20;

namespace buckets {

// Audio path latencies in microseconds: 50 us to 5 s.
inline constexpr std::uint64_t latency_us_bounds[] = {
    50,    100,   250,    500,    1000,   2500,    5000,    10000,
    25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
inline constexpr bucket_layout latency_us{latency_us_bounds, std::size(latency_us_bounds), 1e6};

// Message handler times in nanoseconds: 500 ns to 100 ms.
inline constexpr std::uint64_t handler_ns_bounds[] = {
    500,    1000,   2500,    5000,    10000,    25000,    50000,    100000,
    250000, 500000, 1000000, 2500000, 10000000, 25000000, 100000000};
inline constexpr bucket_layout handler_ns{handler_ns_bounds, std::size(handler_ns_bounds), 1e9};

// Mailbox depths in messages.
inline constexpr std::uint64_t depth_bounds[] = {0,  1,   2,   4,   8,    16,   32,
                                                 64, 128, 256, 512, 1024, 4096, 16384};
inline constexpr bucket_layout mailbox_depth{depth_bounds, std::size(depth_bounds), 1};

}  // namespace buckets

// The bucket a value falls in: the first whose bound is >= value, or layout.size (above all).
[[nodiscard]] std::size_t bucket_index(const bucket_layout& layout, std::uint64_t value) noexcept;

// A histogram's counts read at one moment (per bucket, not cumulative; the last entry counts the
// values above every bound) and the sum of the values recorded, in the layout's unit.
struct histogram_snapshot {
  const bucket_layout* layout = nullptr;
  std::array<std::uint64_t, max_buckets + 1> counts{};
  std::uint64_t sum = 0;

  [[nodiscard]] std::uint64_t count() const noexcept;
  // Adds another snapshot of the same layout.
  void merge(const histogram_snapshot& other) noexcept;
  // The q-quantile (0..1) in the base unit, interpolated linearly inside its bucket as
  // Prometheus' histogram_quantile does; 0 when empty, the largest bound when it lies above it.
  [[nodiscard]] double quantile(double q) const noexcept;
  // The sum in the base unit.
  [[nodiscard]] double sum_in_base() const noexcept;
};

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> value_{0};
};

namespace detail {

struct histogram_cells {
  std::array<std::atomic<std::uint64_t>, max_buckets + 1> counts{};
  std::atomic<std::uint64_t> sum{0};

  void record(std::size_t bucket, std::uint64_t value) noexcept {
    counts[bucket].fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(value, std::memory_order_relaxed);
  }
  void add_to(histogram_snapshot& out) const noexcept;
};

}  // namespace detail

class histogram {
 public:
  explicit histogram(const bucket_layout& layout) noexcept : layout_(&layout) {}

  void record(std::uint64_t value) noexcept { cells_.record(bucket_index(*layout_, value), value); }
  [[nodiscard]] histogram_snapshot read() const noexcept;
  [[nodiscard]] const bucket_layout& layout() const noexcept { return *layout_; }

 private:
  const bucket_layout* layout_;
  detail::histogram_cells cells_;
};

inline constexpr std::size_t stripe_count = 8;

namespace detail {
[[nodiscard]] std::size_t next_stripe() noexcept;
inline thread_local std::size_t thread_stripe = stripe_count;  // not assigned yet
}  // namespace detail

// The calling thread's stripe: threads take stripes round-robin on first use, so up to
// stripe_count threads (the scheduler's workers, the io multiplexer, the lws thread) record
// without sharing a cache line.
[[nodiscard]] inline std::size_t this_thread_stripe() noexcept {
  if (detail::thread_stripe == stripe_count) detail::thread_stripe = detail::next_stripe();
  return detail::thread_stripe;
}

class striped_counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { stripes_[this_thread_stripe()].cell.inc(n); }
  [[nodiscard]] std::uint64_t value() const noexcept;

 private:
  struct alignas(64) stripe {
    counter cell;
  };
  std::array<stripe, stripe_count> stripes_{};
};

class striped_histogram {
 public:
  explicit striped_histogram(const bucket_layout& layout) noexcept : layout_(&layout) {}

  void record(std::uint64_t value) noexcept {
    stripes_[this_thread_stripe()].cells.record(bucket_index(*layout_, value), value);
  }
  [[nodiscard]] histogram_snapshot read() const noexcept;
  [[nodiscard]] const bucket_layout& layout() const noexcept { return *layout_; }

 private:
  struct alignas(64) stripe {
    detail::histogram_cells cells;
  };
  const bucket_layout* layout_;
  std::array<stripe, stripe_count> stripes_{};
};

}  // namespace cb::metrics
