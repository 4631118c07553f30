// Every typed actor interface of the bridge, declared once so actors can hold each other's handles
// without include cycles. One call is a tree under a CALL actor:
//
//   call ── audiosocket_connection (io broker: parse and forward caller audio, hang up)
//        ├─ transcoder            (caller rate <-> agent formats, speexdsp, G.711)
//        ├─ elevenlabs_session    (agent WebSocket through the shared ws_client thread)
//        ├─ playout               (jitter buffer, one frame per 20 ms on the shared clock,
//        │                         written straight to the socket by an audiosocket_writer)
//        └─ ami_watcher           (the call's Asterisk channel: variables, hangup, transfer, DTMF)
//
// Long-lived services: call_registry (live and prepared calls), port_allocator (legacy pool),
// ami_client (the one AMI connection), call_store (records), control_api (HTTP/WS, dashboard),
// playout_clock (the 20 ms beat of every call).
#pragma once

#include <caf/io/broker.hpp>
#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/ami_messages.hpp"
#include "actors/audiosocket_writer.hpp"
#include "actors/call_context.hpp"
#include "actors/store_records.hpp"
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
    caf::typed_actor<caf::reacts_to<playout_chunk>,
                     // from the playout clock: this frame's slot (steady-clock ns)
                     caf::reacts_to<atom::tick, std::int64_t>,
                     caf::reacts_to<atom::flush, std::int64_t>,
                     caf::reacts_to<atom::caller_rate, std::int32_t>,
                     // let queued audio finish, then tell the call (atom::drained)
                     caf::reacts_to<atom::drain>>;

// The PLAYOUT CLOCK ticks every call's playout once per 20 ms from one timer, on 1 ms slots the
// calls are spread over, instead of one timer per call.
using playout_clock_actor =
    caf::typed_actor<caf::reacts_to<atom::subscribe, playout_actor>, caf::reacts_to<atom::tick>>;

// The ELEVENLABS SESSION speaks the agent protocol for one call.
using elevenlabs_session_actor =
    caf::typed_actor<caf::reacts_to<agent_uplink>, caf::reacts_to<ws_opened>,
                     caf::reacts_to<ws_text>, caf::reacts_to<ws_closed>, caf::reacts_to<ws_failed>,
                     caf::reacts_to<http_response>,
                     // "user_message" or "contextual_update", text: DTMF and supervisor whispers
                     caf::reacts_to<atom::say, std::string, std::string>,
                     // tool_call_id, result, is_error: answers for tools the call actor handled
                     caf::reacts_to<atom::tool_result, std::string, std::string, bool>,
                     caf::reacts_to<atom::timeout>,
                     // the channel's variables for the initiation message (see ami_call_link)
                     caf::reacts_to<ami_call_link>>;

// What the AMI CLIENT tells an actor watching a call's channel.
using ami_subscriber_actor =
    caf::typed_actor<caf::reacts_to<ami_channel_linked>, caf::reacts_to<ami_channel_event>,
                     caf::reacts_to<ami_channel_gone>>;

// The AMI CLIENT owns the one manager connection: login, keepalive, reconnection with backoff,
// resynchronisation, ActionID-correlated actions and per-call event fan-out.
// Its internal messages (its connection thread's events and its timers; nobody else sends them)
// are defined in actors/ami/ami_link.hpp and actors/ami/ami_client.hpp.
struct ami_link_event;
struct ami_client_timer;
using ami_client_actor = caf::typed_actor<
    // runs an action; errors: ami_disabled, ami_not_connected, ami_timeout, ami_action_failed,
    // ami_bad_action
    caf::replies_to<ami_request>::with<ami_result>,
    // tell the subscriber about the channel carrying this call UUID (at once if already known)
    // and its events until it is gone or unwatched
    caf::reacts_to<atom::watch, std::string, ami_subscriber_actor>,
    caf::reacts_to<atom::unwatch, std::string>, caf::replies_to<atom::status>::with<ami_status>,
    caf::reacts_to<ami_link_event>, caf::reacts_to<ami_client_timer>>;

// The AMI WATCHER links its call to the Asterisk channel and acts on that channel.
using ami_watcher_actor = ami_subscriber_actor::extend<
    // hang the channel up (cause 16): the call is ending from the bridge's side
    caf::reacts_to<atom::hangup>,
    // Redirect the channel; answers "context,exten,priority"
    caf::replies_to<atom::transfer, transfer_request>::with<std::string>,
    // PlayDTMF, digit by digit; answers the digits played
    caf::replies_to<atom::dtmf, std::string>::with<std::string>,
    // the channel was not linked in time: the call goes on without its variables
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
                     caf::replies_to<atom::stats>::with<call_summary>,
                     caf::replies_to<atom::stats, atom::list>::with<call_detail>,
                     // transfer the caller (operator or transfer_call tool)
                     caf::replies_to<atom::transfer, transfer_request>::with<std::string>,
                     // a supervisor's whisper: "user_message" or "contextual_update", text
                     caf::reacts_to<atom::say, std::string, std::string>,
                     // from the watcher: the channel and its variables (or that AMI cannot tell)
                     caf::reacts_to<ami_call_link>,
                     // from the session: a client tool the bridge carries out
                     caf::reacts_to<client_tool_request>>;

// Receives every call's events for the control API's streams.
using call_update_sink_actor = caf::typed_actor<caf::reacts_to<call_update>>;

// The CALL REGISTRY knows live calls and calls prepared for UUIDs not connected yet.
using call_registry_actor = caf::typed_actor<
    // uuid text, listen port, connection broker, its writer -> the call that now owns them
    caf::replies_to<atom::connected, std::string, std::uint16_t, caf::actor,
                    audiosocket_writer_ptr>::with<call_actor>,
    // context (legacy pool when want_pool_port) -> uuid + where Asterisk must connect
    caf::replies_to<atom::prepare, call_context, bool>::with<prepared_call>,
    caf::replies_to<atom::list>::with<std::vector<call_summary>>,
    caf::replies_to<atom::list, std::string>::with<call_detail>,
    // operator hang-up (unknown_call when no such live call)
    caf::replies_to<atom::end, std::string>::with<bool>,
    // a supervisor's message into the conversation: uuid, "user_message"|"contextual_update", text
    caf::replies_to<atom::say, std::string, std::string, std::string>::with<bool>,
    caf::replies_to<atom::transfer, std::string, transfer_request>::with<std::string>,
    // an outbound AI call through AMI: answers once Asterisk queued the Originate
    caf::replies_to<atom::originate, originate_request>::with<prepared_call>,
    // hand a live Asterisk channel (by name) to the AI
    caf::replies_to<atom::redirect, std::string, call_context>::with<prepared_call>,
    // where every call publishes its events (the control API)
    caf::reacts_to<atom::subscribe, call_update_sink_actor>,
    // the shared AudioSocket port as bound (it may be configured as 0: any free port)
    caf::reacts_to<atom::connected, std::uint16_t>, caf::reacts_to<atom::expire, std::string>>;

// The CALL STORE writes records asynchronously (never on the audio path), queues them while the
// database is away, spills them to a journal, and answers history queries.
using call_store_actor = caf::typed_actor<
    caf::reacts_to<store_record>, caf::replies_to<atom::history, history_query>::with<history_page>,
    // one call by uuid or conversation id (unknown_call when absent)
    caf::replies_to<atom::history, std::string>::with<call_history>,
    // writes everything queued; answers the records still waiting (0 when all are stored)
    caf::replies_to<atom::flush>::with<std::uint64_t>,
    caf::replies_to<atom::status>::with<store_status>>;

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
