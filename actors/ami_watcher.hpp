// AMI WATCHER: the part of a call's tree that knows its Asterisk channel. It asks the AMI client to
// link the call's UUID to a channel, reads the configured channel variables for the agent, ends
// the call when the channel hangs up, and acts on the channel for the call: Hangup (cause 16) when
// the agent or an operator ends it, Redirect for transfers, PlayDTMF. AMI trouble never ends a
// call: without a link the call goes on with its AudioSocket alone.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "actors/actors.hpp"
#include "actors/config.hpp"
#include "actors/metrics/actor_metrics.hpp"

namespace cb {

struct ami_watcher_state {
  ami_watcher_state() = default;
  std::shared_ptr<const settings> config;
  std::string uuid;
  call_actor call;
  ami_client_actor ami;
  std::optional<ami_channel> channel;
  bool gone = false;
  bool reported = false;  // the call has had its ami_call_link
  std::uint64_t pending_variables = 0;
  ami_call_link link;

  static inline const char* name = "ami_watcher";
};

ami_watcher_actor::behavior_type ami_watcher(
    metrics::instrumented_pointer<ami_watcher_actor, ami_watcher_state> self,
    std::shared_ptr<const settings> config, std::string uuid, call_actor call,
    ami_client_actor ami);

// The variables a channel contributes to the conversation, before any Getvar: caller id and
// called number under their configured names (empty Asterisk values are left out).
elevenlabs::dynamic_variable_map channel_identity_variables(const settings& config,
                                                            const ami_channel& channel);

}  // namespace cb
