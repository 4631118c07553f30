// The simulator against a small AudioSocket server on loopback. The machine is shared and noisy, so
// timing checks rest on what holds under any load: both ends read the same CLOCK_MONOTONIC, a frame
// scheduled against absolute deadlines never leaves before its slot, and nothing arrives before it
// was sent. What load can upset (how late a frame is) is checked on the median only.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/callsim/call_analysis.hpp"
#include "apps/callsim/callsim.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"
#include "fake_audiosocket_server.hpp"

namespace cs = cb::callsim;
namespace as = cb::audiosocket;
using cs::testing::fake_audiosocket_server;
using cs::testing::server_behaviour;
using namespace std::chrono_literals;

namespace {

constexpr auto call_timeout = 10s;
constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t frame_ns = 20 * ms;
// How early the simulator may do due work (simulator_options::timer_coalescing).
const std::int64_t early_ns = cs::simulator_options{}.timer_coalescing.count();
const std::string some_uuid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";

struct rig {
  explicit rig(server_behaviour behaviour = {}) : server(std::move(behaviour)) { sim.start(); }

  [[nodiscard]] cs::call_spec spec() const {
    cs::call_spec s;
    s.port = server.port();
    return s;
  }

  // A silent caller that listens until the server hangs up.
  [[nodiscard]] cs::call_spec listening_spec() const {
    auto s = spec();
    s.source = cs::silence_source{};
    s.end = cs::end_mode::wait_for_server;
    s.max_time = 5s;
    return s;
  }

  // Runs one call to its end; the simulator's report and the server's log of it.
  std::pair<cs::call_report, cs::testing::connection_log> run(cs::call_spec s) {
    const auto handle = sim.start_call(std::move(s));
    REQUIRE(handle);
    auto report = sim.wait(*handle, call_timeout);
    REQUIRE(report);
    auto logs = server.wait_for(1, call_timeout);
    REQUIRE(logs.size() == 1);
    return {std::move(*report), std::move(logs.front())};
  }

  fake_audiosocket_server server;
  cs::simulator sim;
};

std::int64_t stamp_of(const cs::testing::server_frame& f) {
  const auto sent = cs::stamp::read_s16le(f.payload.data(), f.payload.size());
  REQUIRE(sent);
  return *sent;
}

std::int64_t median(std::vector<std::int64_t> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

std::vector<std::uint8_t> bytes_of(std::initializer_list<std::uint8_t> list) {
  return list;
}

}  // namespace

TEST_CASE("the first frame is the call id, as the binary UUID of the spec's id") {
  rig r;
  auto spec = r.spec();
  spec.id = some_uuid;
  spec.duration = 100ms;
  const auto [report, log] = r.run(spec);
  REQUIRE_FALSE(log.frames.empty());
  CHECK(log.frames.front().k == as::kind::uuid);
  CHECK(log.id() == as::make_call_id(some_uuid));
  CHECK(report.uuid == some_uuid);
  CHECK(std::count_if(log.frames.begin(), log.frames.end(),
                      [](const auto& f) { return f.k == as::kind::uuid; }) == 1);
}

TEST_CASE("OSdial's form sends the first 16 characters of the id as ASCII") {
  rig r;
  auto spec = r.spec();
  spec.id = some_uuid;
  spec.ascii_id = true;
  spec.duration = 60ms;
  const auto [report, log] = r.run(spec);
  const auto id = log.id();
  REQUIRE(id);
  CHECK(id->ascii);
  CHECK(id->text() == some_uuid.substr(0, 16));
  CHECK(report.uuid == some_uuid.substr(0, 16));
}

TEST_CASE("without an id each call gets its own random version 4 UUID") {
  rig r;
  auto spec = r.spec();
  spec.duration = 60ms;
  const auto first = r.sim.start_call(spec);
  const auto second = r.sim.start_call(spec);
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(r.sim.wait(*first, call_timeout));
  REQUIRE(r.sim.wait(*second, call_timeout));
  const auto logs = r.server.wait_for(2, call_timeout);
  REQUIRE(logs.size() == 2);
  for (const auto& log : logs) {
    const auto id = log.id();
    REQUIRE(id);
    CHECK_FALSE(id->ascii);
    CHECK((id->bytes[6] >> 4) == 4);
    CHECK((id->bytes[8] & 0xc0) == 0x80);
  }
  CHECK(logs[0].id() != logs[1].id());
}

TEST_CASE("audio goes out as one 20 ms frame per 20 ms, 8 kHz by default") {
  rig r;
  auto spec = r.spec();
  spec.duration = 1s;
  spec.stamp = true;  // each frame carries the time it left
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 50);
  CHECK(report.audio_frames_sent == 50);
  std::vector<std::int64_t> lateness;
  for (std::size_t k = 0; k < audio.size(); ++k) {
    CHECK(audio[k]->k == as::kind::slin_8k);
    CHECK(audio[k]->payload.size() == 320);
    const auto slot = report.connected_ns + static_cast<std::int64_t>(k + 1) * frame_ns;
    const auto sent = stamp_of(*audio[k]);
    CHECK(sent >= slot - early_ns);
    lateness.push_back(sent - slot);
  }
  CHECK(median(lateness) < 5 * ms);
}

