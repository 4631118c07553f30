// bench_calls: the load benchmark. It runs the callbridge server as a child process between the
// call simulator and the fake ElevenLabs agent (both in this process, on loopback), steps the
// number of concurrent calls up, holds each step, and prints one table row per step: calls up,
// frames, late frames, pacing jitter, uplink and downlink latency from the peers' stamps,
// barge-in latency, and the server's CPU and memory from /proc. docs/performance.md explains the
// columns.
//
// Every call is a conversation: the caller streams 20 ms frames without a break as Asterisk does,
// silent most of the time, and every 2 s speaks a 200 ms tone burst; the agent talks at real time
// throughout, hears the burst after 60 ms, interrupts itself and, once the caller is quiet again,
// starts a new long turn. Barge-in is timed from the interruption leaving the fake agent to the
// first frame at the caller in which the agent's audio stops (its last 10 ms silent: the bridge's
// short fade-out, then silence). The two are matched exactly: the agent notes the stamp of the
// caller speech that made it interrupt, and the caller knows which of its calls sent that stamp.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "apps/bench_calls/process.hpp"
#include "apps/callsim/callsim.hpp"
#include "apps/callsim/duration_histogram.hpp"
#include "apps/callsim/spec_parse.hpp"
#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"

namespace {

namespace cs = cb::callsim;
namespace fe = cb::fake_elevenlabs;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr std::size_t step_ladder[] = {10, 100, 500, 1000, 2000};
// Calls start spread over this much, so the server sees a ramp rather than one burst of accepts.
constexpr auto ramp = 1s;
// A step breaks when more than this share of its calls fail.
constexpr double broken_share = 0.01;
// The caller's turns: quiet, then a tone burst, over and over; the agent interrupts itself after
// barge_in_after of the burst.
constexpr auto caller_quiet = 1800ms;
constexpr auto caller_talk = 200ms;
constexpr auto barge_in_after = 60ms;
// Quiet that ends the caller's turn, after which the agent answers with a new turn.
constexpr auto turn_silence = 200ms;

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int /*signal*/) {
  interrupted = true;
}

struct options {
  std::vector<std::size_t> steps{10, 100, 500, 1000};
  std::chrono::nanoseconds hold = 20s;
  std::string server;
  std::string agent = "bench";
  int agent_chunk_ms = 20;
};

void usage(std::FILE* out) {
  std::fputs(
      "usage: bench_calls [--steps N | --calls A,B,...] [--hold D] [--server PATH] [--agent ID]\n"
      "                   [--agent-chunk-ms N]\n"
      "  --steps N      the first N of 10,100,500,1000,2000 concurrent calls (default 4)\n"
      "  --calls A,B    these numbers of concurrent calls instead\n"
      "  --hold D       how long each call lasts, e.g. 20s (default), at least 3s\n"
      "  --server PATH  the callbridge executable (default: ../callbridge/callbridge next to "
      "this)\n"
      "  --agent ID     the agent id callbridge asks for (default: bench, a tone agent with\n"
      "                 pcm_16000 both ways that stamps its audio, talks throughout and lets the\n"
      "                 caller's bursts interrupt it; any fake-elevenlabs id works)\n"
      "  --agent-chunk-ms N  the bench agent's audio events carry N ms each, a multiple of 20\n"
      "                 (default 20: the most messages; the real service sends larger chunks,\n"
      "                 and then the downlink figure includes a chunk's wait for its turn)\n",
      out);
}

std::size_t to_count(std::string_view text) {
  std::size_t value = 0;
  if (text.empty()) throw std::invalid_argument("empty number");
  for (const char c : text) {
    if (c < '0' || c > '9') throw std::invalid_argument(fmt::format("bad number '{}'", text));
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  return value;
}

std::string default_server_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "callbridge";
  return (self.parent_path().parent_path() / "callbridge" / "callbridge").string();
}

