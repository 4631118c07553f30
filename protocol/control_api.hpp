// The control API's wire formats (docs/api.md), as pure functions: request targets and routes,
// form-encoded and JSON request bodies read into value types with errors that name the offending
// field, the WebSocket messages (the current shape and the legacy Node app's
// {action, requestId, params}), bearer tokens compared in constant time, and timestamps.
// The actors/control layer turns these values into the bridge's actor messages.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "codecs/expected.hpp"
#include "protocol/elevenlabs_client_messages.hpp"
#include "protocol/elevenlabs_json.hpp"
#include "protocol/elevenlabs_json_object.hpp"

namespace cb::api {

// The API renders its JSON with the agent protocol's writer: same escaping, same number forms.
using json_writer = elevenlabs::detail::json_writer;

// Why a request cannot be served. `field` names the member at fault as a dotted path
// ("dynamic_variables.lead_id"), a query or form name, or is empty for the body as a whole.
struct request_error {
  std::string field;
  std::string message;

  friend bool operator==(const request_error& a, const request_error& b) {
    return a.field == b.field && a.message == b.message;
  }
  friend bool operator!=(const request_error& a, const request_error& b) { return !(a == b); }
};

// --- targets, query strings, forms ---------------------------------------------------------------

using field_list = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes (and '+' as a space when plus_is_space); a truncated or non-hex escape is an
// error.
[[nodiscard]] expected<std::string, request_error> percent_decode(std::string_view text,
                                                                  bool plus_is_space);

// application/x-www-form-urlencoded, as bodies and query strings use it: name=value pairs split on
// '&', each decoded; empty pairs are skipped and a name without '=' has an empty value. Order and
// repeated names are kept.
[[nodiscard]] expected<field_list, request_error> parse_form(std::string_view text);

// The first value given for `name`, or nullptr.
[[nodiscard]] const std::string* find_field(const field_list& fields, std::string_view name);

struct request_target {
  std::string path;  // percent-decoded
  field_list query;
};

// "/api/history?agent=a&q=refund" (what a WebSocket request names; lws splits HTTP targets itself).
[[nodiscard]] expected<request_target, request_error> parse_target(std::string_view target);

// --- routes --------------------------------------------------------------------------------------

enum class route_kind : std::uint8_t {
  health,              // GET  /healthz
  ready,               // GET  /readyz
  metrics,             // GET  /metrics
  status,              // GET  /api/status
  list_calls,          // GET  /api/calls
  prepare_call,        // POST /api/calls
  originate_call,      // POST /api/calls/originate
  get_call,            // GET  /api/calls/{id}
  hangup_call,         // DELETE /api/calls/{id}
  redirect_call,       // POST /api/calls/{channel}/redirect (the channel name may contain '/')
  transfer_call,       // POST /api/calls/{id}/transfer
  message_call,        // POST /api/calls/{id}/message
  history,             // GET  /api/history
  history_call,        // GET  /api/history/{id}
  elevenlabs_webhook,  // POST /webhooks/elevenlabs
  static_file,         // GET  anything else outside /api/ and /webhooks/ (the dashboard)
  method_not_allowed,  // a known path with another method
  not_found,
};

struct route {
  route_kind kind = route_kind::not_found;
  std::string id;  // the call id, channel name or history id the path names
};

[[nodiscard]] route match_route(std::string_view method, std::string_view path);

// Health probes, the dashboard's files and the signed webhook need no bearer token.
[[nodiscard]] bool needs_token(route_kind kind);

// --- authentication ------------------------------------------------------------------------------

// The token of "Bearer <token>" (scheme case-insensitive, blanks around the token ignored).
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view authorization);

// Compares in time that depends only on expected.size(), never on where the two first differ.
[[nodiscard]] bool token_equals(std::string_view given, std::string_view expected) noexcept;

// --- request bodies ------------------------------------------------------------------------------

enum class body_format : std::uint8_t { json, form };