TEST_CASE("a 16 kHz call sends 0x12 frames of 640 bytes") {
  rig r;
  auto spec = r.spec();
  spec.frame_kind = as::kind::slin_16k;
  spec.source = cs::tone_source{1200.0};
  spec.duration = 200ms;
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 10);
  for (const auto* f : audio) {
    CHECK(f->k == as::kind::slin_16k);
    CHECK(f->payload.size() == 640);
  }
  const auto samples = log.samples();
  CHECK(cb::codecs::estimate_frequency_hz(samples.data(), samples.size(), 16000) ==
        Approx(1200.0).epsilon(0.005));
}

TEST_CASE("a clip is sent 20 ms at a time, its last frame short, then the caller hangs up") {
  rig r;
  auto clip = std::make_shared<cs::audio_clip>();
  clip->samples.resize(1000);
  for (std::size_t i = 0; i < clip->samples.size(); ++i) {
    clip->samples[i] = static_cast<std::int16_t>(i * 7 - 3000);
  }
  auto spec = r.spec();
  spec.source = cs::clip_source{clip, cs::clip_source::then::stop};
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 7);
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(audio[i]->payload.size() == 320);
  CHECK(audio[6]->payload.size() == 80);
  CHECK(log.samples() == clip->samples);
  CHECK(report.end == cs::call_end::caller_hangup);
  CHECK(log.eof);
}

TEST_CASE("a looping clip restarts after its short frame") {
  rig r;
  auto clip = std::make_shared<cs::audio_clip>();
  clip->samples.assign(200, 0);
  for (std::size_t i = 0; i < clip->samples.size(); ++i) {
    clip->samples[i] = static_cast<std::int16_t>(i + 1);
  }
  auto spec = r.spec();
  spec.source = cs::clip_source{clip, cs::clip_source::then::loop};
  spec.duration = 120ms;
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 6);
  for (std::size_t i = 0; i < audio.size(); ++i) {
    CHECK(audio[i]->payload.size() == (i % 2 == 0 ? 320U : 80U));
  }
  std::vector<std::int16_t> expected;
  for (int round = 0; round < 3; ++round) {
    expected.insert(expected.end(), clip->samples.begin(), clip->samples.end());
  }
  CHECK(log.samples() == expected);
}

