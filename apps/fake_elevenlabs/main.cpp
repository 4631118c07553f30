// fake-elevenlabs: runs the fake ElevenLabs agent server until SIGINT or SIGTERM, logging every
// conversation's events on stdout.
#include <fmt/format.h>

#include <libwebsockets.h>
#include <lws_config.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "apps/callsim/spec_parse.hpp"
#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"
#include "protocol/elevenlabs_audio_format.hpp"

namespace {

namespace fe = cb::fake_elevenlabs;

constexpr std::string_view usage = R"(usage: fake-elevenlabs [options]
  --port N               listen port (default 8099; 0 picks a free one)
  --bind ADDR            listen address (default 127.0.0.1)
  --api-key KEY          require this xi-api-key for signed URLs and private agents
                         (also read from FAKE_ELEVENLABS_API_KEY); default: no authentication
  --agent SPEC           register an agent: <id>=<scenario>[,key=value...], e.g.
                         support=transcript,in=ulaw_8000,out=ulaw_8000,public=1
                         keys: in out tone ms text public require overrides chunk_ms burst_ms
                         speed stamp vad_dbfs silence_ms barge_in barge_in_ms reply_tone reply_ms
                         long_tone long_ms interrupt_ms stale tool arg.<name> code type message
                         flat delay_ms
  --restrict-agents      only registered agents exist (otherwise any id following
                         <scenario>[.<in_format>[.<out_format>]] works, e.g. echo.ulaw_8000.ulaw_8000)
  --ping-interval D      ping period (default 2s; D like 500ms, 2s)
  --init-timeout D       send metadata without an init message after D (default 1s)
  --signature-ttl D      signed URL lifetime (default 900s)
  --poll-batching D      under load, pause D between polls so each finds many ready
                         sockets (default 1ms; 0 turns it off)
  --pacing-grid D        round audio chunk deadlines up to this grid, so chunks due together
                         leave in one pass (default 1ms; 0: exact deadlines)
  --verbose              also log pings, pongs and every audio chunk
scenarios: tone echo interrupt end_call client_tool error (error_1002 error_1008 error_1011
           error_quota) stall slow_reader refuse transcript
)";

// Durations as callsim reads them ("500ms", "2s", "1.5s"; a bare number is in ms).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto d = cb::callsim::parse_duration(text, std::chrono::milliseconds(1));
  if (!d) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

int fail(std::string_view message) {
  std::fprintf(stderr, "fake-elevenlabs: %.*s\n%.*s", static_cast<int>(message.size()),
               message.data(), static_cast<int>(usage.size()), usage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fe::server_options options;
  options.port = 8099;
  if (const char* key = std::getenv("FAKE_ELEVENLABS_API_KEY")) options.api_key = key;

  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(std::string(usage).c_str(), stdout);
      return 0;
    }
    if (arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "--restrict-agents") {
      options.restrict_agents = true;
    } else if (arg == "--port") {
      const auto v = value();
      int port = -1;
      if (v) std::from_chars(v->data(), v->data() + v->size(), port);
      if (port < 0 || port > 65535) return fail("--port needs a number 0..65535");
      options.port = static_cast<std::uint16_t>(port);
    } else if (arg == "--bind") {
      const auto v = value();
      if (!v) return fail("--bind needs an address");
      options.bind_address = std::string(*v);
    } else if (arg == "--api-key") {
      const auto v = value();
      if (!v) return fail("--api-key needs a key");
      options.api_key = std::string(*v);
    } else if (arg == "--agent") {
      const auto v = value();
      if (!v) return fail("--agent needs a spec");
      auto profile = fe::parse_agent_spec(*v);
      if (!profile) return fail(profile.error());
      options.agents.push_back(std::move(*profile));
    } else if (arg == "--poll-batching") {
      const auto v = value();
      const auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d) return fail("--poll-batching needs a duration like 1ms");
      options.poll_batching = *d;
    } else if (arg == "--pacing-grid") {
      const auto v = value();
      const auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d) return fail("--pacing-grid needs a duration like 1ms");
      options.pacing_grid = *d;
    } else if (arg == "--ping-interval" || arg == "--init-timeout" || arg == "--signature-ttl") {
      const auto v = value();
      const auto d = v ? parse_duration(*v) : std::nullopt;
      if (!d || d->count() == 0) return fail(std::string(arg) + " needs a duration like 2s");
      if (arg == "--ping-interval") {
        options.ping_interval = *d;
      } else if (arg == "--init-timeout") {
        options.init_timeout = *d;
      } else {
        options.signature_ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    } else {
      return fail("unknown option " + std::string(arg));
    }
  }

  const auto started_at = fe::clock::now();
  options.log = [started_at](std::string_view line) {
    const double t = std::chrono::duration<double>(fe::clock::now() - started_at).count();
    fmt::print("{:9.3f} {}\n", t, line);
    std::fflush(stdout);
  };
  lws_set_log_level(LLL_ERR, nullptr);

  // Block the stop signals in every thread (the service thread inherits the mask) and take them
  // synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  fe::server server;
  const auto bind_address = options.bind_address;
  const bool authenticated = !options.api_key.empty();
  const auto agents = options.agents;
  const auto port = server.start(std::move(options));
  if (!port) {
    std::fprintf(stderr, "fake-elevenlabs: %s\n", port.error().c_str());
    return 1;
  }
  fmt::print("fake-elevenlabs listening on ws://{}:{}/v1/convai/conversation\n", bind_address,
             *port);
  fmt::print("signed URLs: GET http://{}:{}/v1/convai/conversation/get-signed-url?agent_id=...\n",
             bind_address, *port);
  fmt::print("authentication: {}\n",
             authenticated ? "xi-api-key required; private agents need a signed URL" : "none");
  for (const auto& a : agents) {
    fmt::print("agent {}: {} (in {}, out {}{})\n", a.agent_id, fe::to_string(a.scenario),
               cb::elevenlabs::format_name(a.input).value_or("?"),
               cb::elevenlabs::format_name(a.output).value_or("?"), a.is_public ? ", public" : "");
  }
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  fmt::print("stopping on signal {}\n", signal);
  server.stop();
  const auto counters = server.counters();
  fmt::print("{} conversations, {} upgrades refused, {} signed URLs issued\n", counters.connections,
             counters.refused_upgrades, counters.signed_urls);
  return 0;
}
