// A scenario is the agent's behaviour after conversation_initiation_metadata: what it says and
// how it reacts to the caller. The conversation runs the protocol (metadata, pings, parsing,
// pacing of audio, closing) and offers scenarios the actions below; scenarios run on the lws
// service thread and never block.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "apps/fake_elevenlabs/agent_audio.hpp"
#include "apps/fake_elevenlabs/agent_profile.hpp"
#include "apps/fake_elevenlabs/uplink_analyzer.hpp"
#include "protocol/elevenlabs_client_messages.hpp"
#include "protocol/elevenlabs_server_events.hpp"

namespace cb::fake_elevenlabs {

// One agent turn: agent_response text (sent with the first audio) and its audio.
struct agent_utterance {
  std::int64_t event_id = 0;
  std::string text;                     // empty: no agent_response
  std::unique_ptr<audio_source> audio;  // null: text only
  bool with_alignment = false;          // per-character timing of `text` on each audio event
  bool whole_burst = false;             // all audio at once instead of paced
};

class scenario_context {
 public:
  scenario_context() = default;
  scenario_context(const scenario_context&) = delete;
  scenario_context& operator=(const scenario_context&) = delete;
  scenario_context(scenario_context&&) = delete;
  scenario_context& operator=(scenario_context&&) = delete;
  virtual ~scenario_context() = default;

  [[nodiscard]] virtual const agent_profile& profile() const = 0;
  // The next turn id; user and agent turns share the counter, as on the real service.
  virtual std::int64_t next_event_id() = 0;
  // The greeting's text after the init message's first_message override and {{variables}};
  // nullopt when the override silenced it.
  [[nodiscard]] virtual std::optional<std::string> greeting_text() const = 0;

  // Queues a turn; turns are spoken one after another.
  virtual void say(agent_utterance utterance) = 0;
  // Sends an event now (after what is already queued).
  virtual void send(const elevenlabs::server_event& event) = 0;
  // Sends an event the protocol layer does not model (events the client must ignore).
  virtual void send_json(std::string json) = 0;
  // Stops the current turn, drops queued ones and sends interruption{event_id}.
  virtual void interrupt(std::int64_t event_id) = 0;
  // Sends `chunks` audio chunks of `source` with an old event_id, at once (stale audio).
  virtual void send_stale_audio(std::int64_t event_id, audio_source& source, int chunks) = 0;
  // Sends the error event and closes with `code` (the close reason is the message, shortened).
  virtual void fail(const elevenlabs::error_event& error, int code, std::string_view reason) = 0;
  // Closes with a close frame once everything queued is written.
  virtual void close(int code, std::string_view reason) = 0;
  // One-shot scenario timer; arming it again replaces the pending one.
  virtual void set_timer(std::chrono::milliseconds delay) = 0;
  // Stops reading the socket; the client's writes back up.
  virtual void stop_reading() = 0;
  // Whether the caller is still hearing the agent (by the real-time playout of what was sent).
  [[nodiscard]] virtual bool agent_speaking() const = 0;
  // A fresh random id: prefix + alphanumerics.
  [[nodiscard]] virtual std::string random_id(std::string_view prefix) = 0;
  virtual void log(std::string_view line) = 0;
};

class scenario {
 public:
  scenario() = default;
  scenario(const scenario&) = delete;
  scenario& operator=(const scenario&) = delete;
  scenario(scenario&&) = delete;
  scenario& operator=(scenario&&) = delete;
  virtual ~scenario() = default;

  // conversation_initiation_metadata has been sent.
  virtual void start(scenario_context& ctx) = 0;
  // The caller is speaking (called per audio chunk during a turn, with the voiced time so far).
  virtual void user_speaking(scenario_context& /*ctx*/, double /*voiced_ms*/) {}
  virtual void user_turn(scenario_context& /*ctx*/, completed_turn& /*turn*/) {}
  virtual void user_message(scenario_context& /*ctx*/, const std::string& /*text*/) {}
  virtual void tool_result(scenario_context& /*ctx*/,
                           const elevenlabs::client_tool_result& /*result*/) {}
  // All audio of turn event_id has been queued.
  virtual void turn_sent(scenario_context& /*ctx*/, std::int64_t /*event_id*/) {}
  virtual void timer(scenario_context& /*ctx*/) {}
};

// Scenarios that listen: a caller turn gets its own event id (the interruption's when the caller
// barged in), and speech that lasts while the agent talks interrupts it.
class conversational_scenario : public scenario {
 public:
  void user_speaking(scenario_context& ctx, double voiced_ms) override;
  void user_turn(scenario_context& ctx, completed_turn& turn) final;

 protected:
  // The caller's turn, with the event id its user_transcript must carry.
  virtual void answer_turn(scenario_context& ctx, completed_turn& turn, std::int64_t event_id) = 0;
  // Called when the caller's speech interrupted agent turn `interrupted_id`.
  virtual void barged_in(scenario_context& /*ctx*/, std::int64_t /*interruption_id*/) {}

 private:
  std::optional<std::int64_t> barge_in_id_;
};

// Speaks the profile's greeting (a tone, or speech-like audio for `speech`) and returns its
// event id; nullopt when there is none.
std::optional<std::int64_t> say_greeting(scenario_context& ctx, bool speech);

// "<ms> ms at <hz> Hz", as echo and tone transcripts describe a caller turn.
[[nodiscard]] std::string describe_turn(const completed_turn& turn);

std::unique_ptr<scenario> make_tone_scenario();
std::unique_ptr<scenario> make_echo_scenario();
std::unique_ptr<scenario> make_interrupt_scenario();
std::unique_ptr<scenario> make_end_call_scenario();
std::unique_ptr<scenario> make_client_tool_scenario();
std::unique_ptr<scenario> make_error_scenario();
std::unique_ptr<scenario> make_slow_reader_scenario();
std::unique_ptr<scenario> make_transcript_scenario();

// The scenario of a profile. stall and refuse never reach start(): the conversation sends no
// metadata, or the upgrade is refused.
[[nodiscard]] std::unique_ptr<scenario> make_scenario(const agent_profile& profile);

}  // namespace cb::fake_elevenlabs
