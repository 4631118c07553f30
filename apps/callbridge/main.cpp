// callbridge: puts an ElevenLabs agent on Asterisk calls (AudioSocket in, agent WebSocket out).
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "actors/bridge.hpp"
#include "actors/config.hpp"
#include "actors/log.hpp"
#include "actors/types.hpp"

int main(int argc, char** argv) {
  auto loaded = cb::load_settings(argc, argv, cb::current_environment());
  if (!loaded) {
    std::fprintf(stderr, "callbridge: configuration error: %s\n",
                 cb::to_string(loaded.error()).c_str());
    return 2;
  }
  if (loaded->action == cb::startup_action::print_help) {
    std::fputs(cb::usage().c_str(), stdout);
    return 0;
  }
  if (loaded->action == cb::startup_action::print_version) {
    std::puts("callbridge 0.1.0");
    return 0;
  }
  auto config = std::make_shared<const cb::settings>(std::move(*loaded));
  cb::log::configure(config->level, config->format, config->secrets());
  cb::log::info("main", "", "callbridge starting\n{}", cb::describe(*config));

  // Block the stop signals in every thread (CAF's and lws's inherit the mask) and wait for them
  // here, so shutdown runs on the main thread in order.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Each call holds two sockets (Asterisk, agent); lws sizes its table when its context starts.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  caf::actor_system_config caf_config;
  caf_config.load<caf::io::middleman>();
  caf_config.add_message_types<caf::id_block::callbridge>();
  cb::tune_scheduler(caf_config);
  caf::actor_system system{caf_config};
  int exit_code = 0;
  {
    cb::ws_client_options ws_options;
    ws_options.ca_file = config->elevenlabs_ca_file;
    cb::bridge bridge{system, config, ws_options};
    if (auto err = bridge.start()) {
      cb::log::error("main", "", "{}", *err);
      exit_code = 1;
    } else {
      cb::log::info("main", "", "ready");
      int signal = 0;
      sigwait(&stop_signals, &signal);
      cb::log::info("main", "", "received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
      bridge.stop();
    }
  }
  return exit_code;
}
