// fake-ami: a stand-in for Asterisk 22's manager interface (shared/protocols/ami.md) that tests
// script: it answers the actions the bridge sends, plays the event sequences of real calls, records
// every action it receives (the Login secret redacted) and can be stopped and restarted mid-call.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ami.hpp"

namespace cb::fake_ami {

// How an Originate ends: Reason 4 is "answered"; a failure is usually 0, 1 (hung up), 3 (ring
// timeout), 5 (busy) or 8 (congestion).
struct originate_outcome {
  bool success = true;
  int reason = 4;
};

struct options {
  std::uint16_t port = 0;  // 0 picks a free one
  std::string username = "bridge";
  std::string secret;
  // Between the Originate's "successfully queued" and the call's events.
  std::chrono::milliseconds originate_delay{100};
  originate_outcome originate_result;
  // Where an originated call's dialplan runs AudioSocket(<uuid>,<host:port>) when the Originate
  // targets a context rather than the AudioSocket application: the uuid and the address come from
  // these Originate variables, the address from audiosocket_address when that variable is absent.
  std::string audiosocket_uuid_variable = "CALL_UUID";
  std::string audiosocket_address_variable = "AUDIOSOCKET_ADDRESS";
  std::string audiosocket_address = "127.0.0.1:5052";
  // One line per connection, action (secret redacted) and login result; never the secret. Called
  // with the server's lock held: it must not call back into the server.
  std::function<void(std::string_view)> log;
};

struct channel_spec {
  std::string name;      // "PJSIP/100-00000001", "AudioSocket/127.0.0.1:5050-<uuid>"
  std::string uniqueid;  // generated when empty
  std::string linkedid;  // the uniqueid when empty
  std::string caller_id_num;
  std::string caller_id_name;
  std::string exten = "s";
  std::string context = "default";
  std::map<std::string, std::string> variables;
  // When set, the channel runs AudioSocket(<uuid>,<address>): a Newexten announces it.
  std::string audiosocket_uuid;
  std::string audiosocket_address = "127.0.0.1:5052";
};

// An action as received; Secret values replaced by "***".
struct recorded_action {
  std::size_t client = 0;  // connections are numbered from 0 over the server's life
  ami::message message;
};

struct login_attempt {
  std::size_t client = 0;
  std::string username;
  bool success = false;
};

struct counters {
  std::size_t connections = 0;        // accepted over the server's life
  std::size_t clients_connected = 0;  // open now
  std::size_t actions = 0;
  std::size_t events = 0;  // event blocks broadcast (each counted once however many clients)
};

class server {
 public:
  server();
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Listens on 127.0.0.1 and returns the port; throws std::system_error when it cannot.
  std::uint16_t start(options opts);
  // Closes the listener and every client; channels, records and counters survive.
  void stop();
  // stop() then start() on the same port with the same options, as when Asterisk's manager is
  // killed and comes back while calls go on.
  std::uint16_t restart();
  [[nodiscard]] std::uint16_t port() const;

  // Creates a live channel and emits Newchannel, Newstate Up, a VarSet per variable and, for an
  // AudioSocket uuid, Newexten with Application AudioSocket. Returns the channel's uniqueid.
  std::string add_channel(channel_spec spec);
  // Emits SoftHangupRequest, HangupRequest and Hangup with the cause; false for no such channel.
  bool hangup_channel(std::string_view name, int cause = 16);
  [[nodiscard]] std::vector<std::string> channels() const;
  // Sends an event block to every logged-in client; a missing final empty line is added.
  void emit(std::string_view raw_block);
  void emit(const ami::message& event);

  [[nodiscard]] std::vector<recorded_action> actions() const;
  [[nodiscard]] std::vector<recorded_action> actions_named(std::string_view action) const;
  [[nodiscard]] std::vector<login_attempt> logins() const;
  [[nodiscard]] counters stats() const;

  // Evaluates predicate (outside the server's lock, so it may call the accessors) each time the
  // server's state changes, until it holds or timeout passes.
  bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace cb::fake_ami
