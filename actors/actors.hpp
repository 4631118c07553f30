// Every typed actor interface of the bridge, declared once so actors can hold each other's handles
// without include cycles. One call is a tree under a CALL actor:
//
//   call ── audiosocket_connection (io broker: parse and forward, write what it is given)
//        ├─ transcoder            (caller rate <-> agent formats, speexdsp, G.711)
//        ├─ elevenlabs_session    (agent WebSocket through the shared ws_client thread)
//        └─ playout               (jitter buffer, one frame per 20 ms on absolute deadlines)
//
// Long-lived services: call_registry (live and prepared calls), port_allocator (legacy pool).
#pragma once

#include <caf/io/broker.hpp>
#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/call_context.hpp"
#include "actors/types.hpp"

namespace cb {

// The TRANSCODER turns caller frames into the agent's input format and agent audio into frames
// at the caller's rate. It buffers caller audio (bounded) until the agent announced its formats.
using transcoder_actor =
    caf::typed_actor<caf::reacts_to<caller_audio>, caf::reacts_to<agent_audio>,
                     // user_input_audio_format, agent_output_audio_format as the agent named them
                     caf::reacts_to<atom::configure, std::string, std::string>,
                     caf::reacts_to<atom::caller_rate, std::int32_t>,
                     // interruption: drop agent audio of turns older than this event id
                     caf::reacts_to<atom::flush, std::int64_t>,
                     // the call's elevenlabs_session (declared below; the two reference each other)
                     caf::reacts_to<atom::attach, caf::actor>>;

// PLAYOUT owns the call's downlink clock.
using playout_actor =
    caf::typed_actor<caf::reacts_to<playout_chunk>, caf::reacts_to<atom::tick>,
                     caf::reacts_to<atom::flush, std::int64_t>,
                     caf::reacts_to<atom::caller_rate, std::int32_t>,
                     // let queued audio finish, then tell the call (atom::drained)
                     caf::reacts_to<atom::drain>>;

// The ELEVENLABS SESSION speaks the agent protocol for one call.
using elevenlabs_session_actor =
    caf::typed_actor<caf::reacts_to<agent_uplink>, caf::reacts_to<ws_opened>,
                     caf::reacts_to<ws_text>, caf::reacts_to<ws_closed>, caf::reacts_to<ws_failed>,
                     caf::reacts_to<http_response>,
                     // "user_message" or "contextual_update", text: DTMF and supervisor whispers
                     caf::reacts_to<atom::say, std::string, std::string>,
                     // tool_call_id, result, is_error: answers for tools the call actor handled
                     caf::reacts_to<atom::tool_result, std::string, std::string, bool>,
                     caf::reacts_to<atom::timeout>>;

// The CALL supervises its tree and owns the call's lifecycle.
using call_actor =
    caf::typed_actor<caf::reacts_to<atom::caller_rate, std::int32_t>,
                     caf::reacts_to<atom::dtmf, std::string>, caf::reacts_to<call_event>,
                     caf::reacts_to<call_end>,
                     // conversation id, input format, output format
                     caf::reacts_to<atom::ready, std::string, std::string, std::string>,
                     caf::reacts_to<atom::first_audio>, caf::reacts_to<atom::drained>,
                     caf::reacts_to<playout_report>, caf::reacts_to<uplink_report>,
                     caf::replies_to<atom::stats>::with<call_summary>>;

// The CALL REGISTRY knows live calls and calls prepared for UUIDs not connected yet.
using call_registry_actor = caf::typed_actor<
    // uuid text, listen port, connection broker -> the call that now owns the connection
    caf::replies_to<atom::connected, std::string, std::uint16_t, caf::actor>::with<call_actor>,
    // context (legacy pool when want_pool_port) -> uuid + where Asterisk must connect
    caf::replies_to<atom::prepare, call_context, bool>::with<prepared_call>,
    caf::replies_to<atom::list>::with<std::vector<call_summary>>,
    caf::reacts_to<atom::expire, std::string>>;

// The PORT ALLOCATOR leases legacy pool ports; a lease ends when its call ends, when the call
// actor dies, or when Asterisk has not connected in time. A port never leaks.
using port_allocator_actor = caf::typed_actor<
    // owner uuid -> port, or bridge_errc::pool_exhausted
    caf::replies_to<atom::allocate, std::string>::with<std::uint16_t>,
    // the call that connected on a leased port: released when it goes down
    caf::reacts_to<atom::claim, std::uint16_t, std::string, caf::actor>,
    caf::reacts_to<atom::release, std::uint16_t, std::string>,
    caf::reacts_to<atom::expire, std::uint16_t, std::uint64_t>,
    // leased, total
    caf::replies_to<atom::stats>::with<std::uint32_t, std::uint32_t>>;

}  // namespace cb
