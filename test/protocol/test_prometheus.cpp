#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "protocol/prometheus.hpp"

namespace prom = cb::prometheus;

namespace {

std::string value_text(double v) {
  std::string out;
  prom::append_value(out, v);
  return out;
}

}  // namespace

TEST_CASE("prometheus: metric names follow [a-zA-Z_:][a-zA-Z0-9_:]*", "[prometheus]") {
  CHECK(prom::is_valid_metric_name("callbridge_actor_messages_total"));
  CHECK(prom::is_valid_metric_name(":recording:rule"));
  CHECK(prom::is_valid_metric_name("_x9"));
  CHECK_FALSE(prom::is_valid_metric_name(""));
  CHECK_FALSE(prom::is_valid_metric_name("9lives"));
  CHECK_FALSE(prom::is_valid_metric_name("has-dash"));
  CHECK_FALSE(prom::is_valid_metric_name("has space"));
  CHECK_FALSE(prom::is_valid_metric_name("caf\xc3\xa9"));
}

TEST_CASE("prometheus: label names exclude colons and the reserved __ prefix", "[prometheus]") {
  CHECK(prom::is_valid_label_name("kind"));
  CHECK(prom::is_valid_label_name("_private"));
  CHECK(prom::is_valid_label_name("le2"));
  CHECK_FALSE(prom::is_valid_label_name(""));
  CHECK_FALSE(prom::is_valid_label_name("__name__"));
  CHECK_FALSE(prom::is_valid_label_name("a:b"));
  CHECK_FALSE(prom::is_valid_label_name("1st"));
}

TEST_CASE("prometheus: values are integers, Go's shortest %g form or the special names",
          "[prometheus]") {
  CHECK(value_text(0) == "0");
  CHECK(value_text(-0.0) == "0");
  CHECK(value_text(42) == "42");
  CHECK(value_text(-7) == "-7");
  CHECK(value_text(1500000) == "1500000");
  CHECK(value_text(9007199254740991.0) == "9007199254740991");
  CHECK(value_text(0.0025) == "0.0025");
  CHECK(value_text(0.0001) == "0.0001");
  CHECK(value_text(0.00025) == "0.00025");
  CHECK(value_text(50.0 / 1e6) == "5e-05");
  CHECK(value_text(1.5) == "1.5");
  CHECK(value_text(-0.125) == "-0.125");
  CHECK(value_text(123456.5) == "123456.5");
  CHECK(value_text(1234567.5) == "1.2345675e+06");
  CHECK(value_text(9007199254740992.0) == "9.007199254740992e+15");
  CHECK(value_text(1e300) == "1e+300");
  CHECK(value_text(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(value_text(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(value_text(std::nan("")) == "NaN");
}

TEST_CASE("prometheus: label values escape backslash, double quote and line feed only",
          "[prometheus]") {
  std::string out;
  prom::append_label_value(out, "a\\b\"c\nd\te}{,=");
  CHECK(out == "a\\\\b\\\"c\\nd\te}{,=");
}

TEST_CASE("prometheus: a family starts with its HELP and TYPE lines", "[prometheus]") {
  std::string out;
  prom::write_family_header(out, "callbridge_calls_live", "Calls in progress.",
                            prom::metric_type::gauge);
  CHECK(out ==
        "# HELP callbridge_calls_live Calls in progress.\n"
        "# TYPE callbridge_calls_live gauge\n");
}

TEST_CASE("prometheus: HELP text escapes backslash and line feed but not quotes", "[prometheus]") {
  std::string out;
  prom::write_family_header(out, "x_total", "C:\\path \"quoted\"\nsecond line",
                            prom::metric_type::counter);
  CHECK(out ==
        "# HELP x_total C:\\\\path \"quoted\"\\nsecond line\n"
        "# TYPE x_total counter\n");
}

TEST_CASE("prometheus: samples with and without labels", "[prometheus]") {
  std::string out;
  prom::write_sample(out, "process_open_fds", {}, 12);
  prom::write_sample(out, "callbridge_calls_ended_total",
                     {{"reason", "caller hung up"}, {"source", "say \"hi\"\\\n"}}, 3);
  CHECK(out ==
        "process_open_fds 12\n"
        "callbridge_calls_ended_total{reason=\"caller hung up\",source=\"say "
        "\\\"hi\\\"\\\\\\n\"} 3\n");
}

TEST_CASE("prometheus: histogram buckets are cumulative and end with +Inf equal to _count",
          "[prometheus]") {
  const std::vector<double> bounds{0.001, 0.0025, 0.005};
  const std::vector<std::uint64_t> counts{2, 0, 5, 1};  // 1 above the last bound
  std::string out;
  prom::write_family_header(out, "callbridge_call_uplink_latency_seconds",
                            "Caller frame arrival to agent send.", prom::metric_type::histogram);
  prom::write_histogram(out, "callbridge_call_uplink_latency_seconds", {{"kind", "call"}},
                        {bounds.data(), counts.data(), bounds.size(), 0.0215});
  CHECK(out ==
        "# HELP callbridge_call_uplink_latency_seconds Caller frame arrival to agent send.\n"
        "# TYPE callbridge_call_uplink_latency_seconds histogram\n"
        "callbridge_call_uplink_latency_seconds_bucket{kind=\"call\",le=\"0.001\"} 2\n"
        "callbridge_call_uplink_latency_seconds_bucket{kind=\"call\",le=\"0.0025\"} 2\n"
        "callbridge_call_uplink_latency_seconds_bucket{kind=\"call\",le=\"0.005\"} 7\n"
        "callbridge_call_uplink_latency_seconds_bucket{kind=\"call\",le=\"+Inf\"} 8\n"
        "callbridge_call_uplink_latency_seconds_sum{kind=\"call\"} 0.0215\n"
        "callbridge_call_uplink_latency_seconds_count{kind=\"call\"} 8\n");
}

TEST_CASE("prometheus: an unlabelled histogram puts le alone in braces", "[prometheus]") {
  const std::vector<double> bounds{1, 4};
  const std::vector<std::uint64_t> counts{0, 0, 0};
  std::string out;
  prom::write_histogram(out, "depth", {}, {bounds.data(), counts.data(), bounds.size(), 0});
  CHECK(out ==
        "depth_bucket{le=\"1\"} 0\n"
        "depth_bucket{le=\"4\"} 0\n"
        "depth_bucket{le=\"+Inf\"} 0\n"
        "depth_sum 0\n"
        "depth_count 0\n");
}

TEST_CASE("prometheus: type names", "[prometheus]") {
  CHECK(std::string(prom::to_string(prom::metric_type::counter)) == "counter");
  CHECK(std::string(prom::to_string(prom::metric_type::gauge)) == "gauge");
  CHECK(std::string(prom::to_string(prom::metric_type::histogram)) == "histogram");
  CHECK(std::string(prom::to_string(prom::metric_type::untyped)) == "untyped");
}
