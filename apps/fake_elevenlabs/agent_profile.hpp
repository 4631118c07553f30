// What a fake agent does: its scenario, its audio formats, its greeting and the knobs of each
// scenario. Agents come from a registry (server options, CLI --agent) or, for any other id, from
// the id itself: "<scenario>[.<input_format>[.<output_format>]]", e.g. "echo.pcm_16000.pcm_44100".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/audio_format.hpp"
#include "codecs/expected.hpp"
#include "protocol/elevenlabs_json_object.hpp"

namespace cb::fake_elevenlabs {

enum class scenario_kind : std::uint8_t {
  tone,         // greeting tone, answers each caller turn with a short tone
  echo,         // greeting tone, plays each caller turn back
  interrupt,    // long turn, interruption, stale chunks of the old turn, new turn
  end_call,     // greeting, end_call system tool, close 1000
  client_tool,  // greeting, client_tool_call, waits for client_tool_result
  error,        // greeting, error event, close with the error's code
  stall,        // accepts the socket, never sends metadata
  slow_reader,  // metadata and greeting, then stops reading the socket
  refuse,       // refuses the WebSocket upgrade (HTTP 403)
  transcript,   // chatty demo conversation with every kind of event
};

[[nodiscard]] std::string_view to_string(scenario_kind kind);
[[nodiscard]] std::optional<scenario_kind> parse_scenario_kind(std::string_view name);

// A steady tone the agent "says"; the caller's side measures its frequency and duration.
struct tone_spec {
  double frequency_hz = 440.0;
  int duration_ms = 2000;
};

struct agent_profile {
  std::string agent_id;
  scenario_kind scenario = scenario_kind::tone;
  codecs::audio_format input{codecs::encoding::pcm_s16le, 16000};   // user_input_audio_format
  codecs::audio_format output{codecs::encoding::pcm_s16le, 16000};  // agent_output_audio_format

  // The first turn, spoken right after metadata; nullopt: the agent waits for the caller. An init
  // message's agent.first_message override replaces the text ("" silences the greeting), and
  // {{name}} placeholders take the init message's dynamic variables.
  std::optional<tone_spec> greeting = tone_spec{};
  std::string greeting_text = "Hello! You are talking to the fake ElevenLabs agent.";

  // With an API key configured, a private agent needs a signed URL's conversation_signature (or
  // the key itself in an xi-api-key upgrade header); a public one needs nothing.
  bool is_public = false;
  // Dynamic variables the agent's prompt uses; a conversation whose init message lacks one ends
  // with 1008 missing_dynamic_variable, as the real service does.
  std::vector<std::string> required_dynamic_variables;
  // When false, an init message carrying conversation_config_override ends with 1008
  // override_error (overrides not enabled in the agent's security settings).
  bool overrides_allowed = true;

  // Outgoing audio: chunk length, what is sent at once when a turn starts, and how much faster
  // than real time the rest follows. The real agent also streams faster than real time.
  int chunk_ms = 250;
  int burst_ms = 1000;
  double speed = 2.0;
  // Stamp the send time into the first samples of every 20 ms of agent audio (linear PCM only),
  // as apps/callsim/audio_stamp.hpp defines, so the caller can measure the downlink delay.
  bool stamp_audio = false;

  // Caller turn detection on the uplink: 20 ms windows louder than the threshold are speech; a
  // turn ends after turn_silence_ms of quiet. Speech lasting barge_in_ms while the agent is still
  // talking interrupts it (barge_in).
  int window_ms = 20;
  double vad_threshold_dbfs = -40.0;
  int turn_silence_ms = 500;
  bool barge_in = true;
  int barge_in_ms = 300;

  // tone: the answer to a caller turn. interrupt: the new turn after the interruption.
  tone_spec reply_tone{880.0, 400};
  // interrupt: the long first turn (sent in one burst), when the interruption comes, and how many
  // stale chunks of the old turn follow it.
  tone_spec long_turn{440.0, 5000};
  int interrupt_after_ms = 1000;
  int stale_chunks = 3;

  // client_tool: the tool the agent asks the client to run.
  std::string tool_name = "lookup_order";
  elevenlabs::json_object tool_parameters;  // {"order_id":"42"} by default (see make_profile)

  // error: what is sent and the close code that follows; flat_error sends the quota shape
  // {"type":"error","message":...} without error_event.
  int error_code = 1002;
  std::string error_type = "llm_timeout";
  std::string error_message = "The LLM did not respond within 20 seconds.";
  bool flat_error = false;
  std::string error_close_reason;  // empty: the message (cut to the 123 bytes a close frame holds)
  // error, end_call: pause between the greeting being sent and the action.
  int action_delay_ms = 300;
};

// The defaults of a scenario (tool parameters, error details per code variant...).
[[nodiscard]] agent_profile make_profile(std::string agent_id, scenario_kind scenario);

// The agent-id convention. The scenario part also accepts error_1002, error_1008, error_1011 and
// error_quota. Unknown scenario or format names give nullopt.
[[nodiscard]] std::optional<agent_profile> profile_from_agent_id(std::string_view agent_id);

// A CLI agent spec "<id>=<scenario>[,key=value...]", where <scenario> follows the agent-id
// convention and the keys are: in, out, tone, ms (greeting tone; ms=0 for no greeting), text,
// public, require (dynamic variables joined by '+'), overrides, chunk_ms, burst_ms, speed, stamp,
// vad_dbfs, silence_ms, barge_in, barge_in_ms, reply_tone, reply_ms, long_tone, long_ms,
// interrupt_ms, stale, tool, arg.<name> (a string tool parameter), code, type, message, flat,
// delay_ms.
[[nodiscard]] expected<agent_profile, std::string> parse_agent_spec(std::string_view spec);

}  // namespace cb::fake_elevenlabs
