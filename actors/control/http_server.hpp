// The control API's libwebsockets server: HTTP and WebSocket on one port (optionally TLS), in its
// own service thread. It never waits for an actor: requests and WebSocket events go to the owner
// actor as messages (caf::anon_send), and answers come back through a mutex-guarded queue plus
// lws_cancel_service(), the only cross-thread lws call. Any thread may call respond, send, close,
// subscribe and publish.
//
// The server enforces the transport limits itself (413 for bodies over the limit, 1009 for
// oversized WebSocket messages, 1008 for a client that stops reading its answers) and fans the
// streams out: publish() and the log sink hand one message to the service thread, which queues it
// for every subscribed client. Each client's queue is bounded: stream messages that do not fit are
// dropped for that client (it later gets {"type":"dropped","count":N}), so a slow dashboard costs
// bounded memory and never slows anyone else down.
//
// Events to the owner: http_request (answer each with respond(), exactly once), ws_connected, then
// any number of ws_received, then ws_disconnected.
#pragma once

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/log.hpp"
#include "codecs/expected.hpp"
#include "protocol/control_api.hpp"

namespace cb::control {

struct http_request {
  std::uint64_t id = 0;
  std::string method;  // "GET", "POST", "DELETE", ...
  std::string path;    // percent-decoded
  api::field_list query;
  std::string content_type;
  std::string authorization;
  std::string signature;  // the ElevenLabs-Signature header
  std::string body;
  std::string peer;  // the client's address, for logs
};

struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. WWW-Authenticate
};

struct ws_connected {
  std::uint64_t conn = 0;
  std::string authorization;  // the upgrade request's Authorization header
  std::string peer;
};

struct ws_received {
  std::uint64_t conn = 0;
  std::string text;
};

struct ws_disconnected {
  std::uint64_t conn = 0;
};

// What one WebSocket client receives of the streams.
struct subscription {
  std::array<bool, api::stream_count> streams{};
  log_level min_level = log_level::info;  // of the logs stream
  std::string call;  // logs, events and transcripts of this call only; empty: all
};

struct http_server_options {
  std::string bind = "0.0.0.0";  // an address or an interface name
  std::uint16_t port = 0;        // 0: an ephemeral port (port() tells which)
  std::string tls_cert;          // PEM paths; both set: HTTPS and WSS
  std::string tls_key;
  std::size_t max_body = std::size_t{1} << 20;
  // POST /webhooks/elevenlabs: a post_call_audio webhook carries the whole call's audio.
  std::size_t max_webhook_body = std::size_t{32} << 20;
  std::size_t max_ws_message = std::size_t{1} << 20;
  // Bytes waiting to be written to one WebSocket client.
  std::size_t max_client_queue = std::size_t{4} << 20;
  // Log records waiting for the service thread; beyond it records are dropped, never waited for.
  std::size_t max_pending_logs = 4096;
  // A request the owner has not answered by then is dropped with its connection.
  std::chrono::seconds request_timeout{30};
};

class http_server {
 public:
  struct stats {
    std::uint64_t http_requests = 0;
    std::uint64_t websocket_clients = 0;  // open now
    std::uint64_t stream_messages_dropped = 0;
    std::uint64_t log_records_dropped = 0;
    std::uint64_t clients_dropped = 0;  // closed for not reading their answers
  };

  explicit http_server(http_server_options options);
  ~http_server();  // stops and joins if still running
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds, installs the log sink and starts the service thread; returns the bound port, or why
  // it could not listen (address in use, unreadable certificate, ...).
  expected<std::uint16_t, std::string> start(caf::actor owner);
  // Removes the log sink, closes every connection, destroys the context from the service thread
  // and joins it. Later calls do nothing.
  void stop();

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] bool tls() const;

  void respond(std::uint64_t request, http_reply reply);
  // A WebSocket message (an answer: never dropped, but a client whose queue stays full is closed).
  void send(std::uint64_t conn, std::string text);
  void close(std::uint64_t conn, std::uint16_t code, std::string reason);
  void subscribe(std::uint64_t conn, subscription sub);
  // One message for every client subscribed to the stream (and to this call, when it follows one).
  void publish(api::stream s, std::string call_id, std::string text);
  [[nodiscard]] bool has_subscribers(api::stream s) const;

  [[nodiscard]] stats snapshot() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace cb::control

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::control::http_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::control::ws_connected)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::control::ws_received)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::control::ws_disconnected)
