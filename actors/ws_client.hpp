// The libwebsockets client service: one service thread carries every call's ElevenLabs WebSocket
// and the signed-URL HTTPS requests. Any thread may call connect/http_get/send_text/close; the
// calls only queue a command and wake the thread (lws_cancel_service). Outcomes arrive at the
// owner actor as the events of actors/ws_events.hpp.
//
// Event contract, per id:
//   connect:  ws_opened, then any number of ws_text, then exactly one ws_closed; or one ws_failed
//             (before or after ws_opened: queue overflow and oversized messages fail an open
//             connection too). After the owner calls close(), nothing more is delivered.
//   http_get: exactly one http_response.
//   stop():   every connection or request still pending gets its terminal event (ws_closed 1001,
//             ws_failed or http_response with error "client stopped").
// Call stop() (or destroy the ws_client) before the caf::actor_system goes away: the client holds
// the owners' handles.
#pragma once

#include <caf/actor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/ws_events.hpp"
#include "codecs/expected.hpp"

namespace cb {

struct ws_client_options {
  // Extra CA bundle (PEM) trusted on top of OpenSSL's default verify paths (/etc/ssl/certs).
  std::string ca_file;
  // Tests only: accept self-signed certificates and skip the hostname check.
  bool allow_self_signed = false;
  // Per connection: bytes waiting to be written beyond which the peer is deemed not to be reading
  // and the connection fails instead of growing without bound.
  std::size_t max_queued_bytes = std::size_t{1} << 20;
  // Per connection: bytes of stream messages (send_stream: live audio) waiting to be written
  // beyond which the oldest of them are dropped. Late audio is worth nothing to the agent, and a
  // peer or a bridge that falls behind must not build seconds of backlog. 64 KiB is about 1.4 s
  // of 16 kHz user_audio_chunk messages.
  std::size_t max_stream_bytes = std::size_t{64} << 10;
  // Largest incoming message (after reassembly) before the connection fails.
  std::size_t max_message_bytes = std::size_t{16} << 20;
  // Largest HTTP response body http_get accepts.
  std::size_t max_http_body_bytes = std::size_t{64} << 10;
  // From connect/http_get until the handshake completes (WebSocket) or the response is complete.
  std::chrono::milliseconds connect_timeout{10000};
  // From close() until the connection is torn down even if the close handshake has not finished.
  std::chrono::milliseconds close_timeout{2000};
  // After a busy service pass (many callbacks: many calls streaming), pause this long so the next
  // pass finds more work: lws's poll() walks every socket on each wake-up, and one wake-up per
  // outgoing audio chunk made poll the bridge's largest cost at 200 calls. Adds at most this much
  // to a busy bridge's uplink latency; an idle one is never paused. 0: never pause.
  std::chrono::microseconds busy_pause{1000};
};

struct parsed_url {
  bool tls = false;
  std::string host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 0;
  std::string path_and_query;  // starts with '/', fragment removed
};

// ws:// wss:// http:// https:// (scheme case-insensitive) with default ports 80/443, IPv6 literals
// in brackets, and "/" when the path is empty. No user-info, no fragments kept.
expected<parsed_url, std::string> parse_url(std::string_view url);

// The WebSocket base for a REST base URL: https→wss, http→ws, host, port and path prefix kept,
// trailing slashes removed. ws:// and wss:// are returned unchanged (minus trailing slashes).
std::string websocket_url_from_base(std::string_view base_url);

using http_headers = std::vector<std::pair<std::string, std::string>>;

class ws_client {
 public:
  struct stats {
    std::uint64_t open_connections = 0;  // WebSockets between ws_opened and their end
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint64_t bytes_queued = 0;  // accepted by send_text, not yet handed to the socket
    std::uint64_t connect_failures = 0;
    std::uint64_t stream_messages_dropped = 0;  // the oldest live messages, dropped as too late
  };

  explicit ws_client(ws_client_options options = {});
  ~ws_client();  // stops and joins if still running
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Creates the lws context (client only) and the service thread. Throws std::runtime_error if
  // libwebsockets cannot create its context (e.g. an unreadable ca_file).
  void start();
  // Closes every connection (1001 going away), ends the loop, destroys the context from the
  // service thread and joins it. Later calls are answered at once with failures.
  void stop();

  // Return the id at once; the outcome arrives at `owner`. Headers are sent verbatim on the
  // upgrade/GET request and never logged; a header containing CR or LF fails the request.
  std::uint64_t connect(const std::string& url, http_headers headers, caf::actor owner);
  std::uint64_t http_get(const std::string& url, http_headers headers, caf::actor owner);
  // Queued and written in order, one message per WRITEABLE; ignored for unknown or ended ids.
  void send_text(std::uint64_t conn, std::string text);
  // The same for a real-time message (an audio chunk): in order with the others, but when more
  // than max_stream_bytes of stream messages wait, the oldest of them are dropped.
  void send_stream(std::uint64_t conn, std::string text);
  // Writes what is already queued, then a close frame with code and reason; no further events.
  void close(std::uint64_t conn, std::uint16_t code, std::string reason);

  [[nodiscard]] stats snapshot() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace cb
