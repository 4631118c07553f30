#include "actors/metrics/call_metrics.hpp"

#include <algorithm>
#include <mutex>

namespace cb::metrics {

namespace {

// Calls opened and not yet destroyed; a call enters and leaves under the lock, so a snapshot
// never reads a destroyed one.
struct call_table {
  std::mutex mutex;
  std::vector<const call_metrics*> calls;
};

call_table& table() {
  static call_table instance;
  return instance;
}

}  // namespace

call_totals::call_totals(registry& r)
    : frames_in(r.counters("callbridge_call_frames_in_total",
                           "Caller audio frames received from Asterisk, all calls.")
                    .with()),
      frames_dropped(r.counters("callbridge_call_frames_dropped_total",
                                "Caller frames dropped: beyond the buffer held until the agent is "
                                "ready, or too late to be of use (overload), all calls.")
                         .with()),
      frames_out(r.counters("callbridge_call_frames_out_total",
                            "Audio frames (agent audio or silence) sent to Asterisk, all calls.")
                     .with()),
      late_frames(r.counters("callbridge_call_late_frames_total",
                             "Frames the playout clock sent past their deadline, all calls.")
                      .with()),
      underruns(r.counters("callbridge_call_underruns_total",
                           "Frames where a turn's audio ran out mid-frame, all calls.")
                    .with()),
      uplink_latency(r.histograms("callbridge_call_uplink_latency_seconds",
                                  "Caller frame arrival to its audio leaving for the agent.",
                                  buckets::latency_us)
                         .with()),
      downlink_latency(r.histograms("callbridge_call_downlink_latency_seconds",
                                    "Agent audio arrival to its first sample going to Asterisk.",
                                    buckets::latency_us)
                           .with()),
      barge_in_latency(
          r.histograms("callbridge_call_barge_in_latency_seconds",
                       "Agent interruption event to the first frame without the old audio.",
                       buckets::latency_us)
              .with()) {}

call_totals& call_totals::process() {
  static call_totals instance(registry::process());
  return instance;
}

std::shared_ptr<call_metrics> call_metrics::open(std::string uuid) {
  auto metrics = std::make_shared<call_metrics>(std::move(uuid), call_totals::process());
  auto& t = table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  t.calls.push_back(metrics.get());
  metrics->listed_ = true;
  return metrics;
}

call_metrics::call_metrics(std::string uuid, call_totals& totals)
    : uuid_(std::move(uuid)), totals_(totals) {}

call_metrics::~call_metrics() {
  if (!listed_) return;
  auto& t = table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  t.calls.erase(std::remove(t.calls.begin(), t.calls.end(), this), t.calls.end());
}

call_metrics_snapshot call_metrics::read() const {
  call_metrics_snapshot out;
  out.uuid = uuid_;
  out.frames_in = frames_in_.value();
  out.frames_dropped = frames_dropped_.value();
  out.frames_out = frames_out_.value();
  out.late_frames = late_frames_.value();
  out.underruns = underruns_.value();
  out.uplink_latency = uplink_.read();
  out.downlink_latency = downlink_.read();
  out.barge_in_latency = barge_in_.read();
  return out;
}

std::vector<call_metrics_snapshot> live_calls() {
  std::vector<call_metrics_snapshot> out;
  {
    auto& t = table();
    const std::lock_guard<std::mutex> lock(t.mutex);
    out.reserve(t.calls.size());
    for (const auto* c : t.calls)
      out.push_back(c->read());
  }
  std::sort(out.begin(), out.end(),
            [](const call_metrics_snapshot& a, const call_metrics_snapshot& b) {
              return a.uuid < b.uuid;
            });
  return out;
}

}  // namespace cb::metrics
