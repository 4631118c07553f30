// CALL REGISTRY: the live calls, and the contexts prepared for UUIDs Asterisk has not connected
// yet (agent id, dynamic variables, overrides, a leased pool port). It spawns each call's tree
// when the call's AudioSocket connection names its UUID, and monitors it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "actors/actors.hpp"
#include "actors/call.hpp"
#include "actors/config.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "actors/ws_client.hpp"

namespace cb {

struct call_registry_state {
  call_registry_state() = default;
  struct live_entry {
    call_actor call;
    call_context context;
    std::uint16_t listen_port = 0;
  };
  std::shared_ptr<const settings> config;
  std::vector<std::shared_ptr<ws_client>> ws;  // never empty; calls take them in turn
  std::size_t next_ws = 0;
  port_allocator_actor ports;
  call_services services;
  std::uint16_t shared_port = 0;  // as bound
  std::map<std::string, call_context> prepared;
  std::map<std::string, live_entry> live;
  std::map<caf::actor_addr, std::string> uuid_of;
  std::mt19937_64 rng{std::random_device{}()};

  static inline const char* name = "call_registry";
};

call_registry_actor::behavior_type call_registry(
    metrics::instrumented_pointer<call_registry_actor, call_registry_state> self,
    std::shared_ptr<const settings> config, std::vector<std::shared_ptr<ws_client>> ws,
    port_allocator_actor ports, call_services services);

// The channel variables a dialplan needs to connect a prepared call: the UUID variable
// (AMI_UUID_VARIABLE), AUDIOSOCKET_ADDRESS (host:port), AUDIOSOCKET_HOST and AUDIOSOCKET_PORT.
std::vector<std::pair<std::string, std::string>> audiosocket_variables(const settings& config,
                                                                       const prepared_call& call);

// A random RFC 4122 version 4 UUID in text form.
std::string random_uuid(std::mt19937_64& rng);

}  // namespace cb
