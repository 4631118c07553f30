// The project's CAF type-ID block and atoms (CAF 0.17's forward-compatible shim: the 4-argument
// CAF_ADD_ATOM and the ID block carry over to CAF 0.18 unchanged).
#pragma once

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>

#include "actors/messages.hpp"
#include "actors/ws_events.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(callbridge, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(callbridge, (cb::caller_audio))
CAF_ADD_TYPE_ID(callbridge, (cb::agent_uplink))
CAF_ADD_TYPE_ID(callbridge, (cb::agent_audio))
CAF_ADD_TYPE_ID(callbridge, (cb::playout_chunk))
CAF_ADD_TYPE_ID(callbridge, (cb::call_end))
CAF_ADD_TYPE_ID(callbridge, (cb::call_event))
CAF_ADD_TYPE_ID(callbridge, (cb::call_update))
CAF_ADD_TYPE_ID(callbridge, (cb::client_tool_request))
CAF_ADD_TYPE_ID(callbridge, (cb::playout_report))
CAF_ADD_TYPE_ID(callbridge, (cb::uplink_report))
CAF_ADD_TYPE_ID(callbridge, (cb::ws_opened))
CAF_ADD_TYPE_ID(callbridge, (cb::ws_text))
CAF_ADD_TYPE_ID(callbridge, (cb::ws_closed))
CAF_ADD_TYPE_ID(callbridge, (cb::ws_failed))
CAF_ADD_TYPE_ID(callbridge, (cb::http_response))

CAF_ADD_ATOM(callbridge, cb::atom, tick, "tick")
CAF_ADD_ATOM(callbridge, cb::atom, flush, "flush")
CAF_ADD_ATOM(callbridge, cb::atom, configure, "configure")
CAF_ADD_ATOM(callbridge, cb::atom, caller_rate, "callerrate")
CAF_ADD_ATOM(callbridge, cb::atom, drain, "drain")
CAF_ADD_ATOM(callbridge, cb::atom, drained, "drained")
CAF_ADD_ATOM(callbridge, cb::atom, hangup, "hangup")
CAF_ADD_ATOM(callbridge, cb::atom, attach, "attach")
CAF_ADD_ATOM(callbridge, cb::atom, connected, "connected")
CAF_ADD_ATOM(callbridge, cb::atom, prepare, "prepare")
CAF_ADD_ATOM(callbridge, cb::atom, allocate, "allocate")
CAF_ADD_ATOM(callbridge, cb::atom, claim, "claim")
CAF_ADD_ATOM(callbridge, cb::atom, release, "release")
CAF_ADD_ATOM(callbridge, cb::atom, expire, "expire")
CAF_ADD_ATOM(callbridge, cb::atom, list, "list")
CAF_ADD_ATOM(callbridge, cb::atom, dtmf, "dtmf")
CAF_ADD_ATOM(callbridge, cb::atom, say, "say")
CAF_ADD_ATOM(callbridge, cb::atom, end, "end")
CAF_ADD_ATOM(callbridge, cb::atom, ready, "ready")
CAF_ADD_ATOM(callbridge, cb::atom, first_audio, "firstaudio")
CAF_ADD_ATOM(callbridge, cb::atom, stats, "stats")
CAF_ADD_ATOM(callbridge, cb::atom, timeout, "timeout")
CAF_ADD_ATOM(callbridge, cb::atom, tool_result, "toolresult")
CAF_ADD_ATOM(callbridge, cb::atom, watch, "watch")
CAF_ADD_ATOM(callbridge, cb::atom, unwatch, "unwatch")
CAF_ADD_ATOM(callbridge, cb::atom, transfer, "transfer")
CAF_ADD_ATOM(callbridge, cb::atom, originate, "originate")
CAF_ADD_ATOM(callbridge, cb::atom, redirect, "redirect")
CAF_ADD_ATOM(callbridge, cb::atom, subscribe, "subscribe")
CAF_ADD_ATOM(callbridge, cb::atom, history, "history")
CAF_ADD_ATOM(callbridge, cb::atom, status, "status")
CAF_ADD_ATOM(callbridge, cb::atom, linked, "linked")
CAF_ADD_ATOM(callbridge, cb::atom, publish, "publish")

CAF_END_TYPE_ID_BLOCK(callbridge)

namespace cb {

// Errors the bridge's actors answer requests with (category "callbridge").
enum class bridge_errc : std::uint8_t {
  pool_exhausted = 1,
  unknown_port,
  duplicate_call,
  unknown_call,
  shutting_down,
  malformed_frame,     // the AudioSocket peer broke the framing
  no_call_id,          // the first frame was not the call's UUID
  ami_disabled,        // no ASTERISK_HOST configured
  ami_not_connected,   // the AMI link is down (reconnecting)
  ami_timeout,         // no answer to an action within its timeout
  ami_action_failed,   // Asterisk answered Response: Error (the detail is its Message)
  ami_bad_action,      // the action could not be built (a value would inject a header)
  no_channel,          // the call's Asterisk channel is not known (yet)
  bad_request,         // a request's parameters are missing or malformed
  store_unavailable,   // the call store's database is down (records wait in the journal)
  out_of_descriptors,  // the process hit its open-file limit
};

const char* to_string(bridge_errc e);
caf::error make_error(bridge_errc e, std::string detail = {});
// The text of an error for logs and API answers, whatever its category.
std::string describe(const caf::error& e);

}  // namespace cb