TEST_CASE("DTMF digits go out as single 0x03 frames at their times, among the audio") {
  rig r;
  auto spec = r.spec();
  spec.duration = 400ms;
  spec.dtmf = {{250ms, '#'}, {100ms, '5'}};
  const auto [report, log] = r.run(spec);
  std::vector<const cs::testing::server_frame*> digits;
  for (const auto& f : log.frames) {
    if (f.k == as::kind::dtmf) digits.push_back(&f);
  }
  REQUIRE(digits.size() == 2);
  CHECK(digits[0]->payload == bytes_of({'5'}));
  CHECK(digits[1]->payload == bytes_of({'#'}));
  CHECK(digits[0]->arrival_ns >= report.connected_ns + 100 * ms - early_ns);
  CHECK(digits[1]->arrival_ns >= report.connected_ns + 250 * ms - early_ns);
  CHECK(log.audio().size() == 20);
  CHECK(report.dtmf_sent == 2);
}

TEST_CASE("nothing is sent during a gap, as a silent Asterisk leg sends nothing") {
  rig r;
  auto spec = r.spec();
  spec.duration = 400ms;
  spec.gaps = {{100ms, 200ms}};
  spec.stamp = true;
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 10);  // slots at 20..400 ms, minus those at 100..280 ms
  CHECK(stamp_of(*audio[4]) < stamp_of(*audio[5]));
  CHECK(stamp_of(*audio[5]) >= report.connected_ns + 300 * ms - early_ns);
}

TEST_CASE("hanging up after the duration is an EOF at the server, never a 0x00") {
  rig r;
  auto spec = r.spec();
  spec.duration = 200ms;
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::caller_hangup);
  CHECK(log.eof);
  CHECK_FALSE(log.reset);
  CHECK(std::none_of(log.frames.begin(), log.frames.end(),
                     [](const auto& f) { return f.k == as::kind::hangup; }));
  CHECK(report.ended_ns - report.connected_ns >= 200 * ms - early_ns);
  CHECK(log.closed_ns >= report.ended_ns);
}

TEST_CASE("a 0x00 from the server ends the call as a server hangup, and the socket closes") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 10}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  rig r(behaviour);
  auto spec = r.listening_spec();
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::server_hangup);
  CHECK(report.server_sent_hangup);
  CHECK(report.audio_frames_received == 10);
  CHECK(log.eof);
}

TEST_CASE("the server closing ends the call as a server close") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 5}};
  behaviour.after_play = server_behaviour::then::close;
  rig r(behaviour);
  auto spec = r.spec();
  spec.end = cs::end_mode::wait_for_server;
  spec.max_time = 5s;
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::server_close);
  CHECK(report.server_closed);
  CHECK_FALSE(report.server_sent_hangup);
}

TEST_CASE("max_time hangs up a call the server never ends") {
  rig r;
  auto spec = r.spec();
  spec.end = cs::end_mode::wait_for_server;
  spec.duration = 100ms;
  spec.max_time = 300ms;
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::max_time);
  CHECK(report.audio_frames_sent == 5);
  CHECK(log.eof);
  CHECK(report.ended_ns - report.connecting_ns >= 300 * ms - early_ns);
}

TEST_CASE("hangup() closes a call at once") {
  rig r;
  auto spec = r.spec();
  spec.duration = 20s;
  const auto handle = r.sim.start_call(spec);
  REQUIRE(handle);
  CHECK_FALSE(r.sim.wait(*handle, 100ms));
  CHECK(r.sim.hangup(*handle));
  const auto report = r.sim.wait(*handle, call_timeout);
  REQUIRE(report);
  CHECK(report->end == cs::call_end::local_hangup);
  CHECK_FALSE(r.sim.hangup(*handle));
  const auto logs = r.server.wait_for(1, call_timeout);
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].eof);
}