// Throws std::invalid_argument on a bad command line; nullopt after --help.
std::optional<options> parse_options(int argc, char** argv) {
  options o;
  o.server = default_server_path();
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") return std::nullopt;
    if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", flag));
    const std::string_view value = argv[++i];
    if (flag == "--steps") {
      const auto n = to_count(value);
      if (n < 1 || n > std::size(step_ladder)) throw std::invalid_argument("--steps is 1-5");
      o.steps.assign(std::begin(step_ladder), std::begin(step_ladder) + n);
    } else if (flag == "--calls") {
      o.steps.clear();
      std::size_t start = 0;
      while (start <= value.size()) {
        const auto comma = std::min(value.find(',', start), value.size());
        const auto n = to_count(value.substr(start, comma - start));
        if (n < 1) throw std::invalid_argument("--calls needs counts of at least 1");
        o.steps.push_back(n);
        start = comma + 1;
      }
    } else if (flag == "--hold") {
      const auto d = cs::parse_duration(value, 1s);
      if (!d || *d < 3s) throw std::invalid_argument("--hold must be a duration of at least 3s");
      o.hold = *d;
    } else if (flag == "--server") {
      o.server = value;
    } else if (flag == "--agent") {
      o.agent = value;
    } else if (flag == "--agent-chunk-ms") {
      const auto ms = to_count(value);
      if (ms < 20 || ms > 1000 || ms % 20 != 0) {
        throw std::invalid_argument("--agent-chunk-ms must be a multiple of 20 from 20 to 1000");
      }
      o.agent_chunk_ms = static_cast<int>(ms);
    } else {
      throw std::invalid_argument(fmt::format("unknown flag {}", flag));
    }
  }
  return o;
}

// Sleeps in short slices; false as soon as the user interrupts or stop() holds.
template <class Stop>
bool sleep_until(steady::time_point deadline, Stop&& stop) {
  while (steady::now() < deadline) {
    if (interrupted || stop()) return false;
    std::this_thread::sleep_for(std::min<steady::duration>(250ms, deadline - steady::now()));
  }
  return true;
}

struct step_result {
  std::size_t calls = 0;
  std::size_t up = 0;
  cs::aggregate_report totals;
  cs::duration_histogram uplink;
  cs::duration_histogram barge_in;
  std::uint64_t interruptions = 0;  // sent by the agent; barge_in holds those matched and timed
  double cpu_percent = 0.0;
  double peers_cpu_percent = 0.0;
  double rss_mib = 0.0;
  double kib_per_call = 0.0;
  std::uint64_t failed = 0;
  bool broke = false;
};

std::uint64_t failed_calls(const cs::aggregate_report& a) {
  std::uint64_t failed = 0;
  for (std::size_t e = 0; e < cs::call_end_count; ++e) {
    const auto end = static_cast<cs::call_end>(e);
    if (end != cs::call_end::none && end != cs::call_end::caller_hangup) failed += a.ends[e];
  }
  return failed;
}

cs::simulator_options simulator_options_for(std::size_t calls) {
  cs::simulator_options o;
  const auto cores = std::max(1U, std::thread::hardware_concurrency());
  o.threads = std::clamp(static_cast<unsigned>((calls + 499) / 500), 1U, cores);
  // callsim's advice: batching wake-ups pays from a few hundred calls up.
  if (calls >= 200) o.min_wake_interval = 500us;
  return o;
}

