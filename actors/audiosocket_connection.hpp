// AUDIOSOCKET CONNECTION: one io broker per TCP connection from Asterisk. All brokers share CAF's
// single multiplexer thread, so this actor only parses, forwards, and writes what it is given:
// no transcoding, no JSON, no timers.
//
// Accepts: atom::hangup (write 0x00, close, quit), (atom::attach, call, transcoder) (where caller
// audio and events go). Audio to the caller does not pass through here: the call's playout writes
// it with the connection's audiosocket_writer, which the registry hands to the call.
#pragma once

#include <caf/io/broker.hpp>
#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "actors/audiosocket_writer.hpp"
#include "actors/metrics/actor_metrics.hpp"
#include "protocol/audiosocket.hpp"

namespace cb {

struct audiosocket_connection_state {
  explicit audiosocket_connection_state(caf::io::broker*) {}
  audiosocket::parser parser;
  caf::io::connection_handle hdl;
  audiosocket_writer_ptr writer;
  std::uint16_t listen_port = 0;
  std::string call_id;  // text form, empty until the first frame
  caf::actor call;
  caf::actor transcoder;
  std::vector<caller_audio> before_attach;  // audio that raced the call's set-up (bounded)
  std::int32_t rate_hz = 0;
  bool closing = false;

  static inline const char* name = "audiosocket_connection";
};

using audiosocket_connection_broker =
    caf::stateful_actor<audiosocket_connection_state, metrics::instrumented_actor<caf::io::broker>>;

caf::behavior audiosocket_connection(audiosocket_connection_broker* self,
                                     caf::io::connection_handle hdl, call_registry_actor registry,
                                     std::uint16_t listen_port,
                                     audiosocket::parser_options options);

struct audiosocket_listener_state {
  static inline const char* name = "audiosocket_listener";
};

using audiosocket_listener_broker =
    caf::stateful_actor<audiosocket_listener_state, metrics::instrumented_actor<caf::io::broker>>;

// ACCEPTOR for one listening port: forks an audiosocket_connection per accepted connection.
// Spawned with spawn_broker; fails to start (quits with the error) when it cannot bind.
caf::behavior audiosocket_listener(audiosocket_listener_broker* self, std::string host,
                                   std::uint16_t port, call_registry_actor registry,
                                   audiosocket::parser_options options, caf::actor ready_to);

}  // namespace cb
