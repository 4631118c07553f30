// callsim: plays AudioSocket calls into a server as Asterisk does, and reports what came back.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apps/callsim/callsim.hpp"
#include "apps/callsim/report_format.hpp"
#include "apps/callsim/spec_parse.hpp"

namespace {

using namespace std::chrono_literals;
namespace cs = cb::callsim;

constexpr int exit_usage = 2;
constexpr int live_bar_width = 20;
constexpr auto poll_interval = 100ms;
// From this many calls up, wake-ups are batched by default (--min-wake).
constexpr unsigned many_calls = 100;
// Calls one worker thread serves by default: about a sixth of a core on a small VM.
constexpr unsigned calls_per_thread = 500;

volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_signal(int /*signal*/) {
  interrupted = 1;
}

constexpr const char* usage = R"(usage: callsim --port PORT [options]
Plays AudioSocket calls into a server exactly as Asterisk does and reports what it heard.

Where:
  --host HOST            server address (127.0.0.1)
  --port PORT            server port
  --calls N              simultaneous calls (1)
  --ramp DURATION        spread the call starts over this long (default: over one 20 ms
                         period, so the calls' frames do not all leave at once)
  --threads N            worker threads (default: one per 500 calls, at most one per core)
  --coalesce DURATION    do work due within this of now in one wake-up (250us): fewer
                         wake-ups for many calls, frames up to this early
  --min-wake DURATION    sleep at least this long between wake-ups, taking reads in
                         batches (default 500us from 100 calls up, else 0)
What each call says:
  --rate HZ              8000 (0x10, default), 12000, 16000 (0x12), 24000 ... 192000 (0x18)
  --tone HZ              a tone (default 440 Hz)
  --tone-step HZ         call i plays tone + i * step, to tell the calls apart
  --level DBFS           tone level (-12)
  --silence              silence frames instead of a tone
  --wav FILE             a 16-bit mono WAV file (resampled to --rate if needed)
  --after-wav stop|silence|loop
                         what follows the file (stop: the leg goes silent)
  --duration DURATION    how long audio is sent (5s; with --wav the file's length; with
                         --wait-hangup until the server hangs up)
  --gap START+LENGTH     send nothing in this interval, ms unless given units (repeatable)
  --dtmf SCHEDULE        DTMF digits, e.g. 1500:5,2500:# (ms after connect)
  --uuid ID              the call id (only with --calls 1); default a random v4 UUID
  --ascii-id             send the first 16 characters of the id, as OSdial does
  --stamp                stamp every frame sent with its send time (latency probes)
How calls end:
  --wait-hangup          after the audio, stay until the server hangs up
  --max-time DURATION    hang up after this long whatever happens
  --violations tear-down|record
                         on a forbidden frame from the server: tear the call down as
                         Asterisk does (default) or count it and carry on
Output:
  --late-ms MS           a received frame this much past its 20 ms slot is late (5)
  --live                 every second, a line per call with the level it hears
  --json                 reports as JSON
Exit status: 0 when every call ended cleanly with no protocol violation, 1 otherwise, 2 on
bad usage.
)";

struct options {
  cs::call_spec spec;
  unsigned calls = 1;
  std::optional<unsigned> threads;
  std::chrono::nanoseconds coalesce = cs::simulator_options{}.timer_coalescing;
  std::optional<std::chrono::nanoseconds> min_wake;
  std::optional<std::chrono::nanoseconds> ramp;
  std::optional<std::chrono::nanoseconds> duration;
  double tone_step_hz = 0.0;
  std::string wav_path;
  bool live = false;
  bool json = false;
};

[[noreturn]] void bad_usage(const std::string& message) {
  std::fprintf(stderr, "callsim: %s\n%s", message.c_str(), usage);
  std::exit(exit_usage);
}

template <class T>
T number(std::string_view flag, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    bad_usage(fmt::format("{} wants a number, got '{}'", flag, text));
  }
  return static_cast<T>(value);
}

std::chrono::nanoseconds duration_arg(std::string_view flag, const std::string& text) {
  const auto d = cs::parse_duration(text, 1s);
  if (!d) bad_usage(fmt::format("{} wants a duration like 5s or 250ms, got '{}'", flag, text));
  return *d;
}