// application/x-www-form-urlencoded is a form; anything else (application/json, none) is JSON.
[[nodiscard]] body_format format_of(std::string_view content_type);

// What a call runs with: POST /api/calls, /originate and /redirect bodies. An empty body is {}.
// Members: agent_id, dynamic_variables (object of strings, numbers and booleans), overrides (or its
// ElevenLabs name conversation_config_override; an object passed to the agent as given), the
// shortcuts prompt, first_message and language (which build overrides.agent), pool_port (boolean).
// Forms carry the objects as JSON text or as dynamic_variables[name]=value pairs.
struct call_setup {
  std::string agent_id;  // empty: the server's default agent
  elevenlabs::dynamic_variable_map dynamic_variables;
  std::optional<elevenlabs::json_object> overrides;
  std::optional<bool> pool_port;  // unset: the server decides (a pool port when no shared port)

  friend bool operator==(const call_setup& a, const call_setup& b) {
    return a.agent_id == b.agent_id && a.dynamic_variables == b.dynamic_variables &&
           a.overrides == b.overrides && a.pool_port == b.pool_port;
  }
  friend bool operator!=(const call_setup& a, const call_setup& b) { return !(a == b); }
};

// POST /api/calls/originate: number (fills ORIGINATE_CHANNEL) or channel (wins), caller_id, and
// the call_setup members.
struct originate_params {
  std::string number;
  std::string channel;
  std::string caller_id;
  call_setup setup;

  friend bool operator==(const originate_params& a, const originate_params& b) {
    return a.number == b.number && a.channel == b.channel && a.caller_id == b.caller_id &&
           a.setup == b.setup;
  }
  friend bool operator!=(const originate_params& a, const originate_params& b) { return !(a == b); }
};

// POST /api/calls/{id}/transfer: context, exten, priority (each optional: the TRANSFER_* templates
// fill what is missing), a parameters object, and any other top-level string or number member as a
// template parameter ({"destination":"200"}).
struct transfer_params {
  std::map<std::string, std::string> parameters;
  std::string context;
  std::string exten;
  std::string priority;

  friend bool operator==(const transfer_params& a, const transfer_params& b) {
    return a.parameters == b.parameters && a.context == b.context && a.exten == b.exten &&
           a.priority == b.priority;
  }
  friend bool operator!=(const transfer_params& a, const transfer_params& b) { return !(a == b); }
};

// POST /api/calls/{id}/message: type "contextual_update" (the default: the agent learns it
// without answering, a supervisor's whisper) or "user_message" (as if the caller said it), text.
struct message_params {
  std::string type = "contextual_update";
  std::string text;

  friend bool operator==(const message_params& a, const message_params& b) {
    return a.type == b.type && a.text == b.text;
  }
  friend bool operator!=(const message_params& a, const message_params& b) { return !(a == b); }
};

[[nodiscard]] expected<call_setup, request_error> parse_call_setup(std::string_view body,
                                                                   body_format format);
[[nodiscard]] expected<originate_params, request_error> parse_originate(std::string_view body,
                                                                        body_format format);
[[nodiscard]] expected<transfer_params, request_error> parse_transfer(std::string_view body,
                                                                      body_format format);
[[nodiscard]] expected<message_params, request_error> parse_message(std::string_view body,
                                                                    body_format format);

// GET /api/history: from and to (Unix milliseconds or ISO 8601), agent, q, limit (1-500, default
// 50), offset. Other names are ignored.
struct history_params {
  std::int64_t from_unix_ms = 0;  // 0: no bound
  std::int64_t to_unix_ms = 0;
  std::string agent_id;
  std::string text;
  std::uint32_t limit = 50;
  std::uint32_t offset = 0;

  friend bool operator==(const history_params& a, const history_params& b) {
    return a.from_unix_ms == b.from_unix_ms && a.to_unix_ms == b.to_unix_ms &&
           a.agent_id == b.agent_id && a.text == b.text && a.limit == b.limit &&
           a.offset == b.offset;
  }
  friend bool operator!=(const history_params& a, const history_params& b) { return !(a == b); }
};

