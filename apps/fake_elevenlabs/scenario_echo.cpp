// echo: a greeting tone, then each caller turn is described in a user_transcript and played back
// in the agent's output format, so the caller hears its own audio return through the bridge.
#include <cmath>
#include <utility>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class echo_scenario final : public conversational_scenario {
 public:
  void start(scenario_context& ctx) override { say_greeting(ctx, false); }

  void user_message(scenario_context& ctx, const std::string& text) override {
    const auto& p = ctx.profile();
    agent_utterance answer;
    answer.event_id = ctx.next_event_id();
    answer.text = "You said: " + text;
    answer.audio = make_tone(p.reply_tone.frequency_hz, p.reply_tone.duration_ms, p.output.rate_hz);
    ctx.say(std::move(answer));
  }

 private:
  void answer_turn(scenario_context& ctx, completed_turn& turn, std::int64_t event_id) override {
    const auto& p = ctx.profile();
    ctx.send(elevenlabs::user_transcript_event{"heard " + describe_turn(turn), event_id});
    agent_utterance answer;
    answer.event_id = ctx.next_event_id();
    answer.text = "Echo of " + std::to_string(std::lround(turn.voiced_ms)) + " ms.";
    answer.audio = make_playback(std::move(turn.audio), p.input.rate_hz, p.output.rate_hz);
    ctx.say(std::move(answer));
  }
};

}  // namespace

std::unique_ptr<scenario> make_echo_scenario() {
  return std::make_unique<echo_scenario>();
}

}  // namespace cb::fake_elevenlabs
