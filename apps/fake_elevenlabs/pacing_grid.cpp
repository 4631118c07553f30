#include "apps/fake_elevenlabs/pacing_grid.hpp"

#include <algorithm>
#include <utility>

namespace cb::fake_elevenlabs {

std::int64_t grid_deadline_us(std::int64_t now_us, std::int64_t delay_us, std::int64_t grid_us) {
  const std::int64_t due = now_us + std::max<std::int64_t>(delay_us, 0);
  if (grid_us <= 0) return due;
  const std::int64_t past = due % grid_us;
  if (past == 0) return due;
  // % keeps the dividend's sign: a negative time is already rounded up by subtracting.
  return past > 0 ? due - past + grid_us : due - past;
}

std::int64_t grid_timers::schedule(grid_timer_target& target, std::int64_t now_us,
                                   std::int64_t delay_us) {
  cancel(target);
  const std::int64_t deadline = grid_deadline_us(now_us, delay_us, grid_us_);
  due_[deadline].push_back(&target);
  deadline_of_.emplace(&target, deadline);
  return deadline;
}

void grid_timers::cancel(grid_timer_target& target) {
  const auto it = deadline_of_.find(&target);
  if (it == deadline_of_.end()) return;
  const auto slot = due_.find(it->second);
  deadline_of_.erase(it);
  // Absent when the slot is firing right now: fire_due() skips targets without a deadline.
  if (slot == due_.end()) return;
  auto& targets = slot->second;
  targets.erase(std::remove(targets.begin(), targets.end(), &target), targets.end());
  if (targets.empty()) due_.erase(slot);
}

std::optional<std::int64_t> grid_timers::next_deadline_us() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

std::size_t grid_timers::fire_due(std::int64_t now_us) {
  std::size_t fired = 0;
  while (!due_.empty() && due_.begin()->first <= now_us) {
    auto slot = due_.extract(due_.begin());
    for (grid_timer_target* target : slot.mapped()) {
      const auto it = deadline_of_.find(target);
      // Cancelled, or moved to another deadline, by an earlier callback of this slot.
      if (it == deadline_of_.end() || it->second != slot.key()) continue;
      deadline_of_.erase(it);
      ++fired;
      target->grid_timer_fired();
    }
  }
  return fired;
}

void lws_grid_timers::schedule(grid_timer_target& target, std::chrono::microseconds delay) {
  timers_.schedule(target, lws_now_usecs(), delay.count());
  rearm();
}

void lws_grid_timers::cancel(grid_timer_target& target) {
  timers_.cancel(target);
  rearm();
}

void lws_grid_timers::stop() {
  stopped_ = true;
  lws_sul_cancel(&slot_.sul);
  armed_for_us_ = 0;
}

void lws_grid_timers::on_timer(lws_sorted_usec_list_t* sul) {
  // The sul is the first member of a standard-layout timer_slot.
  auto* self = reinterpret_cast<timer_slot*>(sul)->owner;  // NOLINT(*-reinterpret-cast)
  self->armed_for_us_ = 0;
  self->timers_.fire_due(lws_now_usecs());
  self->rearm();
}

void lws_grid_timers::rearm() {
  if (stopped_) return;
  const auto next = timers_.next_deadline_us();
  if (!next) {
    if (armed_for_us_ != 0) lws_sul_cancel(&slot_.sul);
    armed_for_us_ = 0;
    return;
  }
  if (*next == armed_for_us_) return;
  // lws adds the delay to its own reading of the clock, taken a moment after this one: the timer
  // fires at the deadline or a microsecond after, never before.
  lws_sul_schedule(context_, 0, &slot_.sul, &lws_grid_timers::on_timer,
                   std::max<lws_usec_t>(*next - lws_now_usecs(), 1));
  armed_for_us_ = *next;
}

}  // namespace cb::fake_elevenlabs
