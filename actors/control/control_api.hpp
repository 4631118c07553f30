// CONTROL API: the HTTP + WebSocket API (docs/api.md) in front of the bridge's services. The
// libwebsockets server (http_server) runs in its own thread and hands every request and WebSocket
// message to this actor; the actor checks the token, asks the registry, the AMI client or the call
// store, and answers through the server's queue. It also receives every call's events
// (call_update_sink_actor) and publishes them, and a metrics snapshot each second, to the
// WebSocket clients that subscribed.
#pragma once

#include <caf/actor_system.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/actors.hpp"
#include "actors/config.hpp"
#include "actors/control/http_server.hpp"
#include "codecs/expected.hpp"

namespace cb {

// A dashboard file served at `path` ("/index.html", "/app.js") without a token; "/" serves
// "/index.html".
struct static_asset {
  std::string path;
  std::string content_type;
  std::string body;
};

// What the API fronts. Every handle may be invalid except the registry's: an invalid AMI client
// means "AMI disabled", an invalid store "no history", an invalid allocator "no legacy pool". The
// functions are called on the actor's thread and must be thread-safe and quick.
struct control_api_handles {
  call_registry_actor registry;
  port_allocator_actor ports;
  ami_client_actor ami;
  call_store_actor store;
  // GET /metrics: the Prometheus text exposition; empty function: /metrics answers 404.
  std::function<std::string()> prometheus_text;
  // The metrics stream: one JSON object each second; empty function: no metrics stream.
  std::function<std::string()> metrics_snapshot;
  // The AudioSocket ports listening now (readiness); empty function: not checked.
  std::function<std::vector<std::uint16_t>()> audiosocket_ports;
  std::vector<static_asset> assets;
};

using control_api_actor = call_update_sink_actor::extend<
    caf::reacts_to<control::http_request>, caf::reacts_to<control::ws_connected>,
    caf::reacts_to<control::ws_received>, caf::reacts_to<control::ws_disconnected>,
    // the metrics stream's clock
    caf::reacts_to<atom::tick>,
    // a WebSocket connection that has not authenticated in time is closed
    caf::reacts_to<atom::timeout, std::uint64_t>>;

// How long a WebSocket client may stay connected without authenticating (when a token is set).
inline constexpr std::chrono::seconds ws_auth_timeout{5};

struct control_api_state {
  control_api_state() = default;
  control_api_state(const control_api_state&) = delete;
  control_api_state& operator=(const control_api_state&) = delete;
  ~control_api_state();  // stops the server: the actor owns it

  struct client {
    bool authenticated = false;
    bool refused = false;  // told why and being closed: its later messages are ignored
    control::subscription sub;
    std::string peer;
  };

  std::shared_ptr<const settings> config;
  control_api_handles handles;
  std::shared_ptr<control::http_server> server;
  std::unordered_map<std::uint64_t, client> clients;  // WebSocket connections
  std::chrono::steady_clock::time_point started;

  static inline const char* name = "control_api";
};

// `server` must not be started yet: start_control_api starts it with this actor as its owner.
control_api_actor::behavior_type control_api(
    control_api_actor::stateful_pointer<control_api_state> self,
    std::shared_ptr<const settings> config, control_api_handles handles,
    std::shared_ptr<control::http_server> server);

struct running_control_api {
  control_api_actor actor;
  std::uint16_t port = 0;  // as bound (API_PORT 0 binds an ephemeral port)
  bool tls = false;
};

// Binds API_BIND:API_PORT (HTTPS/WSS when API_TLS_CERT and API_TLS_KEY are set) and spawns the
// actor, which owns the server from then on. Nothing is left running on failure. The actor holds
// itself alive through its server: stop it with an exit message (its server stops with it).
[[nodiscard]] expected<running_control_api, std::string> start_control_api(
    caf::actor_system& system, std::shared_ptr<const settings> config, control_api_handles handles);

}  // namespace cb
