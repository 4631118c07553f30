// The metrics of real calls through the bridge: the actor tree per kind, the per-call figures
// while the call runs, the aggregates and the service figures once it ended. The registry is
// process-wide and other test cases of this executable may have run before, so counts are
// compared as differences between snapshots.
#include <catch2/catch.hpp>

#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/metrics/exposition.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
namespace callsim = cb::callsim;
namespace m = cb::metrics;

namespace {

const std::vector<std::string> call_tree_kinds = {"call", "playout", "transcoder",
                                                  "elevenlabs_session", "audiosocket_connection"};

const m::series_snapshot* find_series(const m::snapshot& s, const std::string& name,
                                      const std::vector<std::string>& labels) {
  for (const auto& f : s.families) {
    if (f.name != name) continue;
    for (const auto& series : f.series) {
      if (series.label_values == labels) return &series;
    }
  }
  return nullptr;
}

// A counter's or gauge's value; 0 when the series does not exist yet.
double value(const m::snapshot& s, const std::string& name,
             const std::vector<std::string>& labels = {}) {
  const auto* series = find_series(s, name, labels);
  return series != nullptr ? series->value : 0.0;
}

std::uint64_t samples(const m::snapshot& s, const std::string& name) {
  const auto* series = find_series(s, name, {});
  return series != nullptr ? series->histogram.count() : 0;
}

double increase(const m::snapshot& before, const m::snapshot& after, const std::string& name,
                const std::vector<std::string>& labels = {}) {
  return value(after, name, labels) - value(before, name, labels);
}

std::optional<m::call_metrics_snapshot> live_call(const std::string& uuid) {
  for (auto& call : m::live_calls()) {
    if (call.uuid == uuid) return call;
  }
  return std::nullopt;
}

// Polls a condition that nothing announces (the actors update the cells on their own threads).
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Once every actor of the call's tree has terminated and nothing holds its figures.
bool tree_gone(const std::string& uuid) {
  return eventually([&uuid] {
    const auto s = m::take_snapshot();
    return std::all_of(call_tree_kinds.begin(), call_tree_kinds.end(),
                       [&s](const std::string& kind) {
                         return value(s, "callbridge_actors_live", {kind}) == 0;
                       }) &&
           !live_call(uuid);
  });
}

double call_ms(const callsim::call_report& report) {
  return static_cast<double>(report.ended_ns - report.connected_ns) / 1e6;
}

}  // namespace

TEST_CASE("a call's actors, frames, latencies and ending show in the metrics") {
  const std::string uuid = "5b0c1a2e-7f3d-4c8e-9a61-3d2f0e4b7c19";
  harness h;
  const auto before = m::take_snapshot();
  // A silent caller: the agent's greeting is the only turn (a speaking caller would barge in).
  auto spec = h.call(0.0, 2000ms);
  spec.source = callsim::silence_source{};
  spec.id = uuid;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());

  // While it runs, once the greeting plays: the tree is up and the call lists its own figures.
  REQUIRE(eventually([&uuid] {
    const auto call = live_call(uuid);
    return call && call->frames_in > 0 && call->downlink_latency.count() > 0 &&
           call->uplink_latency.count() > 0;
  }));
  const auto during = m::take_snapshot();
  for (const auto& kind : call_tree_kinds) {
    INFO("kind " << kind);
    CHECK(value(during, "callbridge_actors_live", {kind}) == 1);
  }
  CHECK(value(during, "callbridge_calls_live") == 1);
  CHECK(value(during, "callbridge_elevenlabs_sessions_open") == 1);
  const auto listed = std::find_if(during.calls.begin(), during.calls.end(),
                                   [&uuid](const auto& call) { return call.uuid == uuid; });
  REQUIRE(listed != during.calls.end());
  CHECK(listed->frames_out > 0);

  const auto report = h.sim.wait(*handle, 15s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  REQUIRE(tree_gone(uuid));
  const auto after = m::take_snapshot();

  for (const auto& kind : call_tree_kinds) {
    INFO("kind " << kind);
    CHECK(value(after, "callbridge_actors_live", {kind}) == 0);
    CHECK(increase(before, after, "callbridge_actors_spawned_total", {kind}) == 1);
    CHECK(increase(before, after, "callbridge_actors_stopped_total", {kind}) == 1);
    CHECK(increase(before, after, "callbridge_actor_messages_total", {kind}) > 0);
  }
  CHECK(increase(before, after, "callbridge_calls_total") == 1);
  CHECK(value(after, "callbridge_calls_live") == 0);
  CHECK(increase(before, after, "callbridge_calls_ended_total", {"caller hung up"}) == 1);
  CHECK(increase(before, after, "callbridge_elevenlabs_sessions_opened_total") == 1);
  CHECK(value(after, "callbridge_elevenlabs_sessions_open") == 0);
  CHECK(increase(before, after, "callbridge_elevenlabs_session_failures_total") == 0);

  // One frame per 20 ms each way for as long as the call lasted.
  const double frames = call_ms(*report) / 20.0;
  const auto frames_in = increase(before, after, "callbridge_call_frames_in_total");
  const auto frames_out = increase(before, after, "callbridge_call_frames_out_total");
  CHECK(frames_in == Approx(frames).epsilon(0.1));
  CHECK(frames_in <= static_cast<double>(report->audio_frames_sent));
  CHECK(frames_out == Approx(frames).epsilon(0.1));
  CHECK(frames_out >= static_cast<double>(report->audio_frames_received));
  // The greeting is one turn; every caller frame the agent got was timed on its way up.
  CHECK(samples(after, "callbridge_call_downlink_latency_seconds") -
            samples(before, "callbridge_call_downlink_latency_seconds") ==
        1);
  CHECK(samples(after, "callbridge_call_barge_in_latency_seconds") ==
        samples(before, "callbridge_call_barge_in_latency_seconds"));
  const auto uplink = samples(after, "callbridge_call_uplink_latency_seconds") -
                      samples(before, "callbridge_call_uplink_latency_seconds");
  CHECK(uplink > 0);
  CHECK(static_cast<double>(uplink) <= frames_in);
}

