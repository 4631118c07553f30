// The control API's side of the bridge's value types: requests (protocol/control_api.hpp) turned
// into actor messages, actor answers rendered as the API's JSON (docs/api.md), and actor errors
// mapped to HTTP statuses. No I/O; the protocol layer cannot hold these because they are the
// actors' own message types.
#pragma once

#include <caf/error.hpp>

#include <string>
#include <vector>

#include "actors/ami_messages.hpp"
#include "actors/call_context.hpp"
#include "actors/control/http_server.hpp"
#include "actors/messages.hpp"
#include "actors/store_records.hpp"
#include "protocol/control_api.hpp"

namespace cb::control {

[[nodiscard]] call_context to_call_context(api::call_setup setup);
// `pool_by_default`: a legacy pool port when the request does not say (no shared port).
[[nodiscard]] bool wants_pool_port(const api::call_setup& setup, bool pool_by_default);
[[nodiscard]] originate_request to_originate_request(api::originate_params params,
                                                     bool pool_by_default);
[[nodiscard]] transfer_request to_transfer_request(api::transfer_params params);
[[nodiscard]] history_query to_history_query(const api::history_params& params);

// {"calls":[summary...]}, oldest call first.
[[nodiscard]] std::string render_calls(std::vector<call_summary> calls);
// The summary's members plus "events":[{"kind","text","event_id"}...].
[[nodiscard]] std::string render_call(const call_detail& detail);
// {"uuid","host","port","address":"host:port"}
[[nodiscard]] std::string render_prepared(const prepared_call& prepared);
void write_ami_status(api::json_writer& w, const ami_status& status);
void write_store_status(api::json_writer& w, const store_status& status);
// {"calls":[record...],"total","limit","offset"}
[[nodiscard]] std::string render_history_page(const history_page& page, const history_query& query);
// {"call":{...},"transcript":[...],"tool_calls":[...],"dtmf":[...],"post_call":{...}|null}
[[nodiscard]] std::string render_call_history(const call_history& history);
// {"type":"event"|"transcript","call","kind","text","event_id","ts"}
[[nodiscard]] std::string render_call_update(const call_update& update);

// What an actor's error means to an API client: bridge_errc codes by meaning (unknown_call 404,
// ami_disabled 503, ami_timeout 504, ...), request timeouts 504, a dead service 503.
struct api_failure {
  int status = 500;
  std::string code;     // "unknown_call", "ami_disabled", ...
  std::string message;  // the error's detail when it has one
};
[[nodiscard]] api_failure describe_failure(const caf::error& error);
// The failure as {"error":code,"message":...}.
[[nodiscard]] http_reply error_reply(const caf::error& error);

[[nodiscard]] http_reply json_reply(int status, std::string body);

}  // namespace cb::control
