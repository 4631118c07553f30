// What the AMI client and the actors using it exchange. Local-only message types (they hold the
// protocol's value types, which CAF 0.17 cannot inspect), so they never leave the process.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/ami.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace cb {

// One AMI action to run. The client assigns the ActionID.
struct ami_request {
  ami::action action;
  // Empty: the response completes the request (an "EventList: start" response waits for the list's
  // "EventList: Complete" event). Otherwise the request completes with the first event of this
  // name carrying the ActionID: "OriginateResponse" for an async Originate.
  std::string completion_event;
  std::chrono::milliseconds timeout{5000};
};

// The answer: the response, and the list's events or the completion event (in arrival order).
struct ami_result {
  ami::message response;
  std::vector<ami::message> events;
};

enum class ami_link_state : std::uint8_t {
  disabled,      // no ASTERISK_HOST
  connecting,    // TCP/TLS connect or login under way
  connected,     // logged in
  auth_failed,   // Asterisk refused the credentials; retried with backoff
  disconnected,  // lost or refused; retried with backoff
};
const char* to_string(ami_link_state s);

struct ami_status {
  ami_link_state state = ami_link_state::disabled;
  std::string server;          // host:port
  std::string banner_version;  // "11.0.0" for Asterisk 22
  std::string last_error;      // why the link last failed; never holds the secret
  std::uint64_t connects = 0;  // successful logins over the process's life
  std::uint64_t failures = 0;  // failed connects, failed logins and lost links
  std::int64_t state_since_unix_ms = 0;
  std::size_t channels = 0;        // live Asterisk channels the client tracks
  std::size_t watched = 0;         // calls watching a channel
  std::uint64_t actions_sent = 0;  // over the process's life
  std::uint64_t events_seen = 0;   // over the process's life
};

// An Asterisk channel as AMI reported it (Newchannel, CoreShowChannel, later events).
struct ami_channel {
  std::string name;  // "PJSIP/100-00000001"
  std::string uniqueid;
  std::string linkedid;
  std::string caller_id_num;
  std::string caller_id_name;
  std::string exten;  // the dialled extension at creation
  std::string context;
  std::string audiosocket_uuid;  // the call UUID linked to it, once seen
};

// The client found the channel carrying a watched call UUID.
struct ami_channel_linked {
  std::string uuid;
  ami_channel channel;
};

// An event about a watched call's channel (Uniqueid match), as received.
struct ami_channel_event {
  std::string uuid;
  ami::message event;
};

// The watched call's channel is gone: its Hangup event, or missing from the channel list after a
// reconnect (it hung up while the link was down).
struct ami_channel_gone {
  std::string uuid;
  int cause = 16;
  std::string cause_text;
};

// What a call's watcher learned about its channel, for the call and its agent session. Sent once
// the channel's variables are read, or with linked == false when AMI cannot tell in time (disabled,
// down, or the channel not seen): the session then starts the conversation without them.
struct ami_call_link {
  bool linked = false;
  std::string channel;
  std::string caller_id;
  std::string called_number;
  elevenlabs::dynamic_variable_map variables;  // channel variables and caller id, as configured
};

}  // namespace cb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_call_link)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_channel_linked)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_channel_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::ami_channel_gone)
