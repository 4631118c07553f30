#include "protocol/prometheus.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace cb::prometheus {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// Doubles represent every integer up to here exactly.
constexpr double max_exact_integer = 9007199254740992.0;

void append_labels(std::string& out, const std::vector<label>& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ',';
    first = false;
    out.append(l.name);
    out += "=\"";
    append_label_value(out, l.value);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out.append(le);
    out += '"';
  }
  out += '}';
}

void append_line(std::string& out, std::string_view name, std::string_view suffix,
                 const std::vector<label>& labels, std::string_view le, double value) {
  out.append(name);
  out.append(suffix);
  append_labels(out, labels, le);
  out += ' ';
  append_value(out, value);
  out += '\n';
}

}  // namespace

const char* to_string(metric_type type) {
  switch (type) {
    case metric_type::counter:
      return "counter";
    case metric_type::gauge:
      return "gauge";
    case metric_type::histogram:
      return "histogram";
    case metric_type::untyped:
      return "untyped";
  }
  return "untyped";
}

bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || !(is_name_start(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0]) || name.substr(0, 2) == "__") return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  std::array<char, 32> buffer{};
  char* const first = buffer.data();
  char* const last = buffer.data() + buffer.size();
  if (std::nearbyint(value) == value && std::fabs(value) < max_exact_integer) {
    out.append(first, std::to_chars(first, last, static_cast<std::int64_t>(value)).ptr);
    return;
  }
  // As Go's strconv.FormatFloat(v, 'g', -1, 64) writes it, which is what Prometheus' own clients
  // send (le="0.0001", le="5e-05"): the exponent form when the decimal exponent is below -4 or at
  // least 6, the plain form otherwise, with the fewest digits that read back to the same double.
  char* const end = std::to_chars(first, last, value, std::chars_format::scientific).ptr;
  const std::string_view scientific(first, static_cast<std::size_t>(end - first));
  const auto e = scientific.find('e');
  int exponent = 0;
  std::from_chars(scientific.data() + e + (scientific[e + 1] == '+' ? 2 : 1), end, exponent);
  if (exponent < -4 || exponent >= 6) {
    out.append(scientific);
    return;
  }
  out.append(first, std::to_chars(first, last, value, std::chars_format::fixed).ptr);
}

void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void write_family_header(std::string& out, std::string_view name, std::string_view help,
                         metric_type type) {
  out += "# HELP ";
  out.append(name);
  out += ' ';
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out.append(name);
  out += ' ';
  out += to_string(type);
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, const std::vector<label>& labels,
                  double value) {
  append_line(out, name, {}, labels, {}, value);
}

void write_histogram(std::string& out, std::string_view name, const std::vector<label>& labels,
                     const histogram_sample& histogram) {
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i < histogram.bucket_count; ++i) {
    cumulative += histogram.bucket_counts[i];
    le.clear();
    append_value(le, histogram.upper_bounds[i]);
    append_line(out, name, "_bucket", labels, le, static_cast<double>(cumulative));
  }
  cumulative += histogram.bucket_counts[histogram.bucket_count];
  append_line(out, name, "_bucket", labels, "+Inf", static_cast<double>(cumulative));
  append_line(out, name, "_sum", labels, {}, histogram.sum);
  append_line(out, name, "_count", labels, {}, static_cast<double>(cumulative));
}

}  // namespace cb::prometheus