TEST_CASE("nothing listening is a failed connect") {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  REQUIRE(::bind(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  ::close(probe);  // the port is now closed

  cs::simulator sim;
  sim.start();
  cs::call_spec spec;
  spec.port = ntohs(addr.sin_port);
  spec.duration = 1s;
  const auto handle = sim.start_call(spec);
  REQUIRE(handle);
  const auto report = sim.wait(*handle, call_timeout);
  REQUIRE(report);
  CHECK(report->end == cs::call_end::connect_failed);
  CHECK(report->error_number == ECONNREFUSED);
  CHECK(report->connected_ns == 0);
}

TEST_CASE("a server tone paced at 20 ms is heard at its frequency, for its length, on time") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 50}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  rig r(behaviour);
  auto spec = r.listening_spec();
  spec.record_pcm = true;
  spec.timing.late_after = 30ms;  // generous: the server shares a noisy machine
  const auto [report, log] = r.run(spec);
  CHECK(report.heard_hz == Approx(1000.0).epsilon(0.01));
  CHECK(report.heard_ms == Approx(1000.0));
  CHECK(report.timing.frames == 50);
  // A stall of either thread makes a few frames late and the next ones a burst; most stay on time.
  CHECK(report.timing.late_frames * 2 < report.timing.frames);
  CHECK(report.timing.deviation_p50_ms < 5.0);
  CHECK(report.first_heard_ns == cs::first_non_silent_ns(report));
  CHECK(cs::last_frame_with_tone_ns(report, 1000.0) == report.last_heard_ns);
  CHECK(report.frames.size() == 51);  // the audio and the 0x00
  CHECK(report.pcm.size() == std::size_t{50} * 160);
}

TEST_CASE("after a change of tone the old one is gone from the very next frame") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 25}, {440.0, 25}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  rig r(behaviour);
  auto spec = r.listening_spec();
  spec.record_pcm = true;
  const auto [report, log] = r.run(spec);
  REQUIRE(report.frames.size() >= 50);
  const auto last_old = report.frames[24].arrival_ns;
  const auto first_new = report.frames[25].arrival_ns;
  CHECK(cs::last_frame_with_tone_ns(report, 1000.0) == last_old);
  const cs::time_window after{first_new, report.frames[49].arrival_ns + 1};
  const cs::time_window before{report.frames[0].arrival_ns, first_new};
  CHECK(cs::dominant_frequency_hz(report, after) == Approx(440.0).epsilon(0.01));
  CHECK(cs::dominant_frequency_hz(report, before) == Approx(1000.0).epsilon(0.01));
}

TEST_CASE("forbidden frames from the server are counted when recording violations") {
  server_behaviour behaviour;
  auto& raw = behaviour.after_first_audio;
  const auto id = as::uuid_frame(*as::make_call_id(some_uuid));
  raw.insert(raw.end(), id.begin(), id.end());
  raw.insert(raw.end(), {0x03, 0x00, 0x01, '7', 0xff, 0x00, 0x00});
  rig r(behaviour);
  auto spec = r.spec();
  spec.duration = 300ms;
  spec.on_violation = cs::violation_policy::record;
  const auto [report, log] = r.run(spec);
  CHECK(report.protocol_violations == 3);
  CHECK(report.end == cs::call_end::caller_hangup);
  CHECK(report.detail.find("0x01") != std::string::npos);
  CHECK(log.eof);
}

TEST_CASE("a forbidden frame tears the call down as Asterisk does: the server sees a reset") {
  server_behaviour behaviour;
  behaviour.after_first_audio = {0x03, 0x00, 0x01, '7'};
  rig r(behaviour);
  auto spec = r.spec();
  spec.duration = 5s;
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::protocol_violation);
  CHECK(report.protocol_violations == 1);
  CHECK(log.reset);
}

TEST_CASE("a zero-length audio frame ends the call even when recording violations") {
  server_behaviour behaviour;
  behaviour.after_first_audio = {0x10, 0x00, 0x00};
  rig r(behaviour);
  auto spec = r.spec();
  spec.duration = 5s;
  spec.on_violation = cs::violation_policy::record;
  const auto [report, log] = r.run(spec);
  CHECK(report.end == cs::call_end::protocol_violation);
  CHECK(report.protocol_violations == 1);
  CHECK(report.detail.find("empty_audio") != std::string::npos);
  CHECK(log.reset);
}

