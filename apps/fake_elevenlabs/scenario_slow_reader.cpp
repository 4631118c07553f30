// slow_reader: metadata and the greeting, then the agent stops reading its socket, so whatever the
// client sends backs up in the kernel buffers and then in the client.
#include "apps/fake_elevenlabs/scenario.hpp"

namespace cb::fake_elevenlabs {
namespace {

class slow_reader_scenario final : public scenario {
 public:
  void start(scenario_context& ctx) override {
    say_greeting(ctx, false);
    ctx.stop_reading();
  }
};

}  // namespace

std::unique_ptr<scenario> make_slow_reader_scenario() {
  return std::make_unique<slow_reader_scenario>();
}

}  // namespace cb::fake_elevenlabs
