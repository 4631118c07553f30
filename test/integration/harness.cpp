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
  agent_options.agents = options.agents;
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
  config->db_url.clear();       // no call store unless a test configures one
  config->api_enabled = false;  // no control API unless a test configures one
  config->api_port = 0;
  if (options.ami) {
    fake_ami::options ami_options;
    ami_options.secret = options.ami_secret;
    ami_options.originate_delay = std::chrono::milliseconds(50);
    config->asterisk_host = "127.0.0.1";
    config->asterisk_port = ami.start(ami_options);
    config->asterisk_user = ami_options.username;
    config->asterisk_pass = options.ami_secret;
    config->ami_reconnect_min = std::chrono::milliseconds(50);
    config->ami_reconnect_max = std::chrono::milliseconds(400);
    config->ami_ping_interval = std::chrono::milliseconds(1000);
    config->ami_action_timeout = std::chrono::milliseconds(2000);
  }
  if (options.configure) options.configure(*config);
  log::configure(options.redact_secrets ? log_level::warn : log_level::debug, log_format::text,
                 options.redact_secrets ? config->secrets() : std::vector<std::string>{});

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
  ami.stop();
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
