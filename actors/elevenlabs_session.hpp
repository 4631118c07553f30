// ELEVENLABS SESSION: one agent conversation over the shared ws_client thread. Opens the socket as
// soon as the call's UUID arrived (fetching a signed URL first when an API key is configured),
// sends conversation_initiation_client_data first, waits for the metadata, then streams caller
// audio up and agent events down. Answers every ping at once; gates stale agent audio after an
// interruption with the strict `event_id <` rule.
#pragma once

#include <memory>
#include <string>

#include "actors/actors.hpp"
#include "actors/config.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "actors/metrics/call_metrics.hpp"
#include "actors/metrics/service_metrics.hpp"
#include "actors/ws_client.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace cb {

struct elevenlabs_session_state {
  elevenlabs_session_state() = default;
  elevenlabs_session_state(const elevenlabs_session_state&) = delete;
  elevenlabs_session_state& operator=(const elevenlabs_session_state&) = delete;
  // However the session ends, the agent sees a close frame with 1000, never a bare TCP close.
  ~elevenlabs_session_state() {
    if (ws && conn != 0) ws->close(conn, 1000, "User ended conversation");
    if (open) metrics::service_metrics::process().elevenlabs_session_closed();
  }
  enum class phase : std::uint8_t { fetching_url, connecting, awaiting_metadata, ready, closed };

  std::shared_ptr<const settings> config;
  std::shared_ptr<ws_client> ws;
  std::string call_id;
  call_context context;
  call_actor call;
  std::shared_ptr<metrics::call_metrics> metrics;  // the call's, never null
  transcoder_actor transcoder;
  playout_actor playout;
  phase current = phase::fetching_url;
  bool open = false;  // the WebSocket handshake completed and the socket has not ended since
  std::uint64_t request = 0;  // signed-URL request id
  std::uint64_t conn = 0;     // WebSocket id, 0 when none
  std::int64_t gate_event_id = 0;
  std::string last_error;  // the agent's `error` event, reported with the close that follows
  std::string rx;          // reused in-place parse buffer
  std::string tx;          // reused serialization buffer
  elevenlabs::server_event event;
  std::uint64_t stale_chunks = 0;
  // AMI may still add the channel's variables: the initiation message waits for ami_call_link.
  bool awaiting_link = false;
  bool initiation_held = false;

  static inline const char* name = "elevenlabs_session";
};

elevenlabs_session_actor::behavior_type elevenlabs_session(
    metrics::instrumented_pointer<elevenlabs_session_actor, elevenlabs_session_state> self,
    std::shared_ptr<const settings> config, std::shared_ptr<ws_client> ws, std::string call_id,
    call_context context, call_actor call, std::shared_ptr<metrics::call_metrics> metrics,
    transcoder_actor transcoder, playout_actor playout, bool await_channel_link);

// The agent WebSocket URL for a public agent, from the configured REST base URL.
std::string agent_websocket_url(const settings& config, const std::string& agent_id);
// The signed-URL endpoint for a private agent.
std::string signed_url_endpoint(const settings& config, const std::string& agent_id);

}  // namespace cb
