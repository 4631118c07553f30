// AMI CLIENT: the one connection to Asterisk's manager interface (shared/protocols/ami.md) that
// serves every call. It logs in, keeps the link alive with Ping, reconnects with capped exponential
// backoff and jitter, resynchronises its channel table with CoreShowChannels after every login,
// runs actions for other actors (numbering them with ActionIDs and matching the answers), and
// tells each watching call about its channel.
//
// The socket lives on the ami_link thread (actors/ami/ami_link.hpp), so no scheduler thread ever
// waits on Asterisk; the thread is joined when the actor ends, a Logoff sent first if logged in.
//
// Watching: `watch(uuid, subscriber)` sends ami_channel_linked at once when the channel carrying
// the call is known, else when it becomes known; then each event whose Uniqueid (or DestUniqueid,
// the called side of Dial and bridge events) is that channel's, as ami_channel_event; then, at the
// channel's Hangup, ami_channel_gone with Asterisk's Cause and Cause-txt, and the watch ends.
// Events are matched by Uniqueid, not Linkedid: a Linkedid groups every channel of a conversation
// (both halves of a Local pair, a dialled agent, a transfer target), and their hangups are not the
// call's. Events answering an action (they carry its ActionID, e.g. CoreShowChannel) go to whoever
// asked, not to watchers. A channel that vanished while the link was down (missing from the
// CoreShowChannels list after a reconnect) is reported gone with cause 0, "Unknown": what Asterisk
// itself reports for a hangup nobody gave a cause (AST_CAUSE_NOTDEFINED); the real cause was never
// seen. One subscriber per call UUID: a second watch replaces the first. Subscribers are monitored
// and their watches dropped when they die.
#pragma once

#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/actors.hpp"
#include "actors/ami/ami_link.hpp"
#include "actors/config.hpp"
#include "protocol/ami_channels.hpp"

namespace cb {

// The client's own timers.
struct ami_client_timer {
  enum class kind : std::uint8_t {
    reconnect,        // id: the connection generation to start
    ping,             // id: the connection generation to keep alive
    action_deadline,  // id: the ActionID of an action still waiting for its answer
  };
  kind what = kind::reconnect;
  std::uint64_t id = 0;
};

// The wait before reconnect attempt `failed_attempts` (1 for the first retry): `first` doubling
// per failed attempt up to `cap`, scaled by a jitter factor in [0.8, 1.2) from `unit` in [0, 1),
// and kept within [first, cap].
[[nodiscard]] std::chrono::milliseconds reconnect_delay(std::uint32_t failed_attempts,
                                                        std::chrono::milliseconds first,
                                                        std::chrono::milliseconds cap, double unit);

struct ami_client_state {
  struct pending_action {
    enum class purpose : std::uint8_t { request, login, ping, resync };
    purpose what = purpose::request;
    std::string action;                               // its name, for errors and logs
    caf::typed_response_promise<ami_result> promise;  // purpose::request only
    std::string completion_event;
    std::chrono::milliseconds timeout{0};
    std::optional<ami::message> response;
    bool list = false;             // the response opened an event list
    bool completion_seen = false;  // the completion event came before the response
    std::vector<ami::message> events;
  };

  struct watch {
    ami_subscriber_actor subscriber;
    bool linked = false;  // the subscriber has its ami_channel_linked
  };

  ami_client_state();
  ~ami_client_state();  // logs off when logged in, then stops the connection thread
  ami_client_state(const ami_client_state&) = delete;
  ami_client_state& operator=(const ami_client_state&) = delete;

  std::shared_ptr<const settings> config;
  ami_status status;
  std::unique_ptr<ami::channel_table> channels;
  std::uint64_t generation = 0;       // the current connection attempt
  std::uint32_t failed_attempts = 0;  // since the last good login
  std::uint64_t next_action_id = 1;
  std::map<std::uint64_t, pending_action> pending;  // by ActionID
  std::uint64_t resync_mark = 0;
  std::unordered_map<std::string, watch> watches;      // by lowercase call UUID
  std::map<caf::actor_addr, std::size_t> subscribers;  // monitored, with their watch counts
  std::minstd_rand jitter;
  // Last: destroyed first, so the connection thread is gone before anything it reports to.
  std::unique_ptr<ami_link> link;

  static inline const char* name = "ami_client";
};

// Spawn once; an empty asterisk_host gives a client in state disabled that answers every
// ami_request with bridge_errc::ami_disabled.
ami_client_actor::behavior_type ami_client(
    ami_client_actor::stateful_pointer<ami_client_state> self,
    std::shared_ptr<const settings> config);

}  // namespace cb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_link_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_client_timer)
