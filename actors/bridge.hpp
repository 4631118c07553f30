// The running bridge: the ws_client thread, the port allocator, the call registry and one
// AudioSocket listener per port (the shared port and each legacy pool port). Used by the server
// executable, the integration tests and the benchmarks alike.
#pragma once

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/config.hpp"
#include "actors/ws_client.hpp"

#include <caf/actor_system_config.hpp>

namespace cb {

// CAF 0.17's work-stealing workers poll an empty queue 500 times, 50 us apart, before they
// sleep; with calls ticking every 20 ms that keeps idle workers spinning. Fewer, longer polls
// halved the server's CPU at 20 calls (25% -> 13% of a core) and lowered pacing jitter at 100
// calls (bench_calls, same run). Call before creating the actor system.
void tune_scheduler(caf::actor_system_config& config);

class bridge {
 public:
  bridge(caf::actor_system& system, std::shared_ptr<const settings> config,
         const ws_client_options& ws_options = {});
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;
  ~bridge();

  // Binds every listener; on failure returns why (and leaves nothing running).
  [[nodiscard]] std::optional<std::string> start();
  // Stops accepting, ends every live call (hangup to Asterisk, 1000 to the agent), waits up to
  // `grace` for the calls to go, then stops the WebSocket thread.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The shared port as bound (useful when configured as 0 = ephemeral in tests).
  [[nodiscard]] std::uint16_t shared_port() const { return shared_port_; }
  [[nodiscard]] const std::vector<std::uint16_t>& pool_ports() const { return pool_ports_; }
  [[nodiscard]] call_registry_actor registry() const { return registry_; }
  [[nodiscard]] port_allocator_actor ports() const { return ports_; }
  // Always valid: without ASTERISK_HOST it answers every request with ami_disabled.
  [[nodiscard]] ami_client_actor ami() const { return ami_; }
  // Invalid when DB_URL is none.
  [[nodiscard]] call_store_actor store() const { return store_; }
  // The control API's port as bound, 0 when it is off.
  [[nodiscard]] std::uint16_t api_port() const { return api_port_; }
  [[nodiscard]] const settings& config() const { return *config_; }
  // Each agent WebSocket thread's figures, in the order calls are handed to them.
  [[nodiscard]] std::vector<ws_client::stats> ws_snapshots() const;

 private:
  caf::actor_system& system_;
  std::shared_ptr<const settings> config_;
  std::vector<std::shared_ptr<ws_client>> ws_;  // ws_thread_count(config) of them
  port_allocator_actor ports_;
  ami_client_actor ami_;
  call_store_actor store_;
  call_registry_actor registry_;
  playout_clock_actor clock_;
  std::vector<caf::actor> listeners_;
  caf::actor api_;
  std::uint16_t api_port_ = 0;
  std::uint16_t shared_port_ = 0;
  std::vector<std::uint16_t> pool_ports_;
  bool running_ = false;
};

}  // namespace cb
