// One agent WebSocket conversation on the lws service thread: the protocol side of the fake
// agent. It sends metadata (on the init message or after the init timeout), pings and matches
// pongs, parses every client frame (user_audio_chunk on the allocation-light path), analyses the
// caller's audio, paces the agent's audio faster than real time, and closes like the real service
// (error event, then a close frame). What the scenario says is up to the scenario.
#pragma once

#include <libwebsockets.h>
#include <lws_config.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "apps/fake_elevenlabs/agent_profile.hpp"
#include "apps/fake_elevenlabs/pacing_grid.hpp"
#include "apps/fake_elevenlabs/record_store.hpp"
#include "apps/fake_elevenlabs/scenario.hpp"
#include "apps/fake_elevenlabs/uplink_analyzer.hpp"
#include "protocol/elevenlabs_client_messages.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace cb::fake_elevenlabs {

// What the server lends every conversation; all of it lives as long as the server.
struct conversation_env {
  lws_context* context = nullptr;
  record_store* records = nullptr;
  lws_grid_timers* pacing = nullptr;  // the agent audio's pacing timers
  std::chrono::milliseconds ping_interval{2000};
  std::chrono::milliseconds init_timeout{1000};
  const std::function<void(std::string_view)>* log = nullptr;  // empty function: no logging
  bool verbose = false;
  std::mt19937_64* rng = nullptr;
  const std::atomic<bool>* stopping = nullptr;
};

// Frames larger than this end the conversation with 1009 (the Python SDK's own limit is 16 MiB).
inline constexpr std::size_t max_frame_bytes = std::size_t{16} << 20U;

class conversation final : public scenario_context, private grid_timer_target {
 public:
  conversation(const conversation_env& env, lws* wsi, agent_profile profile,
               std::string conversation_id, std::size_t record_index);
  ~conversation() override;
  conversation(const conversation&) = delete;
  conversation& operator=(const conversation&) = delete;
  conversation(conversation&&) = delete;
  conversation& operator=(conversation&&) = delete;

  // lws events, in the order they come.
  void established();
  void receive(const void* in, std::size_t len);  // one piece of a frame
  // Writes one queued frame; -1 tells lws to close (after a close frame).
  [[nodiscard]] int writeable();
  void peer_closing(const std::uint8_t* payload, std::size_t len);
  void closed();

  // scenario_context
  [[nodiscard]] const agent_profile& profile() const override { return profile_; }
  std::int64_t next_event_id() override { return ++last_event_id_; }
  [[nodiscard]] std::optional<std::string> greeting_text() const override;
  void say(agent_utterance utterance) override;
  void send(const elevenlabs::server_event& event) override;
  void send_json(std::string json) override;
  void interrupt(std::int64_t event_id) override;
  void send_stale_audio(std::int64_t event_id, audio_source& source, int chunks) override;
  void fail(const elevenlabs::error_event& error, int code, std::string_view reason) override;
  void close(int code, std::string_view reason) override;
  void set_timer(std::chrono::milliseconds delay) override;
  void stop_reading() override;
  [[nodiscard]] bool agent_speaking() const override;
  [[nodiscard]] std::string random_id(std::string_view prefix) override;
  void log(std::string_view line) override;

 private:
  // A timer the lws loop fires on this thread; the sul must stay the first member (the callback
  // gets its address back).
  struct timer_slot {
    lws_sorted_usec_list_t sul{};
    conversation* owner = nullptr;
    void (conversation::*fire)() = nullptr;
  };

  enum class frame_kind : std::uint8_t { text, ping, interruption, close };
  struct outgoing {
    std::string frame;  // LWS_PRE bytes of headroom, then the payload (the reason, for close)
    frame_kind kind = frame_kind::text;
    std::int64_t id = 0;  // ping event id; close code
  };

  struct playing_turn {
    agent_utterance utterance;
    clock::time_point started_at;
    double sent_ms = 0;
    double total_ms = 0;
    std::size_t record_turn = 0;
  };

  static void on_timer(lws_sorted_usec_list_t* sul);
  void arm(timer_slot& slot, std::chrono::microseconds delay) const;
  // Every timer of the conversation, its pacing included: it is closing or gone.
  void cancel_timers();
  void init_timeout_fired();
  void ping_fired();
  void grid_timer_fired() override;  // pacing
  void scenario_fired();

  void handle_frame();
  void handle_message(elevenlabs::client_message& message);
  void handle_audio(const std::vector<std::uint8_t>& audio);
  void handle_init(elevenlabs::conversation_initiation_client_data& init);
  void handle_pong(std::int64_t event_id);
  void reject_frame(std::string_view what);
  void send_metadata();

  void start_next_turn();
  void pump_turn();
  void send_chunk(std::int64_t event_id, audio_source& source, const std::string* align_text,
                  double offset_ms, double total_ms);
  [[nodiscard]] std::string* new_frame(frame_kind kind, std::int64_t id = 0);
  void queue_event(const elevenlabs::server_event& event, frame_kind kind = frame_kind::text,
                   std::int64_t id = 0);
  void log_event(std::string_view direction, std::string_view text, bool verbose_only = false);
  [[nodiscard]] bool logging() const { return env_.log != nullptr && *env_.log; }
  template <class F>
  void update(F&& f) {
    env_.records->update(record_index_, std::forward<F>(f));
  }

  conversation_env env_;
  lws* wsi_;
  agent_profile profile_;
  std::string conversation_id_;
  std::size_t record_index_;
  std::unique_ptr<scenario> scenario_;
  uplink_analyzer analyzer_;

  timer_slot init_timer_;
  timer_slot ping_timer_;
  timer_slot scenario_timer_;

  // Receive side: the frame being reassembled, a copy to parse in place, the decoded audio.
  std::string rx_;
  std::string parse_buffer_;
  std::vector<std::uint8_t> audio_in_;
  bool rx_binary_ = false;
  bool odd_size_reported_ = false;

  // Send side.
  std::deque<outgoing> tx_;
  std::deque<agent_utterance> pending_turns_;
  std::optional<playing_turn> turn_;
  clock::time_point playout_end_{};
  std::vector<std::int16_t> chunk_samples_;
  elevenlabs::audio_event audio_out_;

  std::optional<elevenlabs::conversation_initiation_client_data> init_;
  bool metadata_sent_ = false;
  bool started_ = false;
  bool closing_ = false;  // a close frame is queued or was received: nothing more is sent
  std::int64_t last_event_id_ = 0;
  std::int64_t last_ping_id_ = 0;
  std::optional<std::int64_t> last_rtt_ms_;
  struct outstanding_ping {
    std::int64_t id;
    std::optional<clock::time_point> written_at;
  };
  std::vector<outstanding_ping> outstanding_pings_;
  std::vector<std::string> tool_call_ids_;
};

}  // namespace cb::fake_elevenlabs
