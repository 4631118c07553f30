// Prometheus text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4): the writer
// behind GET /metrics. Each family is a "# HELP" and a "# TYPE" line followed by its samples, one
// per line, "name{label="value",...} value"; a histogram series is its cumulative "_bucket" lines
// (le ascending, ending with le="+Inf"), then "_sum" and "_count".
//
// Names are the caller's to get right (is_valid_metric_name / is_valid_label_name, checked once
// where metrics are registered); help texts and label values may hold anything and are escaped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cb::prometheus {

// The Content-Type of a response carrying this format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type : std::uint8_t { counter, gauge, histogram, untyped };

const char* to_string(metric_type type);

struct label {
  std::string_view name;
  std::string_view value;
};

// One histogram series as recorded: the count of observations in each bucket (not cumulative;
// bucket i holds those above upper_bounds[i-1] and at most upper_bounds[i]), then the count above
// the last bound, so bucket_counts has bucket_count + 1 entries.
struct histogram_sample {
  const double* upper_bounds = nullptr;
  const std::uint64_t* bucket_counts = nullptr;
  std::size_t bucket_count = 0;
  double sum = 0;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
[[nodiscard]] bool is_valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself)
[[nodiscard]] bool is_valid_label_name(std::string_view name);

// A sample value as Prometheus parses it: NaN, +Inf, -Inf; integral values below 2^53 as plain
// integers ("1500000"); others as Go's clients write them, in the fewest digits that read back
// to the same double, exponent form below 1e-4 and from 1e6 on ("0.0001", "5e-05", "2.5").
void append_value(std::string& out, double value);

// A label value between its quotes: backslash, double quote and line feed escaped.
void append_label_value(std::string& out, std::string_view value);

// "# HELP name help" (backslash and line feed escaped) and "# TYPE name type".
void write_family_header(std::string& out, std::string_view name, std::string_view help,
                         metric_type type);

// "name value" or "name{a="x",b="y"} value".
void write_sample(std::string& out, std::string_view name, const std::vector<label>& labels,
                  double value);

// The "_bucket" lines with labels plus le, then "_sum" and "_count" (the +Inf bucket's count).
void write_histogram(std::string& out, std::string_view name, const std::vector<label>& labels,
                     const histogram_sample& histogram);

}  // namespace cb::prometheus
