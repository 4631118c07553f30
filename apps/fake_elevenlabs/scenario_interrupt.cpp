// interrupt: a long turn N sent in one burst; after interrupt_after_ms the agent sends
// interruption{N+1}, then a few more chunks of turn N (stale: the client must drop audio whose
// event_id is below the interruption's), then the new turn N+1 at another frequency.
#include <utility>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class interrupt_scenario final : public scenario {
 public:
  void start(scenario_context& ctx) override {
    const auto& p = ctx.profile();
    long_turn_id_ = ctx.next_event_id();
    agent_utterance long_turn;
    long_turn.event_id = long_turn_id_;
    long_turn.text =
        "Let me tell you the whole history of our company, starting with the very first day.";
    long_turn.audio =
        make_tone(p.long_turn.frequency_hz, p.long_turn.duration_ms, p.output.rate_hz);
    long_turn.whole_burst = true;
    ctx.say(std::move(long_turn));
    ctx.set_timer(std::chrono::milliseconds(p.interrupt_after_ms));
  }

  void timer(scenario_context& ctx) override {
    const auto& p = ctx.profile();
    const std::int64_t new_turn_id = ctx.next_event_id();
    ctx.interrupt(new_turn_id);
    const auto stale =
        make_tone(p.long_turn.frequency_hz, p.stale_chunks * p.chunk_ms, p.output.rate_hz);
    ctx.send_stale_audio(long_turn_id_, *stale, p.stale_chunks);
    agent_utterance answer;
    answer.event_id = new_turn_id;
    answer.text = "Sorry, go ahead.";
    answer.audio = make_tone(p.reply_tone.frequency_hz, p.reply_tone.duration_ms, p.output.rate_hz);
    ctx.say(std::move(answer));
  }

 private:
  std::int64_t long_turn_id_ = 0;
};

}  // namespace

std::unique_ptr<scenario> make_interrupt_scenario() {
  return std::make_unique<interrupt_scenario>();
}

}  // namespace cb::fake_elevenlabs
