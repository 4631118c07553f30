// The playout clock on a real scheduler: stand-in playouts record the slot deadlines they are
// ticked for.
#include "actors/playout_clock.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "actors/bridge.hpp"

namespace {

using namespace std::chrono_literals;

struct tick_log {
  std::mutex mutex;
  std::vector<std::vector<std::int64_t>> dues;  // per stand-in, in arrival order
};

// Accepts what a playout accepts; records each tick's deadline.
cb::playout_actor::behavior_type stand_in(cb::playout_actor::pointer /*self*/, tick_log* log,
                                          std::size_t index) {
  return {
      [log, index](cb::atom::tick, std::int64_t due_ns) {
        const std::lock_guard<std::mutex> lock(log->mutex);
        log->dues[index].push_back(due_ns);
      },
      [](cb::playout_chunk&) {},
      [](cb::atom::flush, std::int64_t) {},
      [](cb::atom::caller_rate, std::int32_t) {},
      [](cb::atom::drain) {},
  };
}

struct clock_fixture {
  clock_fixture() {
    config.add_message_types<caf::id_block::callbridge>();
    cb::tune_scheduler(config);
    system.emplace(config);
  }
  ~clock_fixture() { system.reset(); }
  clock_fixture(const clock_fixture&) = delete;
  clock_fixture& operator=(const clock_fixture&) = delete;

  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
};

}  // namespace

namespace {

// Runs `playouts` stand-ins on a clock with the given slot period for 300 ms; returns the phases
// (first deadline relative to the first stand-in's, modulo 20 ms) after checking every stand-in was
// ticked exactly 20 ms apart.
std::set<std::int64_t> run_clock(std::size_t playouts, std::chrono::microseconds slot_period) {
  clock_fixture f;
  tick_log log;
  log.dues.resize(playouts);
  auto clock = f.system->spawn(cb::playout_clock, slot_period);
  std::vector<cb::playout_actor> members;
  for (std::size_t i = 0; i < playouts; ++i) {
    members.push_back(f.system->spawn(stand_in, &log, i));
    caf::anon_send(clock, cb::atom::subscribe_v, members.back());
  }
  std::this_thread::sleep_for(300ms);
  for (auto& member : members)
    caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(clock, caf::exit_reason::user_shutdown);
  f.system->await_all_actors_done();

  std::set<std::int64_t> phases;
  std::int64_t origin = 0;
  for (const auto& dues : log.dues) {
    // About 15 ticks in 300 ms; the margin is for a loaded machine, the spacing is exact.
    REQUIRE(dues.size() >= 5);
    for (std::size_t i = 1; i < dues.size(); ++i) {
      CHECK(dues[i] - dues[i - 1] == 20'000'000);
    }
    if (origin == 0) origin = dues.front();
    phases.insert(((dues.front() - origin) % 20'000'000 + 20'000'000) % 20'000'000);
  }
  return phases;
}

}  // namespace

TEST_CASE("the playout clock ticks each playout every 20 ms, calls spread over the slots") {
  // 40 playouts over 20 one-millisecond slots: two in each.
  const auto phases = run_clock(40, 1000us);
  CHECK(phases.size() == 20);
  for (const auto phase : phases)
    CHECK(phase % 1'000'000 == 0);
}

TEST_CASE("the playout clock's slot period divides the frame period") {
  const auto phases = run_clock(20, 2000us);
  CHECK(phases.size() == 10);
  for (const auto phase : phases)
    CHECK(phase % 2'000'000 == 0);
  // 3 ms does not divide 20 ms: the clock keeps its 1 ms slots.
  CHECK(run_clock(20, 3000us).size() == 20);
}

TEST_CASE("a playout that goes down leaves the clock and the others ticking") {
  clock_fixture f;
  tick_log log;
  log.dues.resize(2);
  auto clock = f.system->spawn(cb::playout_clock, 1000us);
  auto leaving = f.system->spawn(stand_in, &log, 0);
  auto staying = f.system->spawn(stand_in, &log, 1);
  caf::anon_send(clock, cb::atom::subscribe_v, leaving);
  caf::anon_send(clock, cb::atom::subscribe_v, staying);
  std::this_thread::sleep_for(100ms);
  caf::anon_send_exit(leaving, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(50ms);
  std::size_t staying_before = 0;
  {
    const std::lock_guard<std::mutex> lock(log.mutex);
    staying_before = log.dues[1].size();
  }
  std::this_thread::sleep_for(150ms);
  caf::anon_send_exit(staying, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(clock, caf::exit_reason::user_shutdown);
  f.system->await_all_actors_done();
  CHECK(log.dues[1].size() > staying_before + 2);
  CHECK(log.dues[0].size() >= 2);
}
