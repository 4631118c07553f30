// client_tool: after the greeting the agent asks the client to run a tool (client_tool_call) and
// answers the client_tool_result it gets back; the conversation records the result.
#include <utility>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class client_tool_scenario final : public scenario {
 public:
  void start(scenario_context& ctx) override {
    greeting_id_ = say_greeting(ctx, false);
    if (!greeting_id_) call(ctx);
  }

  void turn_sent(scenario_context& ctx, std::int64_t event_id) override {
    if (greeting_id_ && event_id == *greeting_id_) call(ctx);
  }

  void tool_result(scenario_context& ctx, const elevenlabs::client_tool_result& result) override {
    const auto& p = ctx.profile();
    agent_utterance answer;
    answer.event_id = ctx.next_event_id();
    answer.text = (result.is_error ? "The tool failed: " : "The tool returned: ") + result.result;
    answer.audio = make_tone(p.reply_tone.frequency_hz, p.reply_tone.duration_ms, p.output.rate_hz);
    ctx.say(std::move(answer));
  }

 private:
  static void call(scenario_context& ctx) {
    const auto& p = ctx.profile();
    elevenlabs::client_tool_call_event tool_call;
    tool_call.tool_name = p.tool_name;
    tool_call.tool_call_id = ctx.random_id("call_");
    tool_call.parameters = p.tool_parameters;
    tool_call.event_id = ctx.next_event_id();
    ctx.send(tool_call);
  }

  std::optional<std::int64_t> greeting_id_;
};

}  // namespace

std::unique_ptr<scenario> make_client_tool_scenario() {
  return std::make_unique<client_tool_scenario>();
}

}  // namespace cb::fake_elevenlabs
