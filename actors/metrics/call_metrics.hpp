// One call's audio path figures, recorded by whichever of its actors sees the event (the
// connection or transcoder for caller frames, the playout for frames out, late frames and
// underruns, the session or playout for latencies). Every record also goes into the process-wide
// aggregate families, so Prometheus sees all calls without a series per call; the per-call values
// are for the call's own summary and the /ws snapshot. Recording is lock- and allocation-free.
//
// The call actor opens it and hands the shared_ptr to its children; the call stays listed in
// live_calls() until the last holder drops it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/metrics/primitives.hpp"
#include "actors/metrics/registry.hpp"

namespace cb::metrics {

struct call_metrics_snapshot {
  std::string uuid;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t underruns = 0;
  histogram_snapshot uplink_latency;    // microseconds
  histogram_snapshot downlink_latency;  // microseconds
  histogram_snapshot barge_in_latency;  // microseconds
};

// The process-wide aggregates of every call's figures.
class call_totals {
 public:
  explicit call_totals(registry& r);

  striped_counter& frames_in;
  striped_counter& frames_dropped;
  striped_counter& frames_out;
  striped_counter& late_frames;
  striped_counter& underruns;
  striped_histogram& uplink_latency;
  striped_histogram& downlink_latency;
  striped_histogram& barge_in_latency;

  // The aggregates in registry::process().
  static call_totals& process();
};

class call_metrics {
 public:
  // Opens a call's metrics, aggregated into call_totals::process() and listed in live_calls().
  static std::shared_ptr<call_metrics> open(std::string uuid);

  call_metrics(std::string uuid, call_totals& totals);
  call_metrics(const call_metrics&) = delete;
  call_metrics& operator=(const call_metrics&) = delete;
  call_metrics(call_metrics&&) = delete;
  call_metrics& operator=(call_metrics&&) = delete;
  ~call_metrics();

  // A caller frame arrived from Asterisk.
  void frame_in() noexcept {
    frames_in_.inc();
    totals_.frames_in.inc();
  }
  // A caller frame was dropped: beyond the buffer held until the agent is ready, or too late to
  // be of use (overload).
  void frame_dropped() noexcept {
    frames_dropped_.inc();
    totals_.frames_dropped.inc();
  }
  // A frame (audio or silence) went to Asterisk.
  void frame_out() noexcept {
    frames_out_.inc();
    totals_.frames_out.inc();
  }
  // The playout clock sent a frame later than its deadline allows.
  void late_frame() noexcept {
    late_frames_.inc();
    totals_.late_frames.inc();
  }
  // A turn's audio ran out mid-frame.
  void underrun() noexcept {
    underruns_.inc();
    totals_.underruns.inc();
  }
  // Caller frame arrival to its audio leaving for the agent.
  void uplink_latency(std::chrono::nanoseconds d) noexcept {
    record(uplink_, totals_.uplink_latency, d);
  }
  // Agent audio arrival to its first sample going to Asterisk.
  void downlink_latency(std::chrono::nanoseconds d) noexcept {
    record(downlink_, totals_.downlink_latency, d);
  }
  // The agent's interruption event to the first frame without its old audio.
  void barge_in_latency(std::chrono::nanoseconds d) noexcept {
    record(barge_in_, totals_.barge_in_latency, d);
  }

  [[nodiscard]] call_metrics_snapshot read() const;
  [[nodiscard]] const std::string& uuid() const noexcept { return uuid_; }

 private:
  static void record(histogram& own, striped_histogram& total,
                     std::chrono::nanoseconds d) noexcept {
    const auto us = d.count() <= 0 ? 0 : static_cast<std::uint64_t>(d.count() / 1000);
    own.record(us);
    total.record(us);
  }

  std::string uuid_;
  call_totals& totals_;
  bool listed_ = false;
  counter frames_in_;
  counter frames_dropped_;
  counter frames_out_;
  counter late_frames_;
  counter underruns_;
  histogram uplink_{buckets::latency_us};
  histogram downlink_{buckets::latency_us};
  histogram barge_in_{buckets::latency_us};
};

// Every call opened through call_metrics::open() and still held, ordered by uuid.
[[nodiscard]] std::vector<call_metrics_snapshot> live_calls();

}  // namespace cb::metrics