inline constexpr std::uint32_t max_history_limit = 500;

[[nodiscard]] expected<history_params, request_error> parse_history_query(const field_list& query);

// --- WebSocket messages --------------------------------------------------------------------------

enum class stream : std::uint8_t { logs, events, transcripts, metrics };
inline constexpr std::size_t stream_count = 4;

[[nodiscard]] const char* to_string(stream s);
[[nodiscard]] std::optional<stream> parse_stream(std::string_view name);

// Transcript turns, corrections, interruptions and tool calls go to the transcripts stream; every
// other call event (state changes, DTMF, transfers) to the events stream.
[[nodiscard]] stream stream_of_event(std::string_view kind);

// {"type":"auth","token":"..."}
struct ws_auth {
  std::string token;
};

// {"type":"subscribe"|"unsubscribe","streams":["logs",...],"level":"info","call":"<uuid>"}
// level and call are optional: a log level threshold for the logs stream, and one call to follow
// (logs, events and transcripts of that call only).
struct ws_subscribe {
  bool subscribe = true;
  std::vector<stream> streams;
  std::string level;
  std::string call;
};

// {"type":"request","id":<any JSON>,"method":"POST","path":"/api/calls","body":{...}}: any HTTP
// API call over the socket; answered {"type":"response","id":...,"status":201,"body":{...}}.
struct ws_request {
  std::string id_json = "null";  // the id exactly as sent (JSON text)
  std::string method;
  std::string target;
  std::string body = "{}";  // the body object as JSON text
};

// The legacy Node app's {"action":"ping","requestId":...,"params":{...}}.
struct legacy_request {
  std::string action;
  std::string request_id_json = "null";  // requestId exactly as sent (JSON text)
  std::string params_json = "{}";
};

struct ws_message {
  std::variant<ws_auth, ws_subscribe, ws_request, legacy_request> body;
  std::optional<std::string> token;  // a "token" member, which any first message may carry
};

// A message without "type" but with "action" is legacy. Errors name the member at fault.
[[nodiscard]] expected<ws_message, request_error> parse_ws_message(std::string_view text);

// A legacy request's requestId (JSON text) when the text is at least a JSON object carrying one, so
// that even a malformed legacy request is answered with its id; "null" otherwise.
[[nodiscard]] std::string legacy_request_id(std::string_view text);

// start_call's params: the number to call as channel (or number), agent_id, and prompt,
// first_message and language either nested in params.params (the legacy shape) or in params.
[[nodiscard]] expected<originate_params, request_error> parse_legacy_start_call(
    std::string_view params_json);

// {"type":"status","status":"success"|"error","message":...,"requestId":...,"timestamp":"<ISO>"}
// plus extra members already rendered as `"name":value` pairs (may be empty).
[[nodiscard]] std::string legacy_status(bool success, std::string_view message,
                                        std::string_view request_id_json, std::int64_t unix_ms,
                                        std::string_view extra_members = {});

// --- answers -------------------------------------------------------------------------------------

// {"error":"<code>","message":"...","field":"..."} (field only when set).
[[nodiscard]] std::string error_body(std::string_view code, std::string_view message,
                                     std::string_view field = {});
[[nodiscard]] std::string error_body(const request_error& error);

// --- time ----------------------------------------------------------------------------------------

// "2026-11-24T18:00:00.123Z", as JavaScript's Date.toISOString.
[[nodiscard]] std::string format_timestamp(std::int64_t unix_ms);

// Unix milliseconds from digits, or from ISO 8601: YYYY-MM-DD, optionally followed by
// THH:MM[:SS[.fff]] and Z or ±HH:MM (no zone: UTC).
[[nodiscard]] std::optional<std::int64_t> parse_timestamp(std::string_view text);

}  // namespace cb::api
