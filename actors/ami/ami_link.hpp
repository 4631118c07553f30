// The AMI client's connection: one thread that connects to Asterisk's manager (TCP, or TLS verified
// against the system store plus an optional CA file, SNI = host), parses what Asterisk writes and
// writes what it is given. Nothing in it blocks its caller: a dead host's connect, a stalled TLS
// handshake or a slow name lookup only ever keep this thread waiting, and destroying the link
// stops and joins it at once. It knows nothing of logins or retries; its owner decides.
//
// Event contract, per connect(generation): at most one `up` (the banner arrived), then any number
// of `messages`, then exactly one `down` (the connection failed or ended), unless the owner closes
// it, calls connect() again or destroys the link first: then nothing more for that generation.
// The sink runs on the connection thread, one event at a time, in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/ami.hpp"

namespace cb {

struct ami_link_event {
  enum class kind : std::uint8_t {
    up,        // Asterisk's banner arrived: text is its version ("11.0.0" for Asterisk 22)
    messages,  // what Asterisk wrote, in arrival order
    down,      // the connection failed or ended: text says why, e.g. "Connection refused" (the
               // owner knows where it was connecting to; never a secret)
  };
  std::uint64_t generation = 0;
  kind what = kind::messages;
  std::string text;
  std::vector<ami::message> messages;
};

struct ami_link_options {
  std::string host;
  std::uint16_t port = 5038;
  bool tls = false;
  std::string ca_file;  // PEM, trusted besides OpenSSL's default verify paths
  // From connect() until the banner: name lookup, TCP connect, TLS handshake.
  std::chrono::milliseconds connect_timeout{5000};
  // Bytes given to send() and not yet taken by the socket beyond which Asterisk is deemed not to
  // be reading: the connection fails rather than grow without bound.
  std::size_t max_queued_bytes = std::size_t{4} << 20;
};

// "host:port", with an IPv6 literal in brackets.
std::string host_port(const std::string& host, std::uint16_t port);

class ami_link {
 public:
  using sink = std::function<void(ami_link_event&&)>;

  // Starts the connection thread (idle until connect()). Throws std::system_error when the
  // thread or its wake-up descriptor cannot be created.
  ami_link(ami_link_options options, sink on_event);
  // Writes what the socket takes at once of what is queued (a Logoff), closes and joins.
  ~ami_link();
  ami_link(const ami_link&) = delete;
  ami_link& operator=(const ami_link&) = delete;

  // Drops the current connection, if any, without a down event, and starts a new one whose events
  // carry `generation`.
  void connect(std::uint64_t generation);
  // Queued for writing on the connection of that generation; ignored for any other.
  void send(std::uint64_t generation, std::string bytes);
  // Drops the connection of that generation without a down event.
  void close(std::uint64_t generation);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace cb
