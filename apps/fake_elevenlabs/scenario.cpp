#include "apps/fake_elevenlabs/scenario.hpp"

#include <fmt/format.h>

#include <cmath>
#include <utility>

namespace cb::fake_elevenlabs {
namespace {

// stall and refuse: the conversation never gets as far as starting a scenario.
class idle_scenario final : public scenario {
 public:
  void start(scenario_context& /*ctx*/) override {}
};

}  // namespace

void conversational_scenario::user_speaking(scenario_context& ctx, double voiced_ms) {
  const auto& p = ctx.profile();
  if (barge_in_id_ || !p.barge_in || voiced_ms < p.barge_in_ms || !ctx.agent_speaking()) return;
  const std::int64_t id = ctx.next_event_id();
  barge_in_id_ = id;
  ctx.interrupt(id);
  barged_in(ctx, id);
}

void conversational_scenario::user_turn(scenario_context& ctx, completed_turn& turn) {
  const std::int64_t id = barge_in_id_ ? *barge_in_id_ : ctx.next_event_id();
  barge_in_id_.reset();
  answer_turn(ctx, turn, id);
}

std::optional<std::int64_t> say_greeting(scenario_context& ctx, bool speech) {
  const auto& p = ctx.profile();
  if (!p.greeting) return std::nullopt;
  auto text = ctx.greeting_text();
  if (!text) return std::nullopt;
  agent_utterance greeting;
  greeting.event_id = ctx.next_event_id();
  greeting.audio =
      speech ? make_speech(*text, p.output.rate_hz)
             : make_tone(p.greeting->frequency_hz, p.greeting->duration_ms, p.output.rate_hz);
  greeting.text = std::move(*text);
  greeting.with_alignment = speech;
  const std::int64_t id = greeting.event_id;
  ctx.say(std::move(greeting));
  return id;
}

std::string describe_turn(const completed_turn& turn) {
  return fmt::format("{} ms at {} Hz", std::lround(turn.voiced_ms), std::lround(turn.frequency_hz));
}

std::unique_ptr<scenario> make_scenario(const agent_profile& profile) {
  switch (profile.scenario) {
    case scenario_kind::tone:
      return make_tone_scenario();
    case scenario_kind::echo:
      return make_echo_scenario();
    case scenario_kind::interrupt:
      return make_interrupt_scenario();
    case scenario_kind::end_call:
      return make_end_call_scenario();
    case scenario_kind::client_tool:
      return make_client_tool_scenario();
    case scenario_kind::error:
      return make_error_scenario();
    case scenario_kind::slow_reader:
      return make_slow_reader_scenario();
    case scenario_kind::transcript:
      return make_transcript_scenario();
    case scenario_kind::stall:
    case scenario_kind::refuse:
      break;
  }
  return std::make_unique<idle_scenario>();
}

}  // namespace cb::fake_elevenlabs
