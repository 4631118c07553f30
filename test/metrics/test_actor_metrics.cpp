// The instrumented actor base on a real actor system: stateful typed and dynamically typed actors
// spawned through it keep every self-> facility, and their kind's figures come out exact. Each
// figure is read after the actor's down_msg (or a reply from it), which CAF delivers after the
// actor recorded it, so no wait is timed.
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "actors/metrics/actor_metrics.hpp"

namespace m = cb::metrics;

namespace metrics_test {

// Holds a worker inside one handler until the test opens it.
struct gate {
  std::shared_ptr<std::atomic<bool>> open = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace metrics_test

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(metrics_test::gate)

CAF_ADD_ATOM(metrics_test, metrics_test::atom, bump, "bump")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, count, "count")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, later, "later")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, deliver, "deliver")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, crash, "crash")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, block, "block")
CAF_ADD_ATOM(metrics_test, metrics_test::atom, spin, "spin")

namespace metrics_test {

namespace {

constexpr auto timeout = std::chrono::seconds(5);

using worker_actor =
    caf::typed_actor<caf::reacts_to<atom::bump>, caf::replies_to<atom::count>::with<std::int32_t>,
                     // answers 2x after a delayed message to itself
                     caf::replies_to<atom::later, std::int32_t>::with<std::int32_t>,
                     caf::reacts_to<atom::deliver, std::int32_t>,
                     // quits with an error
                     caf::reacts_to<atom::crash>, caf::reacts_to<atom::block, gate>,
                     // busy for this many nanoseconds
                     caf::reacts_to<atom::spin, std::int64_t>>;

struct worker_state {
  worker_state() = default;
  std::int32_t count = 0;
  std::optional<caf::typed_response_promise<std::int32_t>> pending;

  static inline const char* name = "metrics_test_worker";
};

// Every behaviour function here takes an argument besides self: CAF 0.17 spawns a function
// without arguments through a null shared_ptr (init_fun_factory dereferences it), which UBSan
// rejects.
worker_actor::behavior_type worker(m::instrumented_pointer<worker_actor, worker_state> self,
                                   std::int32_t start) {
  self->state.count = start;
  return {
      [self](atom::bump) { ++self->state.count; },
      [self](atom::count) { return self->state.count; },
      [self](atom::later, std::int32_t x) {
        auto promise = self->make_response_promise<std::int32_t>();
        self->state.pending = promise;
        self->delayed_send(self, std::chrono::milliseconds(1), atom::deliver_v, x);
        return promise;
      },
      [self](atom::deliver, std::int32_t x) {
        if (self->state.pending) self->state.pending->deliver(2 * x);
        self->state.pending.reset();
      },
      [self](atom::crash) { self->quit(caf::make_error(caf::sec::runtime_error)); },
      [](atom::block, const gate& g) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!g.open->load() && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
      },
      [](atom::spin, std::int64_t ns) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
        while (std::chrono::steady_clock::now() < until) {
        }
      },
  };
}

// Restarts its worker when it fails; answers crash with the new worker once it is spawned.
using supervisor_actor = caf::typed_actor<caf::replies_to<atom::count>::with<std::int32_t>,
                                          caf::replies_to<atom::crash>::with<worker_actor>>;

struct supervisor_state {
  supervisor_state() = default;
  worker_actor worker;
  std::optional<caf::typed_response_promise<worker_actor>> restarted;

  static inline const char* name = "metrics_test_supervisor";
};

supervisor_actor::behavior_type supervisor(
    m::instrumented_pointer<supervisor_actor, supervisor_state> self, std::int32_t worker_start) {
  self->state.worker = self->spawn<caf::linked>(worker, worker_start);
  self->set_exit_handler([self, worker_start](caf::exit_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.worker.address()) {
      self->quit(msg.reason);
      return;
    }
    if (!msg.reason) return;
    m::actor_metrics::restarted(worker_state::name);
    st.worker = self->spawn<caf::linked>(worker, worker_start);
    if (st.restarted) st.restarted->deliver(st.worker);
    st.restarted.reset();
  });
  return {
      [self](atom::count) {
        auto promise = self->make_response_promise<std::int32_t>();
        self->request(self->state.worker, timeout, atom::count_v)
            .then([promise](std::int32_t n) mutable { promise.deliver(n); },
                  [promise](caf::error& e) mutable { promise.deliver(std::move(e)); });
        return promise;
      },
      [self](atom::crash) {
        auto promise = self->make_response_promise<worker_actor>();
        self->state.restarted = promise;
        self->send(self->state.worker, atom::crash_v);
        return promise;
      },
  };
}

