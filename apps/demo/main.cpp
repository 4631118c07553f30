// callbridge-demo: an offline conversation through the real bridge. A simulated Asterisk call
// (callsim) talks in tone "utterances" to the fake ElevenLabs agent, which answers with
// transcripts and speech-like audio; the bridge's log shows the conversation as it happens.
//   callbridge-demo [--seconds N] [--calls N]
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "actors/bridge.hpp"
#include "actors/log.hpp"
#include "actors/types.hpp"
#include "apps/callsim/call_analysis.hpp"
#include "apps/callsim/callsim.hpp"
#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"
#include "codecs/tone.hpp"

namespace {

// The caller "speaks" 1.2 s, then listens 2.3 s, over and over: the agent hears turns.
std::shared_ptr<const cb::callsim::audio_clip> caller_turns(double hz) {
  auto clip = std::make_shared<cb::callsim::audio_clip>();
  clip->rate_hz = 8000;
  clip->samples.assign(8000 * 35 / 10, 0);
  cb::codecs::tone_generator tone(hz, 8000, -14.0);
  tone.generate(clip->samples.data(), 8000 * 12 / 10);
  return clip;
}

int parse_count(const char* text, int fallback) {
  const int value = std::atoi(text);
  return value > 0 ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 15;
  int calls = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--seconds") seconds = parse_count(argv[i + 1], seconds);
    if (flag == "--calls") calls = parse_count(argv[i + 1], calls);
  }
  std::puts(
      "callbridge offline demo: simulated Asterisk caller <-> callbridge <-> fake ElevenLabs "
      "agent");

  cb::fake_elevenlabs::server agent;
  cb::fake_elevenlabs::server_options agent_options;
  agent_options.log = [](std::string_view line) {
    std::printf("  agent  | %.*s\n", static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  };
  const auto agent_port = agent.start(agent_options);
  if (!agent_port) {
    std::fprintf(stderr, "demo: fake agent failed to start: %s\n", agent_port.error().c_str());
    return 1;
  }

  auto config = std::make_shared<cb::settings>();
  config->elevenlabs_base_url = fmt::format("http://127.0.0.1:{}", *agent_port);
  config->elevenlabs_agent_id = "transcript.pcm_16000.pcm_16000";
  config->audiosocket_host = "127.0.0.1";
  config->audiosocket_port = 0;
  config->audiosocket_port_min = 0;
  // The demo's call records go to a scratch database, not into the working directory.
  const auto scratch = std::filesystem::temp_directory_path();
  config->db_url = "sqlite:" + (scratch / "callbridge-demo.db").string();
  config->store_journal = (scratch / "callbridge-demo-journal.log").string();
  cb::log::configure(cb::log_level::info, cb::log_format::text, config->secrets());

  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf_config.add_message_types<caf::id_block::callbridge>();
  cb::tune_scheduler(caf_config);
  caf::actor_system system{caf_config};
  int exit_code = 0;
  {
    // The dashboard on the usual port, or any free one when that is taken.
    config->api_bind = "127.0.0.1";
    auto bridge = std::make_unique<cb::bridge>(system, config);
    if (auto err = bridge->start()) {
      config->api_port = 0;
      bridge = std::make_unique<cb::bridge>(system, config);
      if (auto again = bridge->start()) {
        std::fprintf(stderr, "demo: %s\n", again->c_str());
        return 1;
      }
    }
    std::printf("  demo   | dashboard: http://127.0.0.1:%u/\n", bridge->api_port());
    std::fflush(stdout);
    cb::callsim::simulator sim;
    sim.start();
    std::vector<cb::callsim::call_handle> handles;
    for (int i = 0; i < calls; ++i) {
      cb::callsim::call_spec spec;
      spec.port = bridge->shared_port();
      spec.source = cb::callsim::clip_source{caller_turns(300.0 + 100.0 * i),
                                             cb::callsim::clip_source::then::loop};
      spec.duration = std::chrono::seconds(seconds);
      spec.dtmf.push_back({std::chrono::seconds(seconds / 2), '5'});
      spec.max_time = std::chrono::seconds(seconds + 10);
      auto handle = sim.start_call(spec);
      if (handle) handles.push_back(*handle);
    }
    for (const auto handle : handles) {
      const auto report = sim.wait(handle, std::chrono::seconds(seconds + 15));
      if (!report) {
        exit_code = 1;
        continue;
      }
      std::printf(
          "  caller | call %s: sent %llu frames, heard %.0f ms of agent audio in %llu frames; "
          "pacing p99 %.2f ms, late %llu, bursts %llu; ended: %s\n",
          report->uuid.c_str(), static_cast<unsigned long long>(report->audio_frames_sent),
          cb::callsim::non_silent_ms(*report),
          static_cast<unsigned long long>(report->audio_frames_received),
          report->timing.deviation_p99_ms,
          static_cast<unsigned long long>(report->timing.late_frames),
          static_cast<unsigned long long>(report->timing.bursts),
          cb::callsim::to_string(report->end));
    }
    sim.stop();
    // Let the agent's side of the last call close before stopping everything.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    bridge->stop();
  }
  agent.stop();
  return exit_code;
}
