#include "actors/port_allocator.hpp"

#include <algorithm>

#include "actors/log.hpp"
#include "actors/metrics/service_metrics.hpp"

namespace cb {

namespace {

void publish_pool(const port_allocator_state& st) {
  metrics::service_metrics::process().port_pool(static_cast<std::uint32_t>(st.leases.size()),
                                                st.total);
}

void give_back(port_allocator_state& st, std::uint16_t port) {
  st.leases.erase(port);
  auto pos = std::lower_bound(st.free_ports.begin(), st.free_ports.end(), port,
                              [](std::uint16_t a, std::uint16_t b) { return a > b; });
  if (pos == st.free_ports.end() || *pos != port) st.free_ports.insert(pos, port);
  publish_pool(st);
}

}  // namespace

port_allocator_actor::behavior_type port_allocator(
    metrics::instrumented_pointer<port_allocator_actor, port_allocator_state> self,
    std::uint16_t first, std::uint16_t last, std::chrono::milliseconds connect_timeout) {
  auto& st = self->state;
  st.connect_timeout = connect_timeout;
  if (first != 0 && first <= last) {
    for (std::uint32_t p = last; p >= first; --p)
      st.free_ports.push_back(static_cast<std::uint16_t>(p));
  }
  st.total = static_cast<std::uint32_t>(st.free_ports.size());
  publish_pool(st);
  // A claimed lease ends with its call, however the call ends.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    for (auto it = s.leases.begin(); it != s.leases.end(); ++it) {
      if (it->second.call == dm.source) {
        log::debug("port_allocator", it->second.owner_uuid, "port {} released: call ended",
                   it->first);
        give_back(s, it->first);
        return;
      }
    }
  });
  return {
      [self](atom::allocate, const std::string& owner) -> caf::result<std::uint16_t> {
        auto& s = self->state;
        if (s.free_ports.empty()) {
          log::warn("port_allocator", owner, "port pool exhausted ({} ports, all leased)", s.total);
          return make_error(bridge_errc::pool_exhausted, "all " + std::to_string(s.total) +
                                                             " AudioSocket pool ports are in use");
        }
        const auto port = s.free_ports.back();
        s.free_ports.pop_back();
        const auto generation = s.next_generation++;
        s.leases[port] = {owner, generation, {}};
        publish_pool(s);
        self->delayed_send(self, s.connect_timeout, atom::expire_v, port, generation);
        log::debug("port_allocator", owner, "port {} leased", port);
        return port;
      },
      [self](atom::claim, std::uint16_t port, const std::string& owner, const caf::actor& call) {
        auto& s = self->state;
        auto it = s.leases.find(port);
        if (it == s.leases.end() || it->second.owner_uuid != owner) return;
        it->second.call = call.address();
        self->monitor(call);
      },
      [self](atom::release, std::uint16_t port, const std::string& owner) {
        auto& s = self->state;
        auto it = s.leases.find(port);
        if (it != s.leases.end() && it->second.owner_uuid == owner) give_back(s, port);
      },
      [self](atom::expire, std::uint16_t port, std::uint64_t generation) {
        auto& s = self->state;
        auto it = s.leases.find(port);
        if (it == s.leases.end() || it->second.generation != generation || it->second.call) return;
        log::warn("port_allocator", it->second.owner_uuid,
                  "port {} released: Asterisk did not connect within {} ms", port,
                  s.connect_timeout.count());
        give_back(s, port);
      },
      [self](atom::stats) {
        auto& s = self->state;
        return caf::make_result(static_cast<std::uint32_t>(s.leases.size()), s.total);
      },
  };
}

}  // namespace cb
