// PLAYOUT CLOCK: the 20 ms beat of every call's playout. One timer for the process, firing every
// millisecond, ticks the playouts of that millisecond's slot; each call sits in one of the 20 slots
// for its whole life, so its frames leave on a fixed phase against absolute deadlines, and the
// calls are spread evenly over the period. One timer per call (50,000 timer events a second at
// 1,000 calls) kept CAF's clock thread busy and woke it for every frame.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "actors/actors.hpp"
#include "actors/metrics/actor_metrics.hpp"

namespace cb {

struct playout_clock_state {
  std::chrono::microseconds slot_period{1000};
  std::vector<std::vector<playout_actor>> slots;  // one frame period's worth
  std::unordered_map<caf::actor_addr, std::size_t> slot_of;
  std::size_t next_slot = 0;
  std::chrono::steady_clock::time_point next_at;  // when next_slot is due
  bool running = false;                           // a tick is scheduled

  static inline const char* name = "playout_clock";
};

// Splits the 20 ms frame period into slots of slot_period (a divisor of 20 ms; 1 ms in the bridge).
playout_clock_actor::behavior_type playout_clock(
    metrics::instrumented_pointer<playout_clock_actor, playout_clock_state> self,
    std::chrono::microseconds slot_period);

}  // namespace cb
