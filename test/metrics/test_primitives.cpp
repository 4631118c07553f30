#include <catch2/catch.hpp>

#include <cstdint>
#include <thread>
#include <vector>

#include "actors/metrics/cycle_clock.hpp"
#include "actors/metrics/primitives.hpp"

namespace m = cb::metrics;

namespace {

constexpr std::uint64_t small_bounds[] = {10, 20, 40};
constexpr m::bucket_layout small_layout{small_bounds, 3, 1};

template <class F>
void run_threads(int threads, F&& body) {
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&body, t] { body(t); });
  for (auto& th : pool)
    th.join();
}

}  // namespace

TEST_CASE("metrics primitives: counter and gauge", "[metrics]") {
  m::counter c;
  CHECK(c.value() == 0);
  c.inc();
  c.inc(41);
  CHECK(c.value() == 42);

  m::gauge g;
  g.set(10);
  g.add(-15);
  CHECK(g.value() == -5);
  g.add(7);
  CHECK(g.value() == 2);
}

TEST_CASE("metrics primitives: a value on a bucket bound belongs to that bucket", "[metrics]") {
  CHECK(m::bucket_index(small_layout, 0) == 0);
  CHECK(m::bucket_index(small_layout, 10) == 0);
  CHECK(m::bucket_index(small_layout, 11) == 1);
  CHECK(m::bucket_index(small_layout, 20) == 1);
  CHECK(m::bucket_index(small_layout, 21) == 2);
  CHECK(m::bucket_index(small_layout, 40) == 2);
  CHECK(m::bucket_index(small_layout, 41) == 3);
  CHECK(m::bucket_index(small_layout, UINT64_MAX) == 3);
  CHECK(m::bucket_index(m::buckets::mailbox_depth, 0) == 0);
  CHECK(m::bucket_index(m::buckets::mailbox_depth, 1) == 1);
  CHECK(m::bucket_index(m::buckets::latency_us, 50) == 0);
  CHECK(m::bucket_index(m::buckets::latency_us, 51) == 1);
  CHECK(m::bucket_index(m::buckets::latency_us, 5000001) == m::buckets::latency_us.size);
}

TEST_CASE("metrics primitives: the bucket layouts fit and ascend", "[metrics]") {
  for (const auto* layout :
       {&m::buckets::latency_us, &m::buckets::handler_ns, &m::buckets::mailbox_depth}) {
    REQUIRE(layout->size <= m::max_buckets);
    for (std::size_t i = 1; i < layout->size; ++i) {
      CHECK(layout->upper_bounds[i - 1] < layout->upper_bounds[i]);
    }
  }
}

TEST_CASE("metrics primitives: a histogram counts per bucket and sums the values", "[metrics]") {
  m::histogram h(small_layout);
  for (const std::uint64_t v : {0, 10, 11, 20, 40, 41, 1000})
    h.record(v);
  const auto snap = h.read();
  CHECK(snap.layout == &small_layout);
  CHECK(snap.counts[0] == 2);
  CHECK(snap.counts[1] == 2);
  CHECK(snap.counts[2] == 1);
  CHECK(snap.counts[3] == 2);
  CHECK(snap.count() == 7);
  CHECK(snap.sum == 1122);
  CHECK(snap.sum_in_base() == 1122.0);
}

TEST_CASE("metrics primitives: quantiles interpolate inside their bucket", "[metrics]") {
  m::histogram h(small_layout);
  CHECK(h.read().quantile(0.5) == 0);  // empty
  // 4 values in (0, 10], 4 in (10, 20]: the median is the top of the first bucket, the 75th
  // percentile halfway through the second.
  for (int i = 0; i < 4; ++i)
    h.record(5);
  for (int i = 0; i < 4; ++i)
    h.record(15);
  const auto snap = h.read();
  CHECK(snap.quantile(0.5) == Approx(10));
  CHECK(snap.quantile(0.75) == Approx(15));
  CHECK(snap.quantile(0.25) == Approx(5));
  CHECK(snap.quantile(0) == Approx(0));
  // Above every bound: the largest bound.
  for (int i = 0; i < 8; ++i)
    h.record(500);
  CHECK(h.read().quantile(0.99) == Approx(40));
}

TEST_CASE("metrics primitives: quantiles come out in the base unit", "[metrics]") {
  m::histogram h(m::buckets::latency_us);
  h.record(1000);  // 1 ms, on the (500, 1000] bucket's bound
  const auto snap = h.read();
  CHECK(snap.quantile(1.0) == Approx(0.001));
  CHECK(snap.sum_in_base() == Approx(0.001));
}

TEST_CASE("metrics primitives: merged snapshots add up", "[metrics]") {
  m::histogram a(small_layout);
  m::histogram b(small_layout);
  a.record(1);
  b.record(1);
  b.record(30);
  auto snap = a.read();
  snap.merge(b.read());
  CHECK(snap.counts[0] == 2);
  CHECK(snap.counts[2] == 1);
  CHECK(snap.sum == 32);
}

TEST_CASE("metrics primitives: concurrent recording loses nothing", "[metrics]") {
  constexpr int threads = 4;
  constexpr std::uint64_t per_thread = 100000;
  m::counter plain;
  m::striped_counter striped;
  m::histogram plain_h(small_layout);
  m::striped_histogram striped_h(small_layout);
  run_threads(threads, [&](int t) {
    const auto value = static_cast<std::uint64_t>(t) * 15;  // 0, 15, 30, 45: one per bucket
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      plain.inc();
      striped.inc();
      plain_h.record(value);
      striped_h.record(value);
    }
  });
  CHECK(plain.value() == threads * per_thread);
  CHECK(striped.value() == threads * per_thread);
  for (const auto& snap : {plain_h.read(), striped_h.read()}) {
    CHECK(snap.count() == threads * per_thread);
    for (std::size_t b = 0; b <= 3; ++b)
      CHECK(snap.counts[b] == per_thread);
    CHECK(snap.sum == (0 + 15 + 30 + 45) * per_thread);
  }
}

TEST_CASE("metrics primitives: consecutive new threads record on different stripes", "[metrics]") {
  std::size_t first = m::stripe_count;
  std::size_t second = m::stripe_count;
  std::thread([&] { first = m::this_thread_stripe(); }).join();
  std::thread([&] { second = m::this_thread_stripe(); }).join();
  CHECK(first < m::stripe_count);
  CHECK(second < m::stripe_count);
  CHECK(first != second);
  // A thread keeps its stripe.
  CHECK(m::this_thread_stripe() == m::this_thread_stripe());
}

TEST_CASE("metrics primitives: the cycle clock converts ticks to elapsed nanoseconds",
          "[metrics]") {
  const auto start_time = std::chrono::steady_clock::now();
  const auto start = m::cycle_clock::now();
  // Wait until steady_clock has seen 2 ms pass, then compare what the cycle clock measured.
  while (std::chrono::steady_clock::now() - start_time < std::chrono::milliseconds(2)) {
  }
  const auto end = m::cycle_clock::now();
  const auto steady_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - start_time)
                             .count();
  const auto ns = m::cycle_clock::elapsed_ns(start, end);
  CHECK(ns >= 1900000);
  CHECK(static_cast<std::int64_t>(ns) <= steady_ns + 100000);
  CHECK(m::cycle_clock::elapsed_ns(end, start) == 0);
}
