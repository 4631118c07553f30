// Loopback peers for the AMI client's tests, for what fake-ami cannot play: a manager that stops
// answering, a port that accepts TCP but never speaks, and TLS in front of fake-ami.
#pragma once

#include "test/actors_io/test_servers.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

struct ssl_ctx_st;

namespace cb::test {

// closed_port() and make_self_signed_localhost() come from test/actors_io/test_servers.hpp.

// Accepts connections on 127.0.0.1. With `answer_login`, it greets each with the banner, accepts
// its Login and lists no channels for CoreShowChannels, then answers nothing more, Ping included
// (a hung Asterisk); without, it never writes a byte (a port that is not a manager, or a manager
// stuck before its banner).
class mute_manager {
 public:
  explicit mute_manager(bool answer_login);
  ~mute_manager();
  mute_manager(const mute_manager&) = delete;
  mute_manager& operator=(const mute_manager&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t logins() const { return logins_.load(); }

 private:
  void run();

  bool answer_login_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> logins_{0};
  std::thread thread_;
};

// TLS on 127.0.0.1 with a fresh self-signed certificate for "localhost" and 127.0.0.1, relaying
// each connection, one at a time, to 127.0.0.1:target_port in plain TCP.
class tls_relay {
 public:
  // Writes the certificate (PEM) to cert_file: the CA file a client must trust.
  tls_relay(std::uint16_t target_port, std::string cert_file);
  ~tls_relay();
  tls_relay(const tls_relay&) = delete;
  tls_relay& operator=(const tls_relay&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& cert_file() const { return cert_file_; }
  // Connections whose TLS handshake completed.
  [[nodiscard]] std::size_t handshakes() const { return handshakes_.load(); }

 private:
  void run();
  void relay(int client_fd);

  std::uint16_t target_port_;
  std::string cert_file_;
  ssl_ctx_st* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> handshakes_{0};
  std::thread thread_;
};

}  // namespace cb::test
