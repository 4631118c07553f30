// The long-lived services' gauges and counters, set by the actors that own the facts: the AMI
// client (link state), the ElevenLabs sessions, the port allocator, the call registry. Each call
// is a relaxed atomic operation; the *_state and call_ended lookups by name lock briefly (they
// happen per state change and per call, never per frame).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/metrics/registry.hpp"

namespace cb::metrics {

class service_metrics {
 public:
  explicit service_metrics(registry& r);

  // The AMI link's state by name (to_string(ami_link_state): "disabled", "connecting",
  // "connected", "auth_failed", "disconnected"): that state's series becomes 1, the others 0.
  void ami_link_state(std::string_view state);
  // A successful AMI login (the link is up again).
  void ami_connected() noexcept { ami_connects_.inc(); }
  // A failed connect or login, or a lost link.
  void ami_failed() noexcept { ami_failures_.inc(); }

  // An agent WebSocket session opened (handshake done) / closed after being open.
  void elevenlabs_session_opened() noexcept {
    el_opened_.inc();
    el_open_.add(1);
  }
  void elevenlabs_session_closed() noexcept { el_open_.add(-1); }
  // A session that could not be opened (connect, TLS, handshake or signed-URL failure).
  void elevenlabs_session_failed() noexcept { el_failed_.inc(); }
  // Caller audio chunks dropped unsent: they waited too long to be written (overload, slow agent).
  void elevenlabs_audio_dropped() noexcept { el_audio_dropped_.inc(); }

  // The legacy port pool's leases and size.
  void port_pool(std::uint32_t leased, std::uint32_t total) noexcept {
    pool_leased_.set(leased);
    pool_size_.set(total);
  }

  // A call started (its actor tree is up).
  void call_started() noexcept {
    calls_started_.inc();
    calls_live_.add(1);
  }
  // A call ended for this reason (to_string(end_reason)); each reason is its own series.
  void call_ended(std::string_view reason);

  // The services' cells in registry::process().
  static service_metrics& process();

 private:
  gauge_family& ami_state_;
  std::mutex ami_mutex_;
  std::vector<std::pair<std::string, gauge*>> ami_states_;  // states seen, to zero the others
  striped_counter& ami_connects_;
  striped_counter& ami_failures_;
  gauge& el_open_;
  striped_counter& el_opened_;
  striped_counter& el_failed_;
  striped_counter& el_audio_dropped_;
  gauge& pool_leased_;
  gauge& pool_size_;
  gauge& calls_live_;
  striped_counter& calls_started_;
  counter_family& calls_ended_;
};

}  // namespace cb::metrics