struct untyped_state {
  untyped_state() = default;
  std::int32_t count = 0;

  static inline const char* name = "metrics_test_untyped";
};

caf::behavior untyped(m::instrumented_pointer<caf::actor, untyped_state> self, std::int32_t start) {
  self->state.count = start;
  return {
      [self](atom::bump) { ++self->state.count; },
      [self](atom::count) { return self->state.count; },
  };
}

// One kind's figures as the process registry reports them (zeros before the kind's first spawn).
struct kind_figures {
  double live = 0;
  double spawned = 0;
  double stopped = 0;
  double restarts = 0;
  double messages = 0;
  m::histogram_snapshot handler;
  m::histogram_snapshot depth;
};

kind_figures figures(const std::string& kind) {
  kind_figures out;
  for (const auto& family : m::registry::process().collect()) {
    for (const auto& series : family.series) {
      if (series.label_values != std::vector<std::string>{kind}) continue;
      if (family.name == "callbridge_actors_live") out.live = series.value;
      if (family.name == "callbridge_actors_spawned_total") out.spawned = series.value;
      if (family.name == "callbridge_actors_stopped_total") out.stopped = series.value;
      if (family.name == "callbridge_actor_restarts_total") out.restarts = series.value;
      if (family.name == "callbridge_actor_messages_total") out.messages = series.value;
      if (family.name == "callbridge_actor_handler_seconds") out.handler = series.histogram;
      if (family.name == "callbridge_actor_mailbox_depth") out.depth = series.histogram;
    }
  }
  return out;
}

// Sends an exit to `stopped` and waits for its down_msg and those of `also_down` (its linked
// children, which go down with it).
template <class Stopped, class... Others>
bool stop_and_await(caf::scoped_actor& self, const Stopped& stopped, const Others&... also_down) {
  self->monitor(stopped);
  (self->monitor(also_down), ...);
  caf::anon_send_exit(stopped, caf::exit_reason::user_shutdown);
  std::size_t downs = 0;
  bool timed_out = false;
  while (downs < 1 + sizeof...(also_down) && !timed_out) {
    self->receive([&downs](const caf::down_msg&) { ++downs; },
                  caf::after(timeout) >> [&timed_out] { timed_out = true; });
  }
  return !timed_out;
}

}  // namespace

}  // namespace metrics_test

using namespace metrics_test;

TEST_CASE("instrumented actor: a stateful typed actor spawns through the system and is counted",
          "[metrics][actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto before = figures(worker_state::name);
  auto w = sys.spawn(worker, std::int32_t{0});
  static_assert(std::is_same_v<decltype(w), worker_actor>, "spawn infers the typed handle");
  caf::scoped_actor self{sys};
  for (int i = 0; i < 10; ++i)
    self->send(w, atom::bump_v);
  std::int32_t counted = -1;
  self->request(w, timeout, atom::count_v)
      .receive([&counted](std::int32_t n) { counted = n; }, [](caf::error&) {});
  CHECK(counted == 10);  // self->state
  const auto running = figures(worker_state::name);
  CHECK(running.live - before.live == 1);
  CHECK(running.spawned - before.spawned == 1);
  std::int32_t doubled = -1;
  self->request(w, timeout, atom::later_v, std::int32_t{21})
      .receive([&doubled](std::int32_t n) { doubled = n; }, [](caf::error&) {});
  CHECK(doubled == 42);  // make_response_promise + delayed_send
  REQUIRE(stop_and_await(self, w));
  const auto after = figures(worker_state::name);
  CHECK(after.live - before.live == 0);
  CHECK(after.spawned - before.spawned == 1);
  CHECK(after.stopped - before.stopped == 1);
  // 10 bumps, count, later, the delayed deliver, the exit message.
  CHECK(after.messages - before.messages == 14);
  CHECK(after.handler.count() - before.handler.count() == 14);
  CHECK(after.handler.sum > before.handler.sum);
}