TEST_CASE("stamped frames carry their send time to the server") {
  rig r;
  auto spec = r.spec();
  spec.duration = 300ms;
  spec.stamp = true;
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 15);
  std::int64_t previous = report.connected_ns;
  for (const auto* f : audio) {
    const auto sent = stamp_of(*f);
    CHECK(sent > previous);
    CHECK(sent <= f->arrival_ns);
    CHECK(sent <= report.ended_ns);
    previous = sent;
  }
}

TEST_CASE("stamps in the server's audio give the downlink latency") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 25, true}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  rig r(behaviour);
  auto spec = r.listening_spec();
  const auto [report, log] = r.run(spec);
  CHECK(report.downlink.count == 25);
  CHECK(report.downlink.min_ms >= 0.0);
  CHECK(report.downlink.p50_ms <= report.downlink.p99_ms);
  CHECK(report.downlink.max_ms * 1e6 <= static_cast<double>(report.ended_ns - log.accepted_ns));
}

TEST_CASE("fifty simultaneous calls each deliver their own tone") {
  constexpr int calls = 50;
  rig r;
  std::map<std::string, double> tone_of;
  std::vector<cs::call_handle> handles;
  for (int i = 0; i < calls; ++i) {
    auto spec = r.spec();
    const double hz = 300.0 + 40.0 * i;
    spec.source = cs::tone_source{hz};
    spec.duration = 1s;
    spec.start_delay = std::chrono::microseconds{400 * i};
    const auto handle = r.sim.start_call(spec);
    REQUIRE(handle);
    handles.push_back(*handle);
    tone_of[r.sim.report(*handle)->uuid] = hz;
  }
  for (const auto handle : handles) {
    const auto report = r.sim.wait(handle, call_timeout);
    REQUIRE(report);
    CHECK(report->end == cs::call_end::caller_hangup);
  }
  const auto logs = r.server.wait_for(calls, call_timeout);
  REQUIRE(logs.size() == calls);
  for (const auto& log : logs) {
    const auto id = log.id();
    REQUIRE(id);
    const auto expected = tone_of.find(id->text());
    REQUIRE(expected != tone_of.end());
    const auto samples = log.samples();
    CHECK(samples.size() == std::size_t{50} * 160);
    CHECK(cb::codecs::estimate_frequency_hz(samples.data(), samples.size(), 8000) ==
          Approx(expected->second).epsilon(0.002));
  }
  const auto total = r.sim.aggregate();
  CHECK(total.calls == calls);
  CHECK(total.ends[static_cast<std::size_t>(cs::call_end::caller_hangup)] == calls);
  CHECK(total.audio_frames_sent == std::uint64_t{50} * calls);
  CHECK(r.sim.running() == 0);
}

TEST_CASE("several workers with batched wake-ups hear every call whole") {
  constexpr int calls = 10;
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 25}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  fake_audiosocket_server server(behaviour);
  cs::simulator_options options;
  options.threads = 2;
  options.min_wake_interval = 2ms;
  cs::simulator sim(options);
  sim.start();
  std::vector<cs::call_handle> handles;
  for (int i = 0; i < calls; ++i) {
    cs::call_spec spec;
    spec.port = server.port();
    spec.source = cs::silence_source{};
    spec.end = cs::end_mode::wait_for_server;
    spec.max_time = 5s;
    const auto handle = sim.start_call(spec);
    REQUIRE(handle);
    handles.push_back(*handle);
  }
  for (const auto handle : handles) {
    const auto report = sim.wait(handle, call_timeout);
    REQUIRE(report);
    CHECK(report->end == cs::call_end::server_hangup);
    CHECK(report->audio_frames_received == 25);
    CHECK(report->heard_hz == Approx(1000.0).epsilon(0.01));
    CHECK(report->timing.frames == 25);
    // Arrival times are the kernel's receive times, so reading late does not bunch them up.
    CHECK(report->timing.deviation_p50_ms < 5.0);
    CHECK(report->frames.front().arrival_ns >= report->connected_ns);
  }
  const auto logs = server.wait_for(calls, call_timeout);
  CHECK(logs.size() == calls);
}

