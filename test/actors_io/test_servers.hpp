// Loopback peers for the ws_client tests: an lws server (HTTP + WebSocket on one port) in its own
// service thread, a small blocking OpenSSL server for wss/https, a raw TCP server that answers one
// request with canned bytes, and a self-signed certificate for localhost.
//
// The TLS peer is plain OpenSSL rather than a second lws context on purpose: libwebsockets 4.1
// keeps the SSL_CTX ex-data index it needs to free a client SSL_CTX in a process-wide variable
// that each TLS-enabled context overwrites, so with two such contexts the first one's client
// SSL_CTX (and the whole CA store in it) is never freed and LeakSanitizer fails the test.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct lws;
struct lws_context;
struct ssl_ctx_st;

namespace cb::test {

// What the WebSocket side does with a message it receives:
//   "big:N"              answers with N bytes ('a'..'z' repeating) sent as 4 fragments
//   "close:CODE:REASON"  closes with that code and reason
//   "stall"              stops reading from this connection
//   anything else        echoed back
// HTTP: GET /signed-url answers 200 {"signed_url":"..."} when xi-api-key is "sekrit", else 401.
class ws_test_server {
 public:
  struct peer_close {
    std::uint16_t code = 0;
    std::string reason;
  };

  ws_test_server();
  ~ws_test_server();
  ws_test_server(const ws_test_server&) = delete;
  ws_test_server& operator=(const ws_test_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

  // Block (bounded) until the predicate over the recorded state holds; false on timeout.
  bool wait_for_closes(std::size_t n, std::chrono::seconds limit = std::chrono::seconds(10));
  std::vector<peer_close> closes();
  std::vector<std::string> api_keys_seen();
  std::size_t messages_received();

  struct session;
  int on_event(lws* wsi, int reason, void* in, std::size_t len);

 private:
  void run();

  lws_context* context_ = nullptr;
  std::uint16_t port_ = 0;
  std::thread thread_;
  bool stop_ = false;  // service thread only, set through the cancel callback
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_requested_ = false;  // guarded by mtx_
  std::vector<peer_close> closes_;
  std::vector<std::string> api_keys_;
  std::size_t received_ = 0;
  std::map<lws*, session*> sessions_;  // service thread only
};

// TLS on 127.0.0.1 with the given certificate, one thread per connection. A WebSocket upgrade is
// answered with 101 and one text frame, "hello over tls"; any other request with 200 and a JSON
// body. Connections stay open until the peer closes them or the server is destroyed.
class tls_test_server {
 public:
  tls_test_server(const std::string& cert_file, const std::string& key_file);
  ~tls_test_server();
  tls_test_server(const tls_test_server&) = delete;
  tls_test_server& operator=(const tls_test_server&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void serve(int fd);

  ssl_ctx_st* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::mutex mtx_;
  std::vector<int> open_fds_;  // guarded by mtx_
  bool stopping_ = false;      // guarded by mtx_
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// Accepts one TCP connection on 127.0.0.1, reads the request head, writes `reply` (if any) and
// keeps the socket open until destroyed. With listen_only, never accepts: the kernel completes the
// TCP handshake from the backlog and the peer then waits for an answer that never comes.
class raw_tcp_server {
 public:
  explicit raw_tcp_server(std::string reply, bool listen_only = false);
  ~raw_tcp_server();
  raw_tcp_server(const raw_tcp_server&) = delete;
  raw_tcp_server& operator=(const raw_tcp_server&) = delete;
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A port on 127.0.0.1 with nothing listening (bound, read back, closed).
std::uint16_t closed_port();

// Writes a fresh self-signed certificate for "localhost" and its key into dir; returns
// {cert path, key path}.
std::pair<std::string, std::string> make_self_signed_localhost(const std::string& dir);

}  // namespace cb::test