TEST_CASE("an interruption is timed as a barge-in and the agent's next turn as a new turn") {
  harness h;
  h.config->elevenlabs_agent_id = "interrupt.pcm_16000.pcm_16000";
  const auto before = m::take_snapshot();
  auto spec = h.call(0.0, 4000ms);
  spec.source = callsim::silence_source{};
  spec.id = "0d9e6c4a-2b71-4f35-8c0e-5a6b7d8e9f10";
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 15s).has_value());
  REQUIRE(tree_gone(spec.id));
  const auto after = m::take_snapshot();
  CHECK(samples(after, "callbridge_call_barge_in_latency_seconds") -
            samples(before, "callbridge_call_barge_in_latency_seconds") ==
        1);
  // The interrupted turn and the one after it.
  CHECK(samples(after, "callbridge_call_downlink_latency_seconds") -
            samples(before, "callbridge_call_downlink_latency_seconds") ==
        2);
}

TEST_CASE("an agent that refuses the session counts as a failed session, not an opened one") {
  harness h;
  h.config->elevenlabs_agent_id = "refuse";
  const auto before = m::take_snapshot();
  auto spec = h.call(0.0, 300ms);
  spec.source = callsim::silence_source{};
  spec.end = callsim::end_mode::wait_for_server;
  spec.max_time = 10s;
  spec.id = "7a3c5e1f-9b2d-4e6a-8c4f-1d3e5f7a9b2c";
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 15s).has_value());
  REQUIRE(tree_gone(spec.id));
  const auto after = m::take_snapshot();
  CHECK(increase(before, after, "callbridge_elevenlabs_session_failures_total") == 1);
  CHECK(increase(before, after, "callbridge_elevenlabs_sessions_opened_total") == 0);
  CHECK(value(after, "callbridge_elevenlabs_sessions_open") == 0);
  CHECK(increase(before, after, "callbridge_calls_ended_total", {"agent service failed"}) == 1);
  CHECK(value(after, "callbridge_calls_live") == 0);
}

TEST_CASE("the port pool gauges follow leases as they are taken and given back") {
  cb::test::harness_options options;
  options.pool_first = 27112;
  options.pool_last = 27115;
  harness h(options);
  const auto pool = [] {
    const auto s = m::take_snapshot();
    return std::pair{value(s, "callbridge_port_pool_leased"),
                     value(s, "callbridge_port_pool_size")};
  };
  CHECK(eventually([&pool] { return pool() == std::pair{0.0, 4.0}; }));
  caf::scoped_actor self{*h.system};
  cb::call_context context;
  context.agent_id = "tone.pcm_16000.pcm_16000";
  std::optional<cb::prepared_call> prepared;
  self->request(h.bridge_->registry(), 5s, cb::atom::prepare_v, context, true)
      .receive([&](cb::prepared_call& call) { prepared = std::move(call); }, [](caf::error&) {});
  REQUIRE(prepared.has_value());
  // The lease was taken before the registry answered.
  CHECK(pool() == std::pair{1.0, 4.0});
  auto spec = h.call(600.0, 500ms);
  spec.port = prepared->port;
  spec.id = prepared->uuid;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  CHECK(eventually([&pool] { return pool() == std::pair{0.0, 4.0}; }));
}
