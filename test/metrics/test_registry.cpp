#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "actors/metrics/registry.hpp"

namespace m = cb::metrics;

TEST_CASE("metrics registry: asking twice gives the same family and the same cell", "[metrics]") {
  m::registry r;
  auto& a = r.counters("x_total", "X.", {"kind"});
  auto& b = r.counters("x_total", "X.", {"kind"});
  CHECK(&a == &b);
  auto& cell = a.with({"call"});
  CHECK(&cell == &b.with({"call"}));
  CHECK(&cell != &a.with({"playout"}));
  cell.inc(3);
  const auto families = r.collect();
  REQUIRE(families.size() == 1);
  CHECK(families[0].name == "x_total");
  CHECK(families[0].help == "X.");
  CHECK(families[0].type == m::metric_type::counter);
  CHECK(families[0].label_names == std::vector<std::string>{"kind"});
  REQUIRE(families[0].series.size() == 2);
  CHECK(families[0].series[0].label_values == std::vector<std::string>{"call"});
  CHECK(families[0].series[0].value == 3);
  CHECK(families[0].series[1].label_values == std::vector<std::string>{"playout"});
  CHECK(families[0].series[1].value == 0);
}

TEST_CASE("metrics registry: families come out sorted by name, series by label values",
          "[metrics]") {
  m::registry r;
  r.gauges("b_gauge", "B.", {"k"}).with({"z"}).set(1);
  r.gauges("b_gauge", "B.", {"k"}).with({"a"}).set(2);
  r.counters("a_total", "A.").with().inc();
  r.histograms("c_seconds", "C.", m::buckets::latency_us).with().record(100);
  const auto families = r.collect();
  REQUIRE(families.size() == 3);
  CHECK(families[0].name == "a_total");
  CHECK(families[1].name == "b_gauge");
  CHECK(families[2].name == "c_seconds");
  CHECK(families[1].series[0].label_values[0] == "a");
  CHECK(families[1].series[0].value == 2);
  CHECK(families[1].series[1].value == 1);
  CHECK(families[2].type == m::metric_type::histogram);
  CHECK(families[2].series[0].histogram.count() == 1);
  CHECK(families[2].series[0].histogram.layout == &m::buckets::latency_us);
}

TEST_CASE("metrics registry: computed series are read at collection time", "[metrics]") {
  m::registry r;
  double source = 1;
  r.gauges("derived", "D.", {"k"}).computed({"x"}, [&source] { return source; });
  source = 7;
  const auto families = r.collect();
  REQUIRE(families[0].series.size() == 1);
  CHECK(families[0].series[0].value == 7);
}

TEST_CASE("metrics registry: conflicting or invalid registrations are refused", "[metrics]") {
  m::registry r;
  r.counters("x_total", "X.", {"kind"});
  CHECK_THROWS_AS(r.gauges("x_total", "X.", {"kind"}), std::logic_error);
  CHECK_THROWS_AS(r.counters("x_total", "X.", {"other"}), std::logic_error);
  r.histograms("h_seconds", "H.", m::buckets::latency_us);
  CHECK_THROWS_AS(r.histograms("h_seconds", "H.", m::buckets::handler_ns), std::logic_error);
  CHECK_THROWS_AS(r.counters("bad-name", "X."), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("y_total", "Y.", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.histograms("z_seconds", "Z.", m::buckets::latency_us, {"le"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(r.counters("x_total", "X.", {"kind"}).with({}), std::invalid_argument);
  CHECK_THROWS_AS(r.counters("x_total", "X.", {"kind"}).with({"a", "b"}), std::invalid_argument);
  r.counters("x_total", "X.", {"kind"}).computed({"derived"}, [] { return 1.0; });
  CHECK_THROWS_AS(r.counters("x_total", "X.", {"kind"}).computed({"derived"}, [] { return 2.0; }),
                  std::logic_error);
}
