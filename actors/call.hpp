// CALL: supervises one call's actor tree and owns its lifecycle. It links the AudioSocket
// connection and its children and traps their exits, so any child's failure ends this call (and
// only this call) with a recorded reason; the registry and the port allocator monitor it, so a
// crashed call still frees its entry and its port. Every ending closes both sockets at once.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "actors/actors.hpp"
#include "actors/ami_messages.hpp"
#include "actors/config.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "actors/metrics/call_metrics.hpp"
#include "actors/ws_client.hpp"

namespace cb {

// The services a call uses besides its own tree; any handle may be invalid (not configured).
struct call_services {
  ami_client_actor ami;
  call_store_actor store;
  call_update_sink_actor sink;
  playout_clock_actor clock;
};

// A transfer_call tool waiting for the agent's last words to play out before the Redirect.
struct pending_tool_transfer {
  std::string tool_call_id;
  transfer_request request;
};

struct call_state {
  call_state() = default;
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;
  // Counts the call as ended, once: also when the actor dies without ending (an exception in a
  // handler), then as a bridge error.
  ~call_state();

  std::shared_ptr<const settings> config;
  std::string uuid;
  call_context context;
  caf::actor connection;
  transcoder_actor transcoder;
  elevenlabs_session_actor session;
  playout_actor playout;
  ami_watcher_actor watcher;  // invalid without AMI
  call_services services;
  call_summary summary;
  std::optional<pending_tool_transfer> tool_transfer;
  std::string dynamic_variables_json;
  std::chrono::steady_clock::time_point answered;
  std::optional<call_end> ending;                  // the first reason recorded wins
  std::deque<call_event> events;                   // recent transcript and tool events, bounded
  std::shared_ptr<metrics::call_metrics> metrics;  // shared with the children that record
  bool counted = false;  // in the service metrics' live calls (the tree is up)

  static inline const char* name = "call";
};

call_actor::behavior_type call(metrics::instrumented_pointer<call_actor, call_state> self,
                               std::shared_ptr<const settings> config,
                               std::shared_ptr<ws_client> ws, std::string uuid,
                               call_context context, std::uint16_t listen_port,
                               caf::actor connection, audiosocket_writer_ptr writer,
                               call_services services);

}  // namespace cb
