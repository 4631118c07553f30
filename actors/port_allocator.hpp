// PORT ALLOCATOR: leases the legacy per-call AudioSocket ports (AUDIOSOCKET_PORT_MIN..MAX).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/metrics/actor_metrics.hpp"

namespace cb {

struct port_allocator_state {
  struct lease {
    std::string owner_uuid;
    std::uint64_t generation = 0;
    caf::actor_addr call;  // set once Asterisk connected and a call claimed the port
  };
  std::vector<std::uint16_t> free_ports;  // kept sorted descending; back() is the lowest
  std::map<std::uint16_t, lease> leases;
  std::uint32_t total = 0;
  std::uint64_t next_generation = 1;
  std::chrono::milliseconds connect_timeout{30000};

  static inline const char* name = "port_allocator";
};

// Leases ports in [first, last]; an unclaimed lease expires after connect_timeout.
port_allocator_actor::behavior_type port_allocator(
    metrics::instrumented_pointer<port_allocator_actor, port_allocator_state> self,
    std::uint16_t first, std::uint16_t last, std::chrono::milliseconds connect_timeout);

}  // namespace cb