std::int64_t to_ns(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

step_result run_step(std::size_t calls, const options& opt, std::uint16_t audiosocket_port,
                     const fe::server& fake, cb::bench::child_process& server,
                     std::int64_t idle_rss_kib) {
  step_result r;
  r.calls = calls;
  const auto conversations_before = fake.counters().connections;
  cs::simulator sim(simulator_options_for(calls));
  sim.start();

  std::vector<cs::call_handle> handles;
  handles.reserve(calls);
  for (std::size_t i = 0; i < calls; ++i) {
    cs::call_spec spec;
    spec.port = audiosocket_port;
    // 16 kHz linear PCM both ways with a pcm_16000 agent: the bridge passes the audio bit-exact,
    // so the stamps survive in both directions.
    spec.frame_kind = cb::audiosocket::kind::slin_16k;
    spec.source = cs::tone_bursts_source{cs::tone_source{300.0, -12.0}, caller_quiet, caller_talk};
    spec.duration = opt.hold;
    spec.start_delay = std::chrono::duration_cast<std::chrono::nanoseconds>(ramp) *
                       static_cast<std::int64_t>(i) / static_cast<std::int64_t>(calls);
    spec.stamp = true;
    spec.max_logged_frames = 0;
    auto handle = sim.start_call(std::move(spec));
    if (!handle)
      throw std::runtime_error(fmt::format("start_call: {}", cs::to_string(handle.error())));
    handles.push_back(*handle);
  }

  const auto started = steady::now();
  const auto failure_limit = static_cast<std::uint64_t>(broken_share * static_cast<double>(calls));
  const auto broken = [&] { return failed_calls(sim.aggregate()) > failure_limit; };
  const auto server_gone = [&] { return server.exit_status().has_value(); };
  const auto stop = [&] { return server_gone() || broken(); };

  // CPU over the stretch where every call is up: after the ramp, until the first calls end.
  bool held = sleep_until(started + ramp + 500ms, stop);
  const auto cpu_before = cb::bench::process_cpu_time(server.pid());
  const auto peers_cpu_before = cb::bench::process_cpu_time(::getpid());
  const auto wall_before = steady::now();
  held = held && sleep_until(started + opt.hold - 250ms, stop);
  const auto cpu_after = cb::bench::process_cpu_time(server.pid());
  const auto peers_cpu_after = cb::bench::process_cpu_time(::getpid());
  const auto wall_after = steady::now();
  const auto rss = cb::bench::process_rss_kib(server.pid());

  if (held) sleep_until(started + ramp + opt.hold + 15s, [&] { return sim.running() == 0; });
  sim.stop();
  r.broke = !held;

  r.totals = sim.aggregate();
  // Which call sent a stamp, and when each call's caller began and stopped hearing the agent.
  std::unordered_map<std::int64_t, std::size_t> speaker_of;
  std::vector<std::vector<std::int64_t>> starts(handles.size());
  std::vector<std::vector<std::int64_t>> stops(handles.size());
  for (std::size_t i = 0; i < handles.size(); ++i) {
    auto report = sim.report(handles[i]);
    if (!report) continue;
    if (report->connected_ns != 0) ++r.up;
    for (const auto sent : report->speech_sent_ns)
      speaker_of.emplace(sent, i);
    starts[i] = std::move(report->audio_starts_ns);
    stops[i] = std::move(report->audio_stops_ns);
  }
  r.failed = failed_calls(r.totals) + r.totals.ends[static_cast<std::size_t>(cs::call_end::none)];
  r.broke = r.broke || r.failed > failure_limit;

  const auto percent_of_wall = [&](std::optional<std::chrono::nanoseconds> before,
                                   std::optional<std::chrono::nanoseconds> after) {
    if (!before || !after || wall_after <= wall_before) return 0.0;
    return 100.0 * std::chrono::duration<double>(*after - *before).count() /
           std::chrono::duration<double>(wall_after - wall_before).count();
  };
  r.cpu_percent = percent_of_wall(cpu_before, cpu_after);
  r.peers_cpu_percent = percent_of_wall(peers_cpu_before, peers_cpu_after);
  if (rss) {
    r.rss_mib = static_cast<double>(*rss) / 1024.0;
    if (r.up > 0)
      r.kib_per_call = static_cast<double>(*rss - idle_rss_kib) / static_cast<double>(r.up);
  }

  // Let the bridge close its agent sockets, so the records are complete and the next step starts
  // from an idle server.
  sleep_until(steady::now() + 10s, [&] { return fake.counters().active == 0; });
  const auto records = fake.conversations();
  for (std::size_t i = conversations_before; i < records.size(); ++i) {
    for (const auto latency : records[i].user_audio.stamp_latencies)
      r.uplink.record(latency.count());
    const auto& interruptions = records[i].interruptions;
    r.interruptions += interruptions.size();
    for (std::size_t k = 0; k < interruptions.size(); ++k) {
      const auto& interruption = interruptions[k];
      if (!interruption.sent_at || !interruption.caller_stamp_ns) continue;
      const auto speaker = speaker_of.find(*interruption.caller_stamp_ns);
      if (speaker == speaker_of.end()) continue;
      const auto sent_ns = to_ns(*interruption.sent_at);
      // The stop must come before the next interruption, or this one went unheard.
      const auto next_ns = k + 1 < interruptions.size() && interruptions[k + 1].sent_at
                               ? to_ns(*interruptions[k + 1].sent_at)
                               : std::numeric_limits<std::int64_t>::max();
      const auto& call_starts = starts[speaker->second];
      const auto& call_stops = stops[speaker->second];
      // Timed only if the caller was hearing the agent when the interruption left: starts and
      // stops alternate, so more of them had started than stopped by then.
      const auto starts_before =
          std::lower_bound(call_starts.begin(), call_starts.end(), sent_ns) - call_starts.begin();
      const auto silenced = std::lower_bound(call_stops.begin(), call_stops.end(), sent_ns);
      if (starts_before <= silenced - call_stops.begin()) continue;
      if (silenced != call_stops.end() && *silenced < next_ns) {
        r.barge_in.record(*silenced - sent_ns);
      }
    }
  }
  return r;
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

void print_header() {
  fmt::print(
      "| calls | up | frames sent | frames recv | late | jitter p50/p99/max ms | uplink p50/p99 ms "
      "| downlink p50/p99 ms | barge-in p50/p99/max ms (n) | server CPU % | peers CPU % | RSS MiB "
      "| KiB/call | failed |\n"
      "|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---|\n");
  std::fflush(stdout);
}

void print_row(const step_result& r) {
  const auto& t = r.totals;
  const std::string uplink = r.uplink.count() == 0
                                 ? "-"
                                 : fmt::format("{:.2f} / {:.2f}", ms(r.uplink.percentile_ns(0.5)),
                                               ms(r.uplink.percentile_ns(0.99)));
  const std::string downlink =
      t.downlink.count == 0 ? "-"
                            : fmt::format("{:.2f} / {:.2f}", t.downlink.p50_ms, t.downlink.p99_ms);
  const std::string barge_in =
      r.barge_in.count() == 0
          ? "-"
          : fmt::format("{:.1f} / {:.1f} / {:.1f} ({})", ms(r.barge_in.percentile_ns(0.5)),
                        ms(r.barge_in.percentile_ns(0.99)), ms(r.barge_in.max_ns()),
                        r.barge_in.count());
  fmt::print(
      "| {} | {} | {} | {} | {} | {:.2f} / {:.2f} / {:.2f} | {} | {} | {} | {:.1f} | {:.1f} | "
      "{:.1f} | {:.0f} | {}{} |\n",
      r.calls, r.up, t.audio_frames_sent, t.audio_frames_received, t.late_frames,
      t.deviation_p50_ms, t.deviation_p99_ms, t.deviation_max_ms, uplink, downlink, barge_in,
      r.cpu_percent, r.peers_cpu_percent, r.rss_mib, r.kib_per_call, r.failed,
      r.broke ? " broke" : "");
  std::fflush(stdout);
}

// Why calls failed, and whether the simulator itself kept time: its figures are only as good as
// its own sends.
std::vector<std::string> notes_for(const step_result& r) {
  std::vector<std::string> notes;
  std::string ends;
  for (std::size_t e = 0; e < cs::call_end_count; ++e) {
    const auto end = static_cast<cs::call_end>(e);
    if (end == cs::call_end::caller_hangup || r.totals.ends[e] == 0) continue;
    ends += fmt::format("{}{} {}", ends.empty() ? "" : ", ", cs::to_string(end), r.totals.ends[e]);
  }
  if (!ends.empty()) notes.push_back(fmt::format("{} calls: ended otherwise: {}", r.calls, ends));
  if (r.interruptions > r.barge_in.count()) {
    notes.push_back(fmt::format(
        "{} calls: {} of {} interruptions not timed (no stamped caller speech behind them, the "
        "caller not hearing the agent when they were sent, or no stop heard before the next one)",
        r.calls, r.interruptions - r.barge_in.count(), r.interruptions));
  }
  if (r.totals.late_sends > 0) {
    notes.push_back(fmt::format("{} calls: the simulator sent {} frames late (worst {:.1f} ms)",
                                r.calls, r.totals.late_sends, r.totals.max_send_lag_ms));
  }
  return notes;
}

fe::agent_profile bench_agent(const options& opt) {
  // Talks at real time, stamped, by default in 20 ms chunks so the downlink figure is the bridge's
  // delay rather than a chunk's wait in the jitter buffer: a greeting and every answer last longer
  // than the call, so the agent talks until the caller interrupts it.
  const auto turn_ms = std::chrono::duration_cast<std::chrono::milliseconds>(opt.hold + 5s);
  auto profile = fe::parse_agent_spec(fmt::format(
      "bench=tone,in=pcm_16000,out=pcm_16000,ms={0},reply_tone=440,reply_ms={0},chunk_ms={3},"
      "burst_ms=0,speed=1,stamp=1,barge_in=1,barge_in_ms={1},silence_ms={2},public=1",
      turn_ms.count(), std::chrono::milliseconds(barge_in_after).count(),
      std::chrono::milliseconds(turn_silence).count(), opt.agent_chunk_ms));
  if (!profile) throw std::runtime_error("bench agent: " + profile.error());
  return *profile;
}

int run(const options& opt) {
  fmt::print("machine: {}\n", cb::bench::machine_description());

  fe::server fake;
  fe::server_options fake_options;
  fake_options.agents.push_back(bench_agent(opt));
  const auto fake_port = fake.start(std::move(fake_options));
  if (!fake_port) throw std::runtime_error("fake-elevenlabs: " + fake_port.error());

  const auto audiosocket_port = cb::bench::free_loopback_port();
  // The server keeps call records as in production, in a private SQLite file.
  std::string store_dir =
      (std::filesystem::temp_directory_path() / "callbridge-bench-XXXXXX").string();
  if (::mkdtemp(store_dir.data()) == nullptr) throw std::runtime_error("cannot create a temp dir");
  cb::bench::child_process server(
      opt.server, {"--env-file="},
      {{"ELEVENLABS_BASE_URL", fmt::format("http://127.0.0.1:{}", *fake_port)},
       {"ELEVENLABS_AGENT_ID", opt.agent},
       {"AUDIOSOCKET_HOST", "127.0.0.1"},
       {"AUDIOSOCKET_PORT", std::to_string(audiosocket_port)},
       {"AUDIOSOCKET_PORT_MIN", "0"},
       {"API_PORT", "0"},
       {"DB_URL", "sqlite:" + store_dir + "/calls.db"},
       {"STORE_JOURNAL", store_dir + "/journal.log"},
       {"LOG_LEVEL", "warn"}});
  const auto ready_by = steady::now() + 10s;
  while (!cb::bench::accepts_connections(audiosocket_port)) {
    if (const auto status = server.exit_status()) {
      throw std::runtime_error(fmt::format("{} exited (status {}) before listening", opt.server,
                                           WIFEXITED(*status) ? WEXITSTATUS(*status) : -1));
    }
    if (interrupted || steady::now() > ready_by) {
      throw std::runtime_error("the server did not listen within 10 s");
    }
    std::this_thread::sleep_for(50ms);
  }
  // The readiness probe was a connection too; let the server drop it before measuring idle.
  std::this_thread::sleep_for(500ms);
  const auto idle_rss = cb::bench::process_rss_kib(server.pid()).value_or(0);
  // The server's cost with no calls (timers, the agent client's service loop), the floor under
  // every step's CPU figure.
  const auto idle_cpu_before = cb::bench::process_cpu_time(server.pid());
  std::this_thread::sleep_for(1s);
  const auto idle_cpu_after = cb::bench::process_cpu_time(server.pid());
  const double idle_cpu_percent =
      idle_cpu_before && idle_cpu_after
          ? 100.0 * std::chrono::duration<double>(*idle_cpu_after - *idle_cpu_before).count()
          : 0.0;
  fmt::print(
      "server: {} (pid {}), idle: RSS {:.1f} MiB, CPU {:.1f} %; agent {}; hold {:.0f} s per "
      "step\n\n",
      opt.server, server.pid(), static_cast<double>(idle_rss) / 1024.0, idle_cpu_percent, opt.agent,
      std::chrono::duration<double>(opt.hold).count());

  print_header();
  std::vector<std::string> notes;
  bool any_broke = false;
  for (const auto calls : opt.steps) {
    const auto r = run_step(calls, opt, audiosocket_port, fake, server, idle_rss);
    print_row(r);
    for (auto& n : notes_for(r))
      notes.push_back(std::move(n));
    if (server.exit_status()) {
      notes.push_back("the server exited during the step");
      any_broke = true;
      break;
    }
    if (interrupted) break;
    if (r.broke) {
      any_broke = true;
      break;
    }
  }
  if (!notes.empty()) fmt::print("\n");
  for (const auto& n : notes)
    fmt::print("note: {}\n", n);
  server.terminate();
  fake.stop();
  return any_broke || interrupted ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto opt = parse_options(argc, argv);
    if (!opt) {
      usage(stdout);
      return 0;
    }
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    return run(*opt);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "bench_calls: {}\n", e.what());
    usage(stderr);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_calls: {}\n", e.what());
    return 1;
  }
}
