// A WebSocket client for the tests, on libwebsockets like the bridge: its own context and service
// thread, a mutex queue plus lws_cancel_service for sends. It answers pings itself (optionally
// with a wrong id) and keeps every server event with its arrival time.
#pragma once

#include <libwebsockets.h>
#include <lws_config.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apps/fake_elevenlabs/conversation_record.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace cb::fake_elevenlabs::test {

struct received_event {
  std::string json;
  clock::time_point at;
  std::optional<elevenlabs::server_event> event;  // nullopt when it did not parse
};

struct client_options {
  std::uint16_t port = 0;
  std::string path;         // e.g. "/v1/convai/conversation?agent_id=echo"
  std::string subprotocol;  // empty: none
  std::vector<std::pair<std::string, std::string>> headers;  // extra handshake headers
  bool answer_pings = true;
  std::int64_t pong_id_offset = 0;  // non-zero: answer pings with a wrong event_id
};

class ws_test_client {
 public:
  explicit ws_test_client(client_options options);
  ~ws_test_client();
  ws_test_client(const ws_test_client&) = delete;
  ws_test_client& operator=(const ws_test_client&) = delete;
  ws_test_client(ws_test_client&&) = delete;
  ws_test_client& operator=(ws_test_client&&) = delete;

  // True once the upgrade succeeded; false when it failed or timed out.
  [[nodiscard]] bool wait_connected(std::chrono::milliseconds timeout);
  void send(std::string text);
  // Sends a close frame (after what is queued) and lets the server answer it.
  void close(int code, std::string reason);

  [[nodiscard]] std::vector<received_event> events() const;
  [[nodiscard]] bool wait_for(const std::function<bool(const std::vector<received_event>&)>& done,
                              std::chrono::milliseconds timeout) const;
  [[nodiscard]] bool wait_closed(std::chrono::milliseconds timeout) const;
  [[nodiscard]] std::optional<close_frame> server_close() const;  // the server's close frame

 private:
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
  int on_event(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);
  void run();

  client_options options_;
  lws_context* context_ = nullptr;
  lws* wsi_ = nullptr;  // service thread only
  std::thread thread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool connected_ = false;
  bool failed_ = false;
  bool closed_ = false;
  std::atomic<bool> stopping_{false};
  std::array<lws_protocols, 2> protocols_{};
  std::deque<std::pair<bool, std::string>> outgoing_;  // (is close frame, text or reason)
  int close_code_ = 0;
  std::vector<received_event> events_;
  std::optional<close_frame> server_close_;
  std::string rx_;
};

}  // namespace cb::fake_elevenlabs::test
