// tone: a greeting tone, then each caller turn (or user_message) is answered with a short tone.
#include <utility>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class tone_scenario final : public conversational_scenario {
 public:
  void start(scenario_context& ctx) override { say_greeting(ctx, false); }

  void user_message(scenario_context& ctx, const std::string& /*text*/) override {
    reply(ctx, ctx.next_event_id());
  }

 private:
  void answer_turn(scenario_context& ctx, completed_turn& turn, std::int64_t event_id) override {
    ctx.send(elevenlabs::user_transcript_event{"heard " + describe_turn(turn), event_id});
    reply(ctx, ctx.next_event_id());
  }

  static void reply(scenario_context& ctx, std::int64_t event_id) {
    const auto& p = ctx.profile();
    agent_utterance answer;
    answer.event_id = event_id;
    answer.text = "Beep.";
    answer.audio = make_tone(p.reply_tone.frequency_hz, p.reply_tone.duration_ms, p.output.rate_hz);
    ctx.say(std::move(answer));
  }
};

}  // namespace

std::unique_ptr<scenario> make_tone_scenario() {
  return std::make_unique<tone_scenario>();
}

}  // namespace cb::fake_elevenlabs
