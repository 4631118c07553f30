// A bridge between a call simulator and a fake agent, all in this process, on loopback.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "actors/bridge.hpp"
#include "actors/config.hpp"
#include "apps/callsim/callsim.hpp"
#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"

namespace cb::test {

struct harness_options {
  std::string agent_api_key;  // the fake agent's key; the bridge uses the same one
  std::chrono::milliseconds metadata_timeout{3000};
  std::uint16_t pool_first = 0;  // legacy pool, 0: none
  std::uint16_t pool_last = 0;
  std::chrono::milliseconds prepared_call_timeout{30000};
  std::vector<port_binding> port_bindings;
};

class harness {
 public:
  explicit harness(harness_options options = {});
  ~harness();

  // A call to the bridge's shared port with the agent `agent_id` as the default agent.
  callsim::call_spec call(double tone_hz, std::chrono::milliseconds duration) const;
  [[nodiscard]] std::uint16_t shared_port() const { return bridge_->shared_port(); }

  fake_elevenlabs::server agent;
  callsim::simulator sim;
  std::shared_ptr<settings> config;
  std::unique_ptr<caf::actor_system_config> caf_config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<bridge> bridge_;
};

// The conversation records of the fake agent once `count` of them are closed.
std::vector<fake_elevenlabs::conversation_record> closed_conversations(const harness& h,
                                                                       std::size_t count);

}  // namespace cb::test