options parse_args(int argc, char** argv) {
  options o;
  cs::tone_source tone;
  bool silence = false;
  auto after_wav = cs::clip_source::then::stop;
  int rate = 8000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) bad_usage(fmt::format("{} needs a value", flag));
      return argv[++i];
    };
    if (flag == "--host") {
      o.spec.host = value();
    } else if (flag == "--port") {
      o.spec.port = number<std::uint16_t>(flag, value());
    } else if (flag == "--calls") {
      o.calls = number<unsigned>(flag, value());
    } else if (flag == "--ramp") {
      o.ramp = duration_arg(flag, value());
    } else if (flag == "--threads") {
      o.threads = number<unsigned>(flag, value());
    } else if (flag == "--coalesce") {
      o.coalesce = duration_arg(flag, value());
    } else if (flag == "--min-wake") {
      o.min_wake = duration_arg(flag, value());
    } else if (flag == "--rate") {
      rate = number<int>(flag, value());
    } else if (flag == "--tone") {
      tone.frequency_hz = number<double>(flag, value());
    } else if (flag == "--tone-step") {
      o.tone_step_hz = number<double>(flag, value());
    } else if (flag == "--level") {
      tone.level_dbfs = number<double>(flag, value());
    } else if (flag == "--silence") {
      silence = true;
    } else if (flag == "--wav") {
      o.wav_path = value();
    } else if (flag == "--after-wav") {
      const auto v = value();
      if (v == "stop") {
        after_wav = cs::clip_source::then::stop;
      } else if (v == "silence") {
        after_wav = cs::clip_source::then::silence;
      } else if (v == "loop") {
        after_wav = cs::clip_source::then::loop;
      } else {
        bad_usage("--after-wav is stop, silence or loop");
      }
    } else if (flag == "--duration") {
      o.duration = duration_arg(flag, value());
    } else if (flag == "--gap") {
      const auto gap = cs::parse_gap(value());
      if (!gap) bad_usage("--gap wants START+LENGTH, e.g. 2000+500");
      o.spec.gaps.push_back(*gap);
    } else if (flag == "--dtmf") {
      const auto schedule = cs::parse_dtmf_schedule(value());
      if (!schedule) bad_usage("--dtmf wants MS:DIGIT,..., e.g. 1500:5,2500:#");
      o.spec.dtmf = *schedule;
    } else if (flag == "--uuid") {
      o.spec.id = value();
    } else if (flag == "--ascii-id") {
      o.spec.ascii_id = true;
    } else if (flag == "--stamp") {
      o.spec.stamp = true;
    } else if (flag == "--wait-hangup") {
      o.spec.end = cs::end_mode::wait_for_server;
    } else if (flag == "--max-time") {
      o.spec.max_time = duration_arg(flag, value());
    } else if (flag == "--violations") {
      const auto v = value();
      if (v == "tear-down") {
        o.spec.on_violation = cs::violation_policy::tear_down;
      } else if (v == "record") {
        o.spec.on_violation = cs::violation_policy::record;
      } else {
        bad_usage("--violations is tear-down or record");
      }
    } else if (flag == "--late-ms") {
      o.spec.timing.late_after =
          std::chrono::nanoseconds{static_cast<std::int64_t>(number<double>(flag, value()) * 1e6)};
    } else if (flag == "--live") {
      o.live = true;
    } else if (flag == "--json") {
      o.json = true;
    } else {
      bad_usage(fmt::format("unknown option {}", flag));
    }
  }
  if (o.spec.port == 0) bad_usage("--port is required");
  if (o.calls == 0) bad_usage("--calls must be at least 1");
  if (o.calls > 1 && !o.spec.id.empty()) bad_usage("--uuid names one call: use it with --calls 1");
  const auto kind = cb::audiosocket::audio_kind_for_rate(rate);
  if (!kind) bad_usage(fmt::format("--rate {} is not an AudioSocket rate", rate));
  o.spec.frame_kind = *kind;

  if (!o.wav_path.empty()) {
    auto clip = cs::load_wav(o.wav_path);
    if (!clip) bad_usage(fmt::format("{}: {}", o.wav_path, cs::to_string(clip.error())));
    o.spec.source = cs::clip_source{
        std::make_shared<const cs::audio_clip>(cs::resampled(*clip, rate)), after_wav};
  } else if (silence) {
    o.spec.source = cs::silence_source{};
  } else {
    o.spec.source = tone;
  }
  const bool audio_ends_itself = !o.wav_path.empty() && after_wav == cs::clip_source::then::stop;
  const bool default_length = o.spec.end == cs::end_mode::after_duration && !audio_ends_itself;
  o.spec.duration = o.duration.value_or(default_length ? std::chrono::nanoseconds{5s}
                                                       : std::chrono::nanoseconds{0});
  return o;
}

