// The agent's audio is paced by one timer per conversation, each firing every chunk (50 times a
// second at 20 ms chunks). Left at their exact deadlines, a thousand conversations wake lws's
// service loop tens of thousands of times a second, and every wake-up polls every socket. Rounded
// up to a grid of the monotonic clock, the deadlines of one grid step fall due together: one
// wake-up serves them all, its writes leave in one pass, and the loop's batching pause engages.
// Rounding delays a chunk by less than one grid step.
#pragma once

#include <libwebsockets.h>
#include <lws_config.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace cb::fake_elevenlabs {

// now_us + delay_us rounded up to the next multiple of grid_us (a time already on the grid stays);
// not rounded when grid_us is 0 or less.
[[nodiscard]] std::int64_t grid_deadline_us(std::int64_t now_us, std::int64_t delay_us,
                                            std::int64_t grid_us);

class grid_timer_target {
 public:
  virtual void grid_timer_fired() = 0;

 protected:
  grid_timer_target() = default;
  grid_timer_target(const grid_timer_target&) = default;
  grid_timer_target& operator=(const grid_timer_target&) = default;
  grid_timer_target(grid_timer_target&&) = default;
  grid_timer_target& operator=(grid_timer_target&&) = default;
  ~grid_timer_target() = default;
};

// One-shot timers on a grid, at most one pending per target; single-threaded. A target must be
// cancelled before it is destroyed.
class grid_timers {
 public:
  explicit grid_timers(std::chrono::microseconds grid) : grid_us_(grid.count()) {}

  // Schedules target (replacing its pending deadline) at now_us + delay_us rounded up to the grid;
  // returns that deadline.
  std::int64_t schedule(grid_timer_target& target, std::int64_t now_us, std::int64_t delay_us);
  void cancel(grid_timer_target& target);
  [[nodiscard]] std::optional<std::int64_t> next_deadline_us() const;
  // Fires every target due at now_us or earlier, earliest deadline first, including targets that
  // a callback scheduled for then; returns how many fired.
  std::size_t fire_due(std::int64_t now_us);
  [[nodiscard]] std::size_t pending() const { return deadline_of_.size(); }

 private:
  std::int64_t grid_us_;
  std::map<std::int64_t, std::vector<grid_timer_target*>> due_;
  std::unordered_map<grid_timer_target*, std::int64_t> deadline_of_;
};

// grid_timers on an lws service loop (lws_now_usecs(), CLOCK_MONOTONIC): one lws timer, armed for
// the earliest deadline. Used on the service thread only.
class lws_grid_timers {
 public:
  lws_grid_timers(lws_context* context, std::chrono::microseconds grid)
      : context_(context), timers_(grid) {}
  ~lws_grid_timers() = default;
  lws_grid_timers(const lws_grid_timers&) = delete;
  lws_grid_timers& operator=(const lws_grid_timers&) = delete;
  lws_grid_timers(lws_grid_timers&&) = delete;
  lws_grid_timers& operator=(lws_grid_timers&&) = delete;

  void schedule(grid_timer_target& target, std::chrono::microseconds delay);
  void cancel(grid_timer_target& target);
  // Cancels the lws timer for good; call before the context is destroyed.
  void stop();

 private:
  static void on_timer(lws_sorted_usec_list_t* sul);
  void rearm();

  // The sul must stay the first member: the callback gets its address back.
  struct timer_slot {
    lws_sorted_usec_list_t sul{};
    lws_grid_timers* owner = nullptr;
  };

  timer_slot slot_{{}, this};
  lws_context* context_;
  grid_timers timers_;
  std::int64_t armed_for_us_ = 0;  // the deadline the lws timer is armed for; 0: not armed
  bool stopped_ = false;
};

}  // namespace cb::fake_elevenlabs
