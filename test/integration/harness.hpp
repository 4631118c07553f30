// A bridge between a call simulator and a fake agent, all in this process, on loopback.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/bridge.hpp"
#include "actors/config.hpp"
#include "apps/callsim/callsim.hpp"
#include "apps/fake_ami/fake_ami.hpp"
#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"

namespace cb::test {

// Sanitized builds run several times slower on a shared machine, so their frame timing measures
// the machine rather than the bridge: pacing is asserted in plain builds only (the sanitized run
// is there for memory and UB errors).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool pacing_asserted = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool pacing_asserted = false;
#else
inline constexpr bool pacing_asserted = true;
#endif
#else
inline constexpr bool pacing_asserted = true;
#endif

struct harness_options {
  std::string agent_api_key;  // the fake agent's key; the bridge uses the same one
  std::chrono::milliseconds metadata_timeout{3000};
  std::uint16_t pool_first = 0;  // legacy pool, 0: none
  std::uint16_t pool_last = 0;
  std::chrono::milliseconds prepared_call_timeout{30000};
  std::vector<port_binding> port_bindings;
  // Agents the fake serves beyond the agent-id convention (scripted tools...).
  std::vector<fake_elevenlabs::agent_profile> agents;
  // Start a fake AMI server and point the bridge at it (user "bridge", this secret).
  bool ami = false;
  std::string ami_secret = "ami-secret-for-tests";
  // false: the logger is not told the secrets, so a test can see whether any reaches a log line.
  bool redact_secrets = true;
  // Last changes to the bridge's settings before it starts.
  std::function<void(settings&)> configure;
};

class harness {
 public:
  explicit harness(harness_options options = {});
  ~harness();

  // A call to the bridge's shared port with the agent `agent_id` as the default agent.
  callsim::call_spec call(double tone_hz, std::chrono::milliseconds duration) const;
  [[nodiscard]] std::uint16_t shared_port() const { return bridge_->shared_port(); }

  fake_elevenlabs::server agent;
  fake_ami::server ami;  // started only with harness_options::ami
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
