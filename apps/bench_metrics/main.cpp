// Cost of the metrics layer: each recording primitive on its own, the clocks, and what the
// instrumented consume() adds to a real CAF message (an actor sending itself messages, plain
// stateful typed actor against the same actor through metrics::instrumented_pointer). Figures are
// medians of repeated runs, so a preempted run does not skew them.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "actors/metrics/actor_metrics.hpp"
#include "actors/metrics/call_metrics.hpp"
#include "actors/metrics/cycle_clock.hpp"
#include "actors/metrics/exposition.hpp"
#include "actors/metrics/primitives.hpp"

CAF_ADD_ATOM(bench_metrics, bench::atom, run, "run")
CAF_ADD_ATOM(bench_metrics, bench::atom, step, "step")

namespace bench {

namespace {

namespace m = cb::metrics;
using steady = std::chrono::steady_clock;

volatile std::uint64_t sink;

template <class Op>
double median_ns_per_op(Op&& op) {
  constexpr int samples = 2001;
  constexpr int batch = 64;
  std::vector<double> results(samples);
  for (auto& r : results) {
    const auto start = steady::now();
    for (int i = 0; i < batch; ++i)
      op(i);
    r = std::chrono::duration<double, std::nano>(steady::now() - start).count() / batch;
  }
  std::nth_element(results.begin(), results.begin() + samples / 2, results.end());
  return results[samples / 2];
}

constexpr std::int64_t messages_per_run = 200000;

// An actor that sends itself messages_per_run messages, then answers: the cost of one CAF message
// round through the mailbox and consume().
using looper_actor = caf::typed_actor<caf::replies_to<atom::run>::with<std::int64_t>,
                                      caf::reacts_to<atom::step, std::int64_t>>;

struct looper_state {
  looper_state() = default;
  std::int64_t messages = 0;
  std::optional<caf::typed_response_promise<std::int64_t>> done;

  static inline const char* name = "bench_looper";
};

template <class Self>
looper_actor::behavior_type looper_behavior(Self self, std::int64_t messages) {
  self->state.messages = messages;
  return {
      [self](atom::run) {
        auto promise = self->template make_response_promise<std::int64_t>();
        self->state.done = promise;
        self->send(self, atom::step_v, self->state.messages);
        return promise;
      },
      [self](atom::step, std::int64_t left) {
        if (left > 0) {
          self->send(self, atom::step_v, left - 1);
          return;
        }
        self->state.done->deliver(self->state.messages);
        self->state.done.reset();
      },
  };
}

// Spawned with an argument: CAF 0.17 spawns argument-less functions through a null shared_ptr.
looper_actor::behavior_type plain_looper(looper_actor::stateful_pointer<looper_state> self,
                                         std::int64_t messages) {
  return looper_behavior(self, messages);
}

looper_actor::behavior_type instrumented_looper(
    m::instrumented_pointer<looper_actor, looper_state> self, std::int64_t messages) {
  return looper_behavior(self, messages);
}

double median(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

double ns_per_message(caf::actor_system& sys, const looper_actor& looper) {
  constexpr int runs = 5;
  caf::scoped_actor self{sys};
  std::vector<double> results;
  for (int r = 0; r < runs; ++r) {
    const auto start = steady::now();
    self->request(looper, std::chrono::seconds(60), atom::run_v)
        .receive([](std::int64_t) {}, [](caf::error&) {});
    results.push_back(std::chrono::duration<double, std::nano>(steady::now() - start).count() /
                      static_cast<double>(messages_per_run));
  }
  return median(results);
}

void row(const char* what, double ns) {
  std::printf("| %-52s | %8.1f |\n", what, ns);
}

}  // namespace

}  // namespace bench

int main() {
  using namespace bench;
  std::printf("| %-52s | %8s |\n", "operation", "ns");
  std::printf("|%s|%s|\n", std::string(54, '-').c_str(), std::string(10, '-').c_str());
  row("steady_clock::now()", median_ns_per_op([](int) {
        sink = sink + static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
      }));
  row("cycle_clock::now()", median_ns_per_op([](int) { sink = sink + m::cycle_clock::now(); }));
  m::counter plain_counter;
  row("counter::inc", median_ns_per_op([&](int) { plain_counter.inc(); }));
  m::striped_counter striped_counter;
  row("striped_counter::inc", median_ns_per_op([&](int) { striped_counter.inc(); }));
  m::histogram plain_histogram(m::buckets::latency_us);
  row("histogram::record (latency, ~2 ms)",
      median_ns_per_op([&](int i) { plain_histogram.record(2000 + static_cast<unsigned>(i)); }));
  m::striped_histogram striped_histogram(m::buckets::handler_ns);
  row("striped_histogram::record (handler, ~3 us)",
      median_ns_per_op([&](int i) { striped_histogram.record(3000 + static_cast<unsigned>(i)); }));
  auto& kind = m::actor_metrics::kind("bench_direct");
  row("consume() bookkeeping (2 clock reads + record)", median_ns_per_op([&](int) {
        const auto start = m::cycle_clock::now();
        kind.handled(m::cycle_clock::elapsed_ns(start, m::cycle_clock::now()));
      }));
  row("same with steady_clock instead", median_ns_per_op([&](int) {
        const auto start = steady::now();
        kind.handled(static_cast<std::uint64_t>((steady::now() - start).count()));
      }));
  auto call = m::call_metrics::open("bench");
  row("call_metrics: frame_out + uplink_latency", median_ns_per_op([&](int i) {
        call->frame_out();
        call->uplink_latency(std::chrono::microseconds(800 + i));
      }));

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto plain = sys.spawn(plain_looper, messages_per_run);
  const auto instrumented = sys.spawn(instrumented_looper, messages_per_run);
  // Alternate in rounds, so drifting machine load affects both alike; the overhead is the median
  // of the rounds' differences.
  std::vector<double> plain_ns;
  std::vector<double> instrumented_ns;
  std::vector<double> overhead_ns;
  for (int round = 0; round < 7; ++round) {
    plain_ns.push_back(ns_per_message(sys, plain));
    instrumented_ns.push_back(ns_per_message(sys, instrumented));
    overhead_ns.push_back(instrumented_ns.back() - plain_ns.back());
  }
  row("CAF self-send message, plain actor", median(plain_ns));
  row("CAF self-send message, instrumented actor", median(instrumented_ns));
  row("instrumentation overhead per message", median(overhead_ns));

  std::vector<double> scrape_ns;
  std::size_t scrape_bytes = 0;
  for (int i = 0; i < 21; ++i) {
    const auto start = steady::now();
    scrape_bytes = m::render_prometheus(m::take_snapshot()).size();
    scrape_ns.push_back(std::chrono::duration<double, std::nano>(steady::now() - start).count());
  }
  row("take_snapshot + render_prometheus (whole scrape)", median(scrape_ns));
  std::printf("\n/metrics size: %zu bytes\n", scrape_bytes);
  caf::anon_send_exit(plain, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(instrumented, caf::exit_reason::user_shutdown);
  return 0;
}
