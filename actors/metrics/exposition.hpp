// A snapshot of every metric, and its two renderings: the Prometheus text format for GET /metrics
// and JSON for the control API's /ws stream. Taking a snapshot reads the registry's cells (under
// its lock, briefly), /proc and the live calls; rendering is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/metrics/call_metrics.hpp"
#include "actors/metrics/process_stats.hpp"
#include "actors/metrics/registry.hpp"

namespace cb::metrics {

struct snapshot {
  std::int64_t unix_ms = 0;
  std::optional<process_stats> process;
  std::vector<family_snapshot> families;
  std::vector<call_metrics_snapshot> calls;
};

// Everything process-wide: registry::process() (with the call and service families registered
// even before their first use), this process's /proc figures, the live calls.
[[nodiscard]] snapshot take_snapshot();

// The Prometheus text exposition format 0.0.4: the process_* families (the names Prometheus'
// own clients use), then the families in name order. Per-call figures are not exported (a series
// per call would grow without bound); the callbridge_call_* aggregates cover them.
[[nodiscard]] std::string render_prometheus(const snapshot& s);

// One JSON object (docs/metrics.md shows it): unix_ms, process, metrics (every family, histograms
// with cumulative buckets and p50/p90/p99 estimates in seconds) and calls (each live call's counts
// and latency quantiles).
[[nodiscard]] std::string render_json(const snapshot& s);

}  // namespace cb::metrics
