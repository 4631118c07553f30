#include <catch2/catch.hpp>

#include "apps/callsim/duration_histogram.hpp"

using cb::callsim::duration_histogram;

TEST_CASE("an empty histogram reports zeros") {
  const duration_histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile_ns(0.5) == 0);
  CHECK(h.max_ns() == 0);
  CHECK(h.mean_ns() == 0.0);
}

TEST_CASE("short durations are exact to the microsecond") {
  duration_histogram h;
  for (int us = 1; us <= 50; ++us)
    h.record(std::int64_t{us} * 1000);
  CHECK(h.min_ns() == 1000);
  CHECK(h.max_ns() == 50'000);
  CHECK(h.percentile_ns(0.5) == 26'000);  // upper edge of the 25 us bin
  CHECK(h.percentile_ns(1.0) == 50'000);
  CHECK(h.mean_ns() == Approx(25'500.0));
}

TEST_CASE("long durations are within the bin width of the true percentile") {
  duration_histogram h;
  for (int ms = 1; ms <= 1000; ++ms)
    h.record(static_cast<std::int64_t>(ms) * 1'000'000);
  CHECK(static_cast<double>(h.percentile_ns(0.5)) == Approx(500e6).epsilon(0.033));
  CHECK(static_cast<double>(h.percentile_ns(0.99)) == Approx(990e6).epsilon(0.033));
  CHECK(h.max_ns() == 1'000'000'000);
}

TEST_CASE("negative durations count as zero and merging adds counts") {
  duration_histogram a;
  duration_histogram b;
  a.record(-5);
  b.record(2'000'000);
  b.record(4'000'000);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.min_ns() == 0);
  CHECK(a.max_ns() == 4'000'000);
  CHECK(static_cast<double>(a.percentile_ns(0.5)) == Approx(2e6).epsilon(0.033));
}
