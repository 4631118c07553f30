// end_call: the greeting, then (action_delay_ms after it was sent) the agent hangs up as the real
// one does: agent_tool_response for the end_call system tool, then a close frame 1000.
#include <chrono>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

// Between the tool response and the close frame.
constexpr std::chrono::milliseconds close_after_tool{200};

class end_call_scenario final : public scenario {
 public:
  void start(scenario_context& ctx) override {
    greeting_id_ = say_greeting(ctx, false);
    if (!greeting_id_) ctx.set_timer(std::chrono::milliseconds(ctx.profile().action_delay_ms));
  }

  void turn_sent(scenario_context& ctx, std::int64_t event_id) override {
    if (greeting_id_ && event_id == *greeting_id_) {
      ctx.set_timer(std::chrono::milliseconds(ctx.profile().action_delay_ms));
    }
  }

  void timer(scenario_context& ctx) override {
    if (tool_sent_) {
      ctx.close(1000, "Agent ended the call");
      return;
    }
    tool_sent_ = true;
    elevenlabs::agent_tool_response_event end_call;
    end_call.tool_name = "end_call";
    end_call.tool_call_id = ctx.random_id("toolu_");
    end_call.tool_type = "system";
    end_call.is_error = false;
    end_call.is_called = true;
    end_call.event_id = greeting_id_ ? *greeting_id_ : ctx.next_event_id();
    ctx.send(end_call);
    ctx.set_timer(close_after_tool);
  }

 private:
  std::optional<std::int64_t> greeting_id_;
  bool tool_sent_ = false;
};

}  // namespace

std::unique_ptr<scenario> make_end_call_scenario() {
  return std::make_unique<end_call_scenario>();
}

}  // namespace cb::fake_elevenlabs
