// What a call runs with and what it reports. Local-only message types (they hold variants CAF 0.17
// cannot inspect), so they are marked unsafe for the wire and never leave the process.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace cb {

// Where a call's settings came from, for the logs and the API.
enum class context_source : std::uint8_t { prepared, port_binding, default_agent };
const char* to_string(context_source s);

struct call_context {
  std::string agent_id;
  elevenlabs::dynamic_variable_map dynamic_variables;
  std::optional<elevenlabs::json_object> overrides;  // conversation_config_override, as given
  context_source source = context_source::default_agent;
  std::uint16_t pool_port = 0;  // a leased legacy pool port, 0 for the shared port
};

// A call prepared ahead of Asterisk connecting: the dialplan must dial host:port with this uuid.
struct prepared_call {
  std::string uuid;
  std::string host;
  std::uint16_t port = 0;
};

enum class call_phase : std::uint8_t { connecting, active, ending };
const char* to_string(call_phase s);

struct call_summary {
  std::string uuid;
  std::string agent_id;
  std::string conversation_id;
  call_phase state = call_phase::connecting;
  context_source source = context_source::default_agent;
  std::uint16_t listen_port = 0;
  std::int64_t started_unix_ms = 0;
  std::int64_t duration_ms = 0;
  std::int64_t first_word_ms = -1;  // answer -> first agent audio played, -1 until then
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t underruns = 0;
  double caller_level_dbfs = -120.0;
  double agent_level_dbfs = -120.0;
  // From AMI, once the call's channel is known.
  std::string channel;
  std::string caller_id;
  std::string called_number;
  std::string transfer_target;  // context,exten,priority the caller was sent to
};

// One call in detail: its summary and its recent events (transcript turns, tool calls, DTMF).
struct call_detail {
  call_summary summary;
  std::vector<call_event> events;
};

// Where transfer_call (or the API) sends a caller. Empty context/exten: the TRANSFER_* templates,
// filled from `parameters` (the tool's parameters or the API body) and the channel's variables.
struct transfer_request {
  std::map<std::string, std::string> parameters;
  std::string context;
  std::string exten;
  std::string priority;
};

// An outbound AI call placed through AMI Originate.
struct originate_request {
  std::string number;   // fills ORIGINATE_CHANNEL's {number}
  std::string channel;  // an explicit channel; wins over number
  std::string caller_id;
  call_context context;  // agent, dynamic variables, overrides
  bool want_pool_port = false;
};

}  // namespace cb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::call_context)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::prepared_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::call_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<cb::call_summary>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::call_detail)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::transfer_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::originate_request)
