#include "test/integration/harness.hpp"

#include <caf/io/middleman.hpp>

#include <catch2/catch.hpp>

#include "actors/log.hpp"
#include "actors/types.hpp"

namespace cb::test {

harness::harness(harness_options options) {
  fake_elevenlabs::server_options agent_options;
  agent_options.api_key = options.agent_api_key;
  agent_options.ping_interval = std::chrono::milliseconds(500);
  const auto agent_port = agent.start(agent_options);
  REQUIRE(agent_port.has_value());

  config = std::make_shared<settings>();
  config->elevenlabs_base_url = "http://127.0.0.1:" + std::to_string(*agent_port);
  config->elevenlabs_api_key = options.agent_api_key;
  config->elevenlabs_agent_id = "tone.pcm_16000.pcm_16000";
  config->metadata_timeout = options.metadata_timeout;
  config->audiosocket_host = "127.0.0.1";
  config->audiosocket_port = 0;
  config->audiosocket_port_enabled = true;
  config->audiosocket_port_min = options.pool_first;
  config->audiosocket_port_max = options.pool_last;
  config->prepared_call_timeout = options.prepared_call_timeout;
  config->port_bindings = options.port_bindings;
  log::configure(log_level::warn, log_format::text, config->secrets());

  caf_config = std::make_unique<caf::actor_system_config>();
  caf_config->load<caf::io::middleman>();
  caf_config->add_message_types<caf::id_block::callbridge>();
  tune_scheduler(*caf_config);
  system = std::make_unique<caf::actor_system>(*caf_config);
  bridge_ = std::make_unique<bridge>(*system, config);
  const auto err = bridge_->start();
  REQUIRE_FALSE(err.has_value());
  sim.start();
}

harness::~harness() {
  sim.stop();
  bridge_->stop();
  bridge_.reset();
  system.reset();
  agent.stop();
}

callsim::call_spec harness::call(double tone_hz, std::chrono::milliseconds duration) const {
  callsim::call_spec spec;
  spec.port = bridge_->shared_port();
  spec.source = callsim::tone_source{tone_hz, -12.0};
  spec.duration = duration;
  spec.record_pcm = true;
  spec.max_time = duration + std::chrono::seconds(10);
  return spec;
}

std::vector<fake_elevenlabs::conversation_record> closed_conversations(const harness& h,
                                                                       std::size_t count) {
  const auto closed = [count](const std::vector<fake_elevenlabs::conversation_record>& xs) {
    std::size_t n = 0;
    for (const auto& x : xs)
      n += x.state != fake_elevenlabs::close_kind::open ? 1 : 0;
    return n >= count;
  };
  CHECK(h.agent.wait_for(closed, std::chrono::seconds(10)));
  return h.agent.conversations();
}

}  // namespace cb::test
