// fake-ami: runs the fake Asterisk manager until SIGINT or SIGTERM, logging every connection and
// action (the Login secret redacted) on stdout.
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include "apps/callsim/spec_parse.hpp"
#include "apps/fake_ami/fake_ami.hpp"

namespace {

constexpr std::string_view usage = R"(usage: fake-ami --secret S [options]
  --port N               listen port on 127.0.0.1 (default 5038; 0 picks a free one)
  --user NAME            the manager user (default bridge)
  --secret S             its secret (also read from FAKE_AMI_SECRET)
  --originate-delay D    from an Originate to its call's events (default 500ms; D like 500ms, 2s)
  --originate-fail R     originated calls fail with this Reason (e.g. 5 busy, 3 no answer)
  --verbose              also log connections and login results
)";

// Durations as callsim reads them ("500ms", "2s", "1.5s"; a bare number is in ms).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto d = cb::callsim::parse_duration(text, std::chrono::milliseconds(1));
  if (!d) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

std::optional<int> parse_number(std::string_view text, int max) {
  int value = 0;
  const auto* last = text.data() + text.size();
  const auto r = std::from_chars(text.data(), last, value);
  if (r.ec != std::errc{} || r.ptr != last || value < 0 || value > max) return std::nullopt;
  return value;
}

int fail(std::string_view message) {
  std::fprintf(stderr, "fake-ami: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(usage.size()), usage.data());
  return 2;
}

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int /*signal*/) {
  stop_requested = 1;
}

}  // namespace

int main(int argc, char** argv) {
  cb::fake_ami::options opts;
  opts.port = 5038;
  opts.originate_delay = std::chrono::milliseconds(500);
  if (const char* secret = std::getenv("FAKE_AMI_SECRET")) opts.secret = secret;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fwrite(usage.data(), 1, usage.size(), stdout);
      return 0;
    } else if (arg == "--port" || arg == "--user" || arg == "--secret" ||
               arg == "--originate-delay" || arg == "--originate-fail") {
      const auto text = value();
      if (!text) return fail(fmt::format("{} needs a value", arg));
      if (arg == "--port") {
        const auto port = parse_number(*text, 65535);
        if (!port) return fail("bad --port");
        opts.port = static_cast<std::uint16_t>(*port);
      } else if (arg == "--user") {
        opts.username = std::string(*text);
      } else if (arg == "--secret") {
        opts.secret = std::string(*text);
      } else if (arg == "--originate-delay") {
        const auto delay = parse_duration(*text);
        if (!delay) return fail("bad --originate-delay");
        opts.originate_delay = *delay;
      } else {
        const auto reason = parse_number(*text, 255);
        if (!reason) return fail("bad --originate-fail");
        opts.originate_result = {false, *reason};
      }
    } else {
      return fail(fmt::format("unknown option {}", arg));
    }
  }
  if (opts.secret.empty()) return fail("a --secret is required");

  opts.log = [verbose](std::string_view line) {
    if (!verbose && (line.find(": connected") != std::string_view::npos ||
                     line.find(": disconnected") != std::string_view::npos ||
                     line.find(": login ") != std::string_view::npos)) {
      return;
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  };

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  cb::fake_ami::server server;
  try {
    server.start(std::move(opts));
  } catch (const std::system_error& error) {
    std::fprintf(stderr, "fake-ami: %s\n", error.what());
    return 1;
  }
  while (stop_requested == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return 0;
}
