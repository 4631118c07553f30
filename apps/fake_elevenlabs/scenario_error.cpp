// error: the greeting, then (action_delay_ms after it was sent) an error event in the nested
// error_event shape, or the flat quota shape, followed by a close frame with the error's code.
#include <chrono>

#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class error_scenario final : public scenario {
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
    const auto& p = ctx.profile();
    const std::string& reason =
        p.error_close_reason.empty() ? p.error_message : p.error_close_reason;
    elevenlabs::error_event error;
    error.message = p.error_message;
    if (p.flat_error) {
      error.shape = elevenlabs::error_shape::flat;
    } else {
      error.shape = elevenlabs::error_shape::nested;
      error.code = p.error_code;
      error.error_type = p.error_type;
      error.reason = reason;
    }
    ctx.fail(error, p.error_code, reason);
  }

 private:
  std::optional<std::int64_t> greeting_id_;
};

}  // namespace

std::unique_ptr<scenario> make_error_scenario() {
  return std::make_unique<error_scenario>();
}

}  // namespace cb::fake_elevenlabs
