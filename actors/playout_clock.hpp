// PLAYOUT CLOCK: the 20 ms beat of every call's playout. One timer for the process, firing every
// millisecond, ticks the playouts of that millisecond's slot; each call sits in one of 20 slots for
// its whole life, so its frames leave on a fixed phase against absolute deadlines, and the calls
// are spread evenly over the period. One timer per call (50,000 timer events a second at 1,000
// calls) kept CAF's clock thread busy and woke it for every frame.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "actors/actors.hpp"
#include "actors/metrics/actor_metrics.hpp"

namespace cb {

struct playout_clock_state {
  static constexpr std::size_t slot_count = 20;  // 1 ms apart: one 20 ms frame period
  std::array<std::vector<playout_actor>, slot_count> slots;
  std::unordered_map<caf::actor_addr, std::size_t> slot_of;
  std::size_t next_slot = 0;
  std::chrono::steady_clock::time_point next_at;  // when next_slot is due
  bool running = false;                           // a tick is scheduled

  static inline const char* name = "playout_clock";
};

playout_clock_actor::behavior_type playout_clock(
    metrics::instrumented_pointer<playout_clock_actor, playout_clock_state> self);

}  // namespace cb
