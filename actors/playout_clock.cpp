#include "actors/playout_clock.hpp"

#include <algorithm>

namespace cb {

namespace {

using clock_ptr = metrics::instrumented_pointer<playout_clock_actor, playout_clock_state>;
using std::chrono::steady_clock;
constexpr auto frame_period = std::chrono::microseconds(20000);
// A stall longer than this (the process was descheduled) skips the missed slots rather than tick
// every playout several times in a burst; the playouts count those frames late.
constexpr auto max_catch_up = std::chrono::milliseconds(40);

std::int64_t to_ns(steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::size_t least_used_slot(const playout_clock_state& st) {
  const auto it =
      std::min_element(st.slots.begin(), st.slots.end(),
                       [](const auto& a, const auto& b) { return a.size() < b.size(); });
  return static_cast<std::size_t>(it - st.slots.begin());
}

void fire(clock_ptr self, std::size_t slot, steady_clock::time_point due) {
  const auto due_ns = to_ns(due);
  for (const auto& playout : self->state.slots[slot])
    self->send(playout, atom::tick_v, due_ns);
}

// The clock runs only while a playout is subscribed: an idle bridge takes no wake-ups.
void start_ticking(clock_ptr self) {
  auto& st = self->state;
  st.running = true;
  st.next_at = steady_clock::now() + st.slot_period;
  self->scheduled_send(self, st.next_at, atom::tick_v);
}

}  // namespace

playout_clock_actor::behavior_type playout_clock(clock_ptr self,
                                                 std::chrono::microseconds slot_period) {
  auto& st = self->state;
  st.slot_period = std::clamp(slot_period, std::chrono::microseconds(100), frame_period);
  if (frame_period % st.slot_period != std::chrono::microseconds(0)) {
    st.slot_period = std::chrono::microseconds(1000);
  }
  st.slots.resize(static_cast<std::size_t>(frame_period / st.slot_period));
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& s = self->state;
    const auto it = s.slot_of.find(msg.source);
    if (it == s.slot_of.end()) return;
    auto& members = s.slots[it->second];
    members.erase(std::remove_if(members.begin(), members.end(),
                                 [&](const playout_actor& p) { return p.address() == msg.source; }),
                  members.end());
    s.slot_of.erase(it);
  });
  return {
      [self](atom::subscribe, const playout_actor& playout) {
        auto& s = self->state;
        if (!playout || s.slot_of.count(playout.address()) != 0) return;
        const auto slot = least_used_slot(s);
        s.slots[slot].push_back(playout);
        s.slot_of.emplace(playout.address(), slot);
        self->monitor(playout);
        if (!s.running) start_ticking(self);
      },
      [self](atom::tick) {
        auto& s = self->state;
        const auto now = steady_clock::now();
        if (now - s.next_at > max_catch_up) {
          const auto missed = static_cast<std::size_t>((now - s.next_at) / s.slot_period);
          s.next_slot = (s.next_slot + missed) % s.slots.size();
          s.next_at += missed * s.slot_period;
        }
        while (s.next_at <= now) {
          fire(self, s.next_slot, s.next_at);
          s.next_slot = (s.next_slot + 1) % s.slots.size();
          s.next_at += s.slot_period;
        }
        if (s.slot_of.empty()) {
          s.running = false;
          return;
        }
        self->scheduled_send(self, s.next_at, atom::tick_v);
      },
  };
}

}  // namespace cb
