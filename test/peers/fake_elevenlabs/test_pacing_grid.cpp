// The pacing grid: deadlines rounded up to a common grid, and the timers that fire together.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "apps/fake_elevenlabs/pacing_grid.hpp"

namespace fe = cb::fake_elevenlabs;
using namespace std::chrono_literals;

namespace {

// Appends its name to a shared log when it fires, and runs an optional action.
struct logging_target final : fe::grid_timer_target {
  logging_target(std::string n, std::vector<std::string>& l) : name(std::move(n)), log(&l) {}
  void grid_timer_fired() override {
    log->push_back(name);
    if (then) then();
  }
  std::string name;
  std::vector<std::string>* log;
  std::function<void()> then;
};

}  // namespace

TEST_CASE("deadlines round up to the next grid boundary, and stay when already on one") {
  CHECK(fe::grid_deadline_us(1000, 0, 1000) == 1000);
  CHECK(fe::grid_deadline_us(1001, 0, 1000) == 2000);
  CHECK(fe::grid_deadline_us(1500, 20000, 1000) == 22000);
  CHECK(fe::grid_deadline_us(1999, 1, 1000) == 2000);
  CHECK(fe::grid_deadline_us(123'456'789, 19'750, 1000) == 123'477'000);
  CHECK(fe::grid_deadline_us(1500, 20000, 250) == 21500);
  CHECK(fe::grid_deadline_us(1501, 20000, 250) == 21750);
}

TEST_CASE("without a grid deadlines are exact, and a negative delay means now") {
  CHECK(fe::grid_deadline_us(1500, 20000, 0) == 21500);
  CHECK(fe::grid_deadline_us(1500, 20000, -5) == 21500);
  CHECK(fe::grid_deadline_us(1500, -300, 1000) == 2000);
  CHECK(fe::grid_deadline_us(-1500, 0, 1000) == -1000);
}

TEST_CASE("timers due within one grid step fire together, earliest step first") {
  std::vector<std::string> log;
  logging_target a("a", log);
  logging_target b("b", log);
  logging_target c("c", log);
  fe::grid_timers timers(1ms);
  CHECK(timers.schedule(c, 0, 1001) == 2000);
  CHECK(timers.schedule(a, 100, 250) == 1000);
  CHECK(timers.schedule(b, 900, 0) == 1000);
  CHECK(timers.pending() == 3);
  CHECK(timers.next_deadline_us() == 1000);

  CHECK(timers.fire_due(999) == 0);
  CHECK(timers.fire_due(1000) == 2);
  CHECK(log == std::vector<std::string>{"a", "b"});
  CHECK(timers.next_deadline_us() == 2000);
  CHECK(timers.fire_due(5000) == 1);
  CHECK(log.back() == "c");
  CHECK_FALSE(timers.next_deadline_us().has_value());
  CHECK(timers.pending() == 0);
}

TEST_CASE("scheduling again replaces the pending deadline, and cancel removes it") {
  std::vector<std::string> log;
  logging_target a("a", log);
  logging_target b("b", log);
  fe::grid_timers timers(1ms);
  timers.schedule(a, 0, 1000);
  timers.schedule(a, 0, 3000);
  timers.schedule(b, 0, 2000);
  timers.cancel(b);
  timers.cancel(b);
  CHECK(timers.pending() == 1);
  CHECK(timers.fire_due(2000) == 0);
  CHECK(timers.fire_due(3000) == 1);
  CHECK(log == std::vector<std::string>{"a"});
}

TEST_CASE("a callback may cancel a timer of its own step or schedule one that is due at once") {
  std::vector<std::string> log;
  logging_target a("a", log);
  logging_target b("b", log);
  logging_target c("c", log);
  fe::grid_timers timers(1ms);
  timers.schedule(a, 0, 1000);
  timers.schedule(b, 0, 1000);
  a.then = [&] {
    timers.cancel(b);
    timers.schedule(c, 1000, 0);
  };
  CHECK(timers.fire_due(1000) == 2);
  CHECK(log == std::vector<std::string>{"a", "c"});
  CHECK(timers.pending() == 0);
}
