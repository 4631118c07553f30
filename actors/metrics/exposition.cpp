#include "actors/metrics/exposition.hpp"

#include <chrono>

#include "actors/metrics/service_metrics.hpp"
#include "protocol/elevenlabs_json.hpp"
#include "protocol/prometheus.hpp"

namespace cb::metrics {

namespace {

using elevenlabs::detail::json_writer;

void write_process(std::string& out, const process_stats& p) {
  const auto one = [&out](const char* name, const char* help, metric_type type, double value) {
    prometheus::write_family_header(out, name, help, type);
    prometheus::write_sample(out, name, {}, value);
  };
  one("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
      metric_type::counter, p.cpu_seconds);
  one("process_open_fds", "Number of open file descriptors.", metric_type::gauge,
      static_cast<double>(p.open_fds));
  one("process_max_fds", "Maximum number of open file descriptors.", metric_type::gauge,
      static_cast<double>(p.max_fds));
  one("process_resident_memory_bytes", "Resident memory size in bytes.", metric_type::gauge,
      static_cast<double>(p.resident_bytes));
  one("process_virtual_memory_bytes", "Virtual memory size in bytes.", metric_type::gauge,
      static_cast<double>(p.virtual_bytes));
  one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      metric_type::gauge, p.start_time_unix_seconds);
  one("process_threads", "Number of OS threads in the process.", metric_type::gauge,
      static_cast<double>(p.threads));
}

std::vector<prometheus::label> labels_of(const family_snapshot& f, const series_snapshot& s) {
  std::vector<prometheus::label> labels;
  labels.reserve(f.label_names.size());
  for (std::size_t i = 0; i < f.label_names.size(); ++i) {
    labels.push_back({f.label_names[i], s.label_values[i]});
  }
  return labels;
}

void write_histogram_series(std::string& out, const std::string& name,
                            const std::vector<prometheus::label>& labels,
                            const histogram_snapshot& h) {
  std::vector<double> bounds;
  if (h.layout != nullptr) {
    bounds.reserve(h.layout->size);
    for (std::size_t i = 0; i < h.layout->size; ++i) {
      bounds.push_back(static_cast<double>(h.layout->upper_bounds[i]) / h.layout->units_per_base);
    }
  }
  prometheus::write_histogram(out, name, labels,
                              {bounds.data(), h.counts.data(), bounds.size(), h.sum_in_base()});
}

void write_quantiles(json_writer& w, const histogram_snapshot& h) {
  w.key("count").unsigned_integer(h.count());
  w.key("sum").number(h.sum_in_base());
  w.key("p50").number(h.quantile(0.5));
  w.key("p90").number(h.quantile(0.9));
  w.key("p99").number(h.quantile(0.99));
}

void write_json_histogram(json_writer& w, const histogram_snapshot& h) {
  write_quantiles(w, h);
  // Cumulative, finite bounds only: the +Inf bucket is "count" (JSON has no infinity).
  w.key("buckets").begin_array();
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; h.layout != nullptr && i < h.layout->size; ++i) {
    cumulative += h.counts[i];
    w.begin_object();
    w.key("le").number(static_cast<double>(h.layout->upper_bounds[i]) / h.layout->units_per_base);
    w.key("count").unsigned_integer(cumulative);
    w.end_object();
  }
  w.end_array();
}

void write_json_process(json_writer& w, const process_stats& p) {
  w.key("process").begin_object();
  w.key("resident_bytes").unsigned_integer(p.resident_bytes);
  w.key("virtual_bytes").unsigned_integer(p.virtual_bytes);
  w.key("threads").unsigned_integer(p.threads);
  w.key("open_fds").unsigned_integer(p.open_fds);
  w.key("max_fds").unsigned_integer(p.max_fds);
  w.key("cpu_seconds").number(p.cpu_seconds);
  w.key("start_time_unix_seconds").number(p.start_time_unix_seconds);
  w.end_object();
}

void write_json_family(json_writer& w, const family_snapshot& f) {
  w.begin_object();
  w.key("name").string(f.name);
  w.key("type").string(prometheus::to_string(f.type));
  w.key("help").string(f.help);
  w.key("series").begin_array();
  for (const auto& s : f.series) {
    w.begin_object();
    w.key("labels").begin_object();
    for (std::size_t i = 0; i < f.label_names.size(); ++i) {
      w.key(f.label_names[i]).string(s.label_values[i]);
    }
    w.end_object();
    if (f.type == metric_type::histogram) {
      write_json_histogram(w, s.histogram);
    } else {
      w.key("value").number(s.value);
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void write_json_call(json_writer& w, const call_metrics_snapshot& c) {
  w.begin_object();
  w.key("uuid").string(c.uuid);
  w.key("frames_in").unsigned_integer(c.frames_in);
  w.key("frames_dropped").unsigned_integer(c.frames_dropped);
  w.key("frames_out").unsigned_integer(c.frames_out);
  w.key("late_frames").unsigned_integer(c.late_frames);
  w.key("underruns").unsigned_integer(c.underruns);
  for (const auto& [key, h] :
       {std::pair<const char*, const histogram_snapshot*>{"uplink_latency", &c.uplink_latency},
        {"downlink_latency", &c.downlink_latency},
        {"barge_in_latency", &c.barge_in_latency}}) {
    w.key(key).begin_object();
    write_quantiles(w, *h);
    w.end_object();
  }
  w.end_object();
}

}  // namespace

snapshot take_snapshot() {
  // Register the families that exist from start-up, so they are scraped before first use.
  (void)service_metrics::process();
  (void)call_totals::process();
  snapshot s;
  s.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  s.process = read_process_stats();
  s.families = registry::process().collect();
  s.calls = live_calls();
  return s;
}

std::string render_prometheus(const snapshot& s) {
  std::string out;
  if (s.process) write_process(out, *s.process);
  for (const auto& f : s.families) {
    prometheus::write_family_header(out, f.name, f.help, f.type);
    for (const auto& series : f.series) {
      const auto labels = labels_of(f, series);
      if (f.type == metric_type::histogram) {
        write_histogram_series(out, f.name, labels, series.histogram);
      } else {
        prometheus::write_sample(out, f.name, labels, series.value);
      }
    }
  }
  return out;
}

std::string render_json(const snapshot& s) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("unix_ms").integer(s.unix_ms);
  if (s.process) write_json_process(w, *s.process);
  w.key("metrics").begin_array();
  for (const auto& f : s.families)
    write_json_family(w, f);
  w.end_array();
  w.key("calls").begin_array();
  for (const auto& c : s.calls)
    write_json_call(w, c);
  w.end_array();
  w.end_object();
  return out;
}

}  // namespace cb::metrics
