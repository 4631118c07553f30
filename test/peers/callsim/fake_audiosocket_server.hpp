// The server end of the simulator's tests: listens on 127.0.0.1 (an ephemeral port), serves each
// connection on its own thread, logs every frame with its arrival time, and optionally talks back
// the way a bridge would (paced tones, a hangup) or the way a broken one would (raw bytes).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "protocol/audiosocket.hpp"

namespace cb::callsim::testing {

struct server_frame {
  audiosocket::kind k = audiosocket::kind::hangup;
  std::vector<std::uint8_t> payload;
  std::int64_t arrival_ns = 0;
};

struct connection_log {
  std::int64_t accepted_ns = 0;
  std::vector<server_frame> frames;
  bool eof = false;    // the simulator closed
  bool reset = false;  // ECONNRESET
  std::int64_t closed_ns = 0;

  [[nodiscard]] std::optional<audiosocket::call_id> id() const;
  [[nodiscard]] std::vector<const server_frame*> audio() const;
  [[nodiscard]] std::vector<std::int16_t> samples() const;
};

// 20 ms frames of a tone, 0x10 unless kind says otherwise.
struct tone_segment {
  double frequency_hz = 1000.0;
  int frames = 50;
  bool stamp = false;
  audiosocket::kind kind = audiosocket::kind::slin_8k;
};

struct server_behaviour {
  // Played from accept, one frame per 20 ms against absolute deadlines.
  std::vector<tone_segment> play;
  enum class then : std::uint8_t { keep_reading, send_hangup, close };
  then after_play = then::keep_reading;
  // Written once, right after the first audio frame from the simulator arrives.
  std::vector<std::uint8_t> after_first_audio;
};

class fake_audiosocket_server {
 public:
  explicit fake_audiosocket_server(server_behaviour behaviour = {});
  ~fake_audiosocket_server();
  fake_audiosocket_server(const fake_audiosocket_server&) = delete;
  fake_audiosocket_server& operator=(const fake_audiosocket_server&) = delete;
  fake_audiosocket_server(fake_audiosocket_server&&) = delete;
  fake_audiosocket_server& operator=(fake_audiosocket_server&&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

  // The logs of the first n connections to end, once n have; empty on timeout.
  [[nodiscard]] std::vector<connection_log> wait_for(std::size_t n,
                                                     std::chrono::milliseconds timeout);

 private:
  void accept_loop();
  void serve(int fd);

  const server_behaviour behaviour_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;

  std::mutex mutex_;
  std::condition_variable done_cv_;
  std::vector<std::thread> sessions_;
  std::vector<int> open_fds_;
  std::vector<connection_log> done_;
};

}  // namespace cb::callsim::testing