TEST_CASE("start_call refuses calls it cannot place") {
  cs::simulator sim;
  cs::call_spec spec;
  spec.port = 9;
  spec.duration = 1s;
  CHECK(sim.start_call(spec).error() == cs::start_error::not_running);
  sim.start();

  auto bad_id = spec;
  bad_id.id = "not-a-uuid";
  CHECK(sim.start_call(bad_id).error() == cs::start_error::bad_id);

  auto bad_kind = spec;
  bad_kind.frame_kind = as::kind::dtmf;
  CHECK(sim.start_call(bad_kind).error() == cs::start_error::bad_frame_kind);

  auto wrong_rate = spec;
  auto clip = std::make_shared<cs::audio_clip>();
  clip->rate_hz = 16000;
  wrong_rate.source = cs::clip_source{clip};
  CHECK(sim.start_call(wrong_rate).error() == cs::start_error::bad_source);

  auto bad_digit = spec;
  bad_digit.dtmf = {{0ms, 'x'}};
  CHECK(sim.start_call(bad_digit).error() == cs::start_error::bad_dtmf_digit);

  auto endless = spec;
  endless.duration = 0ms;
  CHECK(sim.start_call(endless).error() == cs::start_error::never_ends);

  auto nowhere = spec;
  nowhere.host = "no such host.invalid";
  CHECK(sim.start_call(nowhere).error() == cs::start_error::bad_address);
}

TEST_CASE("a tone-bursts caller streams silence between bursts and reports when it spoke") {
  rig r;
  auto spec = r.spec();
  // A 160 ms cycle: frames 0-4 silent, 5-7 the tone, and again from frame 8.
  spec.source = cs::tone_bursts_source{cs::tone_source{1000.0, -12.0}, 100ms, 60ms};
  spec.duration = 400ms;
  spec.stamp = true;
  const auto [report, log] = r.run(spec);
  const auto audio = log.audio();
  REQUIRE(audio.size() == 20);
  std::vector<std::int64_t> speech_stamps;
  for (std::size_t k = 0; k < audio.size(); ++k) {
    const auto& payload = audio[k]->payload;
    std::vector<std::int16_t> samples(payload.size() / 2);
    cb::codecs::load_s16le(payload.data(), samples.size(), samples.data());
    const double level = cb::codecs::level_dbfs(samples.data() + cs::stamp::samples,
                                                samples.size() - cs::stamp::samples);
    INFO("frame " << k);
    if (k % 8 >= 5) {
      CHECK(level > -20.0);
      speech_stamps.push_back(stamp_of(*audio[k]));
    } else {
      CHECK(level < -90.0);
    }
  }
  CHECK(report.speech_sent_ns == speech_stamps);
}

TEST_CASE("the caller notes each frame in which the audio it hears starts or stops") {
  server_behaviour behaviour;
  behaviour.play = {{1000.0, 10, true}, {0.0, 5}, {800.0, 5}, {0.0, 5}};
  behaviour.after_play = server_behaviour::then::send_hangup;
  rig r(behaviour);
  auto spec = r.listening_spec();
  const auto [report, log] = r.run(spec);
  REQUIRE(report.frames.size() == 26);
  REQUIRE(report.audio_stops_ns.size() == 2);
  CHECK(report.audio_stops_ns[0] == report.frames[10].arrival_ns);
  CHECK(report.audio_stops_ns[1] == report.frames[20].arrival_ns);
  REQUIRE(report.audio_starts_ns.size() == 2);
  CHECK(report.audio_starts_ns[0] == report.frames[0].arrival_ns);
  CHECK(report.audio_starts_ns[1] == report.frames[15].arrival_ns);
}