TEST_CASE("instrumented actor: linked children, exit handlers, request().then and restarts",
          "[metrics][actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto workers_before = figures(worker_state::name);
  const auto supervisors_before = figures(supervisor_state::name);
  auto sup = sys.spawn(supervisor, std::int32_t{7});
  caf::scoped_actor self{sys};
  worker_actor restarted_worker;
  self->request(sup, timeout, atom::crash_v)
      .receive([&restarted_worker](const worker_actor& w) { restarted_worker = w; },
               [](caf::error&) {});
  REQUIRE(restarted_worker);
  std::int32_t counted = -1;
  self->request(sup, timeout, atom::count_v)
      .receive([&counted](std::int32_t n) { counted = n; }, [](caf::error&) {});
  CHECK(counted == 7);  // the fresh worker answered through the supervisor's request().then
  const auto workers_running = figures(worker_state::name);
  CHECK(workers_running.restarts - workers_before.restarts == 1);
  CHECK(workers_running.spawned - workers_before.spawned == 2);
  CHECK(workers_running.stopped - workers_before.stopped == 1);
  CHECK(workers_running.live - workers_before.live == 1);
  REQUIRE(stop_and_await(self, sup, restarted_worker));
  const auto workers_after = figures(worker_state::name);
  const auto supervisors_after = figures(supervisor_state::name);
  CHECK(workers_after.live - workers_before.live == 0);
  CHECK(workers_after.stopped - workers_before.stopped == 2);
  CHECK(supervisors_after.live - supervisors_before.live == 0);
  CHECK(supervisors_after.spawned - supervisors_before.spawned == 1);
  CHECK(supervisors_after.stopped - supervisors_before.stopped == 1);
  // Old worker: crash. New worker: count, the exit from its supervisor.
  CHECK(workers_after.messages - workers_before.messages == 3);
  // crash, the old worker's exit, count, the worker's answer, the test's exit.
  CHECK(supervisors_after.messages - supervisors_before.messages == 5);
}

TEST_CASE("instrumented actor: handler time is recorded", "[metrics][actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto before = figures(worker_state::name);
  auto w = sys.spawn(worker, std::int32_t{0});
  caf::scoped_actor self{sys};
  self->send(w, atom::spin_v, std::int64_t{300000});
  REQUIRE(stop_and_await(self, w));
  const auto after = figures(worker_state::name);
  REQUIRE(after.handler.count() - before.handler.count() == 2);  // spin, exit
  // The spin took at least 300 us: it lies in a bucket above 250 us.
  std::uint64_t above_250us = 0;
  for (std::size_t i = 0; i <= m::buckets::handler_ns.size; ++i) {
    const bool above = i > 0 && m::buckets::handler_ns.upper_bounds[i - 1] >= 250000;
    if (above) above_250us += after.handler.counts[i] - before.handler.counts[i];
  }
  CHECK(above_250us >= 1);
  CHECK(after.handler.sum - before.handler.sum >= 290000);
}

TEST_CASE("instrumented actor: mailbox depth is sampled every 16th message", "[metrics][actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto before = figures(worker_state::name);
  auto w = sys.spawn(worker, std::int32_t{0});
  caf::scoped_actor self{sys};
  // Everything is queued while the worker is held in its first handler: block, 40 bumps and a
  // count. Message 16 leaves 25 bumps and the count waiting, message 32 leaves 9 and the count.
  gate g;
  self->send(w, atom::block_v, g);
  for (int i = 0; i < 40; ++i)
    self->send(w, atom::bump_v);
  self->send(w, atom::count_v);
  g.open->store(true);
  std::int32_t counted = -1;
  self->receive([&counted](std::int32_t n) { counted = n; }, caf::after(timeout) >> [] {});
  CHECK(counted == 40);
  REQUIRE(stop_and_await(self, w));
  const auto after = figures(worker_state::name);
  CHECK(after.depth.count() - before.depth.count() == 2);
  CHECK(after.depth.sum - before.depth.sum == 26 + 10);
  const auto bucket_of = [](std::uint64_t depth) {
    return m::bucket_index(m::buckets::mailbox_depth, depth);
  };
  CHECK(after.depth.counts[bucket_of(26)] - before.depth.counts[bucket_of(26)] == 1);
  CHECK(after.depth.counts[bucket_of(10)] - before.depth.counts[bucket_of(10)] == 1);
}

TEST_CASE("instrumented actor: a dynamically typed stateful actor works the same way",
          "[metrics][actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const auto before = figures(untyped_state::name);
  auto u = sys.spawn(untyped, std::int32_t{0});
  static_assert(std::is_same_v<decltype(u), caf::actor>, "spawn infers caf::actor");
  caf::scoped_actor self{sys};
  self->send(u, atom::bump_v);
  self->send(u, atom::bump_v);
  std::int32_t counted = -1;
  self->request(u, timeout, atom::count_v)
      .receive([&counted](std::int32_t n) { counted = n; }, [](caf::error&) {});
  CHECK(counted == 2);
  REQUIRE(stop_and_await(self, u));
  const auto after = figures(untyped_state::name);
  CHECK(after.spawned - before.spawned == 1);
  CHECK(after.stopped - before.stopped == 1);
  CHECK(after.live - before.live == 0);
  CHECK(after.messages - before.messages == 4);
}
