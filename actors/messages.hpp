// Value types that travel between the actors of a call tree. Every one has a CAF 0.17 inspect so it
// can be registered in the type-ID block (actors/types.hpp) and printed in diagnostics.
#pragma once

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cb {

// One caller frame as Asterisk sent it: 16-bit LE samples at rate_hz, and when it arrived
// (CLOCK_MONOTONIC ns) so uplink latency can be measured.
struct caller_audio {
  std::vector<std::uint8_t> pcm_le;
  std::int32_t rate_hz = 8000;
  std::int64_t received_ns = 0;
};

// Caller audio encoded in the agent's user_input_audio_format, ready for one user_audio_chunk.
struct agent_uplink {
  std::vector<std::uint8_t> bytes;
  std::int64_t received_ns = 0;
};

// Agent audio as the agent sent it (agent_output_audio_format), tagged with its turn.
struct agent_audio {
  std::vector<std::uint8_t> bytes;
  std::int64_t event_id = 0;
  std::int64_t received_ns = 0;
};

// Agent audio decoded and resampled to the caller's rate, queued for playout.
struct playout_chunk {
  std::vector<std::int16_t> samples;
  std::int64_t event_id = 0;
  std::int64_t received_ns = 0;
  std::int32_t rate_hz = 8000;  // the caller rate the transcoder resampled to
};

// Why a call ended; the first reason recorded wins.
enum class end_reason : std::uint8_t {
  caller_hung_up,
  agent_ended,
  transferred,
  operator_ended,
  agent_failed,    // ElevenLabs refused, errored, stalled or closed abnormally
  protocol_error,  // malformed AudioSocket input
  bridge_error,    // a child actor failed
  shutdown,
};

struct call_end {
  end_reason reason = end_reason::bridge_error;
  std::string detail;
};

// Something worth showing an operator: transcripts, agent responses, tool calls, state changes.
struct call_event {
  std::string kind;  // "user_transcript", "agent_response", "interruption", "tool_call", ...
  std::string text;
  std::int64_t event_id = 0;
};

// A client tool the bridge carries out for the agent (transfer_call, send_dtmf): the session hands
// it to its call, which answers with atom::tool_result.
struct client_tool_request {
  std::string tool_call_id;
  std::string name;
  std::string parameters_json;
  std::int64_t event_id = 0;
};

// A call's event as published to the control API's streams and the call store.
struct call_update {
  std::string uuid;
  call_event event;
  std::int64_t unix_ms = 0;
};

// The agent's level as the caller hears it, which the playout reports to its call about once a
// second for the live views. (Frame counts live in the call's metrics.)
struct playout_report {
  double agent_level_dbfs = -120.0;
};

// The caller's level, which the transcoder reports to its call about once a second.
struct uplink_report {
  double caller_level_dbfs = -120.0;
};

const char* to_string(end_reason r);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, caller_audio& x) {
  return f(caf::meta::type_name("caller_audio"), x.pcm_le, x.rate_hz, x.received_ns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_uplink& x) {
  return f(caf::meta::type_name("agent_uplink"), x.bytes, x.received_ns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_audio& x) {
  return f(caf::meta::type_name("agent_audio"), x.bytes, x.event_id, x.received_ns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, playout_chunk& x) {
  return f(caf::meta::type_name("playout_chunk"), x.samples, x.event_id, x.received_ns, x.rate_hz);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_end& x) {
  auto raw = static_cast<std::uint8_t>(x.reason);
  return f(caf::meta::type_name("call_end"), raw, x.detail, caf::meta::load_callback([&x, &raw] {
             x.reason = static_cast<end_reason>(raw);
             return caf::error{};
           }));
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, playout_report& x) {
  return f(caf::meta::type_name("playout_report"), x.agent_level_dbfs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, uplink_report& x) {
  return f(caf::meta::type_name("uplink_report"), x.caller_level_dbfs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_event& x) {
  return f(caf::meta::type_name("call_event"), x.kind, x.text, x.event_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_tool_request& x) {
  return f(caf::meta::type_name("client_tool_request"), x.tool_call_id, x.name, x.parameters_json,
           x.event_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_update& x) {
  return f(caf::meta::type_name("call_update"), x.uuid, x.event, x.unix_ms);
}

}  // namespace cb