void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string clock_text() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  std::array<char, 16> text{};
  std::strftime(text.data(), text.size(), "%H:%M:%S", &local);
  return text.data();
}

struct live_view {
  std::vector<cs::call_status> last;

  void print(const cs::simulator& sim, const std::vector<cs::call_handle>& handles,
             const std::vector<std::string>& names) {
    last.resize(handles.size());
    const auto time = clock_text();
    for (std::size_t i = 0; i < handles.size(); ++i) {
      const auto now = sim.status(handles[i]);
      if (!now) continue;
      const double energy = now->received_energy - last[i].received_energy;
      const auto samples = now->received_samples - last[i].received_samples;
      const double level = samples > 0 && energy > 0.0
                               ? 10.0 * std::log10(energy / static_cast<double>(samples))
                               : -120.0;
      std::printf("%s %.8s rx |%s| %6.1f dBFS %5.0f Hz  sent %llu received %llu  %s\n",
                  time.c_str(), names[i].c_str(), cs::level_bar(level, live_bar_width).c_str(),
                  level, samples > 0 ? static_cast<double>(now->last_frequency_hz) : 0.0,
                  static_cast<unsigned long long>(now->audio_frames_sent),
                  static_cast<unsigned long long>(now->audio_frames_received),
                  now->phase == cs::call_phase::ended ? cs::to_string(now->end)
                                                      : cs::to_string(now->phase));
      last[i] = *now;
    }
    std::fflush(stdout);
  }
};

// Everything but the last-resort error report.
int run(int argc, char** argv) {
  auto o = parse_args(argc, argv);
  raise_descriptor_limit();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  cs::simulator_options sim_options;
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  sim_options.threads =
      o.threads.value_or(std::min(cores, (o.calls + calls_per_thread - 1) / calls_per_thread));
  sim_options.timer_coalescing = o.coalesce;
  sim_options.min_wake_interval =
      o.min_wake.value_or(o.calls >= many_calls ? std::chrono::nanoseconds{500us} : 0ns);
  cs::simulator sim(sim_options);
  sim.start();

  const auto ramp = o.ramp.value_or(20ms);
  std::vector<cs::call_handle> handles;
  std::vector<std::string> names;
  const auto* const base_tone = std::get_if<cs::tone_source>(&o.spec.source);
  const double base_hz = base_tone != nullptr ? base_tone->frequency_hz : 0.0;
  for (unsigned i = 0; i < o.calls; ++i) {
    cs::call_spec spec = o.spec;
    spec.start_delay = ramp * i / o.calls;
    if (auto* tone = std::get_if<cs::tone_source>(&spec.source)) {
      tone->frequency_hz = base_hz + o.tone_step_hz * i;
    }
    const auto handle = sim.start_call(std::move(spec));
    if (!handle) {
      std::fprintf(stderr, "callsim: call %u not started: %s\n", i, cs::to_string(handle.error()));
      return exit_usage;
    }
    handles.push_back(*handle);
    names.push_back(sim.report(*handle)->uuid);
  }

  live_view live;
  auto next_live = std::chrono::steady_clock::now() + 1s;
  for (;;) {
    std::this_thread::sleep_for(poll_interval);
    if (interrupted != 0) break;
    if (o.live && std::chrono::steady_clock::now() >= next_live) {
      live.print(sim, handles, names);
      next_live += 1s;
    }
    if (sim.running() == 0) break;
  }
  sim.stop();

  bool clean = true;
  std::string json = R"({"calls":[)";
  for (std::size_t i = 0; i < handles.size(); ++i) {
    const auto r = sim.report(handles[i]);
    clean = clean && cs::is_clean(r->end) && r->protocol_violations == 0;
    if (o.json) {
      if (i > 0) json += ',';
      json += cs::to_json(*r);
    } else {
      std::puts(cs::summary_line(*r).c_str());
    }
  }
  const auto total = sim.aggregate();
  if (o.json) {
    json += R"(],"total":)" + cs::to_json(total) + "}";
    std::puts(json.c_str());
  } else {
    std::puts(cs::summary_line(total).c_str());
  }
  return clean ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "callsim: %s\n", e.what());
    return EXIT_FAILURE;
  }
}
