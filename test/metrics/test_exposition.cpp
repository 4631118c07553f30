#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/metrics/exposition.hpp"
#include "actors/metrics/registry.hpp"

namespace m = cb::metrics;

namespace {

constexpr std::uint64_t ms_bounds_us[] = {1000, 5000};
constexpr m::bucket_layout ms_layout{ms_bounds_us, 2, 1e6};

// A registry with one family of each type, and a snapshot of it with fixed process figures.
m::snapshot sample_snapshot(m::registry& r) {
  auto& ended = r.counters("callbridge_calls_ended_total", "Calls ended, by reason.", {"reason"});
  ended.with({"caller hung up"}).inc(2);
  ended.with({"bridge \"x\"\nerror"}).inc();
  r.gauges("callbridge_calls_live", "Calls in progress.").with().set(3);
  auto& latency =
      r.histograms("callbridge_call_uplink_latency_seconds",
                   "Caller frame arrival to its audio leaving for the agent.", ms_layout)
          .with();
  latency.record(400);
  latency.record(4000);
  latency.record(4600);
  latency.record(9000);
  m::snapshot s;
  s.unix_ms = 1700000000123;
  s.process = m::process_stats{52428800, 104857600, 9, 17, 1024, 1.25, 1700000000.5};
  s.families = r.collect();
  return s;
}

}  // namespace

TEST_CASE("metrics exposition: Prometheus text of every family type, byte for byte", "[metrics]") {
  m::registry r;
  const auto text = m::render_prometheus(sample_snapshot(r));
  CHECK(text ==
        "# HELP process_cpu_seconds_total User and system CPU time spent in seconds.\n"
        "# TYPE process_cpu_seconds_total counter\n"
        "process_cpu_seconds_total 1.25\n"
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds 17\n"
        "# HELP process_max_fds Maximum number of open file descriptors.\n"
        "# TYPE process_max_fds gauge\n"
        "process_max_fds 1024\n"
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes 52428800\n"
        "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
        "# TYPE process_virtual_memory_bytes gauge\n"
        "process_virtual_memory_bytes 104857600\n"
        "# HELP process_start_time_seconds Start time of the process since unix epoch in "
        "seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        "process_start_time_seconds 1.7000000005e+09\n"
        "# HELP process_threads Number of OS threads in the process.\n"
        "# TYPE process_threads gauge\n"
        "process_threads 9\n"
        "# HELP callbridge_call_uplink_latency_seconds Caller frame arrival to its audio leaving "
        "for the agent.\n"
        "# TYPE callbridge_call_uplink_latency_seconds histogram\n"
        "callbridge_call_uplink_latency_seconds_bucket{le=\"0.001\"} 1\n"
        "callbridge_call_uplink_latency_seconds_bucket{le=\"0.005\"} 3\n"
        "callbridge_call_uplink_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "callbridge_call_uplink_latency_seconds_sum 0.018\n"
        "callbridge_call_uplink_latency_seconds_count 4\n"
        "# HELP callbridge_calls_ended_total Calls ended, by reason.\n"
        "# TYPE callbridge_calls_ended_total counter\n"
        "callbridge_calls_ended_total{reason=\"bridge \\\"x\\\"\\nerror\"} 1\n"
        "callbridge_calls_ended_total{reason=\"caller hung up\"} 2\n"
        "# HELP callbridge_calls_live Calls in progress.\n"
        "# TYPE callbridge_calls_live gauge\n"
        "callbridge_calls_live 3\n");
}

TEST_CASE("metrics exposition: JSON snapshot of every family type and a live call", "[metrics]") {
  m::registry r;
  auto s = sample_snapshot(r);
  m::registry call_registry;
  m::call_totals totals(call_registry);
  m::call_metrics call("c0ffee", totals);
  call.frame_in();
  call.frame_in();
  call.frame_dropped();
  call.frame_out();
  call.uplink_latency(std::chrono::microseconds(800));
  s.calls.push_back(call.read());
  const auto json = m::render_json(s);
  CHECK(json ==
        "{\"unix_ms\":1700000000123,"
        "\"process\":{\"resident_bytes\":52428800,\"virtual_bytes\":104857600,\"threads\":9,"
        "\"open_fds\":17,\"max_fds\":1024,\"cpu_seconds\":1.25,"
        "\"start_time_unix_seconds\":1700000000.5},"
        "\"metrics\":["
        "{\"name\":\"callbridge_call_uplink_latency_seconds\",\"type\":\"histogram\","
        "\"help\":\"Caller frame arrival to its audio leaving for the agent.\",\"series\":["
        "{\"labels\":{},\"count\":4,\"sum\":0.018,\"p50\":0.003,\"p90\":0.005,\"p99\":0.005,"
        "\"buckets\":[{\"le\":0.001,\"count\":1},{\"le\":0.005,\"count\":3}]}]},"
        "{\"name\":\"callbridge_calls_ended_total\",\"type\":\"counter\","
        "\"help\":\"Calls ended, by reason.\",\"series\":["
        "{\"labels\":{\"reason\":\"bridge \\\"x\\\"\\nerror\"},\"value\":1},"
        "{\"labels\":{\"reason\":\"caller hung up\"},\"value\":2}]},"
        "{\"name\":\"callbridge_calls_live\",\"type\":\"gauge\","
        "\"help\":\"Calls in progress.\",\"series\":[{\"labels\":{},\"value\":3}]}],"
        "\"calls\":[{\"uuid\":\"c0ffee\",\"frames_in\":2,\"frames_dropped\":1,"
        "\"frames_out\":1,\"late_frames\":0,\"underruns\":0,"
        "\"uplink_latency\":{\"count\":1,\"sum\":8e-04,\"p50\":0.00075,\"p90\":0.00095,"
        "\"p99\":0.000995},"
        "\"downlink_latency\":{\"count\":0,\"sum\":0,\"p50\":0,\"p90\":0,\"p99\":0},"
        "\"barge_in_latency\":{\"count\":0,\"sum\":0,\"p50\":0,\"p90\":0,\"p99\":0}}]}");
}

TEST_CASE("metrics exposition: the process snapshot holds every bridge family from start-up",
          "[metrics]") {
  const auto s = m::take_snapshot();
  REQUIRE(s.process);
  CHECK(s.unix_ms > 1600000000000);
  const auto text = m::render_prometheus(s);
  for (const char* family :
       {"process_resident_memory_bytes", "callbridge_calls_live", "callbridge_calls_total",
        "callbridge_calls_ended_total", "callbridge_ami_link_state",
        "callbridge_elevenlabs_sessions_open", "callbridge_port_pool_leased",
        "callbridge_call_frames_in_total", "callbridge_call_uplink_latency_seconds",
        "callbridge_call_barge_in_latency_seconds"}) {
    CHECK(text.find(std::string("# TYPE ") + family + ' ') != std::string::npos);
  }
  CHECK(text.back() == '\n');
}
