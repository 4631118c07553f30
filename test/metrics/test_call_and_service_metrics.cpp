#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "actors/metrics/call_metrics.hpp"
#include "actors/metrics/service_metrics.hpp"

namespace m = cb::metrics;
using namespace std::chrono_literals;

namespace {

bool listed(const std::string& uuid) {
  const auto calls = m::live_calls();
  return std::any_of(calls.begin(), calls.end(),
                     [&uuid](const m::call_metrics_snapshot& c) { return c.uuid == uuid; });
}

// The value of one series of a family in a registry's snapshot (-1 when absent).
double series_value(const m::registry& r, const std::string& name,
                    const std::vector<std::string>& labels = {}) {
  for (const auto& f : r.collect()) {
    if (f.name != name) continue;
    for (const auto& s : f.series) {
      if (s.label_values == labels) return s.value;
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("call metrics: a call's figures are its own and add to the process totals", "[metrics]") {
  m::registry r;
  m::call_totals totals(r);
  m::call_metrics a("a", totals);
  m::call_metrics b("b", totals);
  a.frame_in();
  a.frame_in();
  b.frame_in();
  a.frame_out();
  a.late_frame();
  b.underrun();
  b.frame_dropped();
  a.uplink_latency(1500us);
  b.uplink_latency(40ms);
  a.downlink_latency(-5us);  // a clock step backwards counts as 0
  b.barge_in_latency(120ms);
  const auto sa = a.read();
  CHECK(sa.uuid == "a");
  CHECK(sa.frames_in == 2);
  CHECK(sa.frames_dropped == 0);
  CHECK(b.read().frames_dropped == 1);
  CHECK(sa.frames_out == 1);
  CHECK(sa.late_frames == 1);
  CHECK(sa.underruns == 0);
  CHECK(sa.uplink_latency.count() == 1);
  CHECK(sa.uplink_latency.sum == 1500);
  CHECK(sa.downlink_latency.counts[0] == 1);
  CHECK(sa.downlink_latency.sum == 0);
  CHECK(b.read().barge_in_latency.sum == 120000);
  CHECK(totals.frames_in.value() == 3);
  CHECK(totals.frames_dropped.value() == 1);
  CHECK(totals.frames_out.value() == 1);
  CHECK(totals.late_frames.value() == 1);
  CHECK(totals.underruns.value() == 1);
  const auto uplink = totals.uplink_latency.read();
  CHECK(uplink.count() == 2);
  CHECK(uplink.sum == 41500);
  CHECK(uplink.counts[m::bucket_index(m::buckets::latency_us, 1500)] == 1);
  CHECK(uplink.counts[m::bucket_index(m::buckets::latency_us, 40000)] == 1);
  CHECK(series_value(r, "callbridge_call_frames_in_total") == 3);
}

TEST_CASE("call metrics: several actors of one call record at once without loss", "[metrics]") {
  m::registry r;
  m::call_totals totals(r);
  m::call_metrics call("concurrent", totals);
  std::thread uplink([&call] {
    for (int i = 0; i < 50000; ++i) {
      call.frame_in();
      call.uplink_latency(std::chrono::microseconds(i % 3000));
    }
  });
  std::thread downlink([&call] {
    for (int i = 0; i < 50000; ++i) {
      call.frame_out();
      call.downlink_latency(std::chrono::microseconds(i % 7000));
    }
  });
  uplink.join();
  downlink.join();
  const auto s = call.read();
  CHECK(s.frames_in == 50000);
  CHECK(s.frames_out == 50000);
  CHECK(s.uplink_latency.count() == 50000);
  CHECK(s.downlink_latency.count() == 50000);
  CHECK(totals.frames_in.value() == 50000);
  CHECK(totals.uplink_latency.read().count() == 50000);
}

TEST_CASE("call metrics: an opened call is listed until its last holder lets go", "[metrics]") {
  auto call = m::call_metrics::open("6f1d2c3b-open-test");
  auto child_copy = call;
  CHECK(listed("6f1d2c3b-open-test"));
  call->frame_in();
  call.reset();
  CHECK(listed("6f1d2c3b-open-test"));
  child_copy.reset();
  CHECK_FALSE(listed("6f1d2c3b-open-test"));
}

TEST_CASE("service metrics: the AMI state set has exactly one state at 1", "[metrics]") {
  m::registry r;
  m::service_metrics s(r);
  s.ami_link_state("connecting");
  CHECK(series_value(r, "callbridge_ami_link_state", {"connecting"}) == 1);
  s.ami_link_state("connected");
  CHECK(series_value(r, "callbridge_ami_link_state", {"connecting"}) == 0);
  CHECK(series_value(r, "callbridge_ami_link_state", {"connected"}) == 1);
  s.ami_link_state("disconnected");
  s.ami_link_state("connected");
  CHECK(series_value(r, "callbridge_ami_link_state", {"disconnected"}) == 0);
  CHECK(series_value(r, "callbridge_ami_link_state", {"connected"}) == 1);
  s.ami_connected();
  s.ami_failed();
  s.ami_failed();
  CHECK(series_value(r, "callbridge_ami_connects_total") == 1);
  CHECK(series_value(r, "callbridge_ami_failures_total") == 2);
}

TEST_CASE("service metrics: sessions, pool and calls", "[metrics]") {
  m::registry r;
  m::service_metrics s(r);
  s.elevenlabs_session_opened();
  s.elevenlabs_session_opened();
  s.elevenlabs_session_closed();
  s.elevenlabs_session_failed();
  CHECK(series_value(r, "callbridge_elevenlabs_sessions_open") == 1);
  CHECK(series_value(r, "callbridge_elevenlabs_sessions_opened_total") == 2);
  CHECK(series_value(r, "callbridge_elevenlabs_session_failures_total") == 1);
  s.port_pool(3, 100);
  CHECK(series_value(r, "callbridge_port_pool_leased") == 3);
  CHECK(series_value(r, "callbridge_port_pool_size") == 100);
  s.call_started();
  s.call_started();
  s.call_started();
  s.call_ended("caller hung up");
  s.call_ended("caller hung up");
  s.call_ended("agent ended the call");
  CHECK(series_value(r, "callbridge_calls_total") == 3);
  CHECK(series_value(r, "callbridge_calls_live") == 0);
  CHECK(series_value(r, "callbridge_calls_ended_total", {"caller hung up"}) == 2);
  CHECK(series_value(r, "callbridge_calls_ended_total", {"agent ended the call"}) == 1);
}
