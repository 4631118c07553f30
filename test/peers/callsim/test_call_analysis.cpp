#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "apps/callsim/call_analysis.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

namespace cs = cb::callsim;
namespace as = cb::audiosocket;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t t0 = 1'000 * ms;
constexpr std::int64_t frame = 20 * ms;

// A report as the simulator would log it: 8 kHz frames every 20 ms, PCM recorded.
struct report_builder {
  cs::call_report report;
  std::int64_t next = t0;

  void add(double frequency_hz, int frames, double level_dbfs = -12.0) {
    cb::codecs::tone_generator tone(frequency_hz > 0.0 ? frequency_hz : 1.0, 8000, level_dbfs);
    for (int i = 0; i < frames; ++i) {
      std::vector<std::int16_t> samples(160);
      if (frequency_hz > 0.0) tone.generate(samples.data(), samples.size());
      cs::received_frame f;
      f.arrival_ns = next;
      f.k = as::kind::slin_8k;
      f.length = 320;
      f.level_dbfs = static_cast<float>(cb::codecs::level_dbfs(samples.data(), samples.size()));
      f.frequency_hz = static_cast<float>(
          cb::codecs::estimate_frequency_hz(samples.data(), samples.size(), 8000));
      f.pcm_offset = static_cast<std::uint32_t>(report.pcm.size());
      report.pcm.insert(report.pcm.end(), samples.begin(), samples.end());
      report.frames.push_back(f);
      next += frame;
    }
  }
};

}  // namespace

TEST_CASE("the dominant frequency is the one most heard, silence left out") {
  report_builder b;
  b.add(0.0, 10);
  b.add(440.0, 30);
  b.add(1000.0, 10);
  CHECK(cs::dominant_frequency_hz(b.report) == Approx(440.0).epsilon(0.01));
  const cs::time_window last_part{t0 + 40 * frame, b.next};
  CHECK(cs::dominant_frequency_hz(b.report, last_part) == Approx(1000.0).epsilon(0.01));
  const cs::time_window silent_part{t0, t0 + 10 * frame};
  CHECK(cs::dominant_frequency_hz(b.report, silent_part) == 0.0);
}

TEST_CASE("non-silent duration and first heard frame skip quiet frames") {
  report_builder b;
  b.add(0.0, 5);
  b.add(500.0, 3, -70.0);  // below the -50 dBFS threshold
  b.add(500.0, 12);
  CHECK(cs::non_silent_ms(b.report) == Approx(240.0));
  CHECK(cs::non_silent_ms(b.report, {}, -80.0) == Approx(300.0));
  CHECK(cs::first_non_silent_ns(b.report) == t0 + 8 * frame);
  CHECK(cs::first_non_silent_ns(b.report, -80.0) == t0 + 5 * frame);
}

TEST_CASE("the last frame with a tone is found by Goertzel, not fooled by another tone") {
  report_builder b;
  b.add(1000.0, 20);
  b.add(440.0, 20);
  b.add(0.0, 5);
  CHECK(cs::last_frame_with_tone_ns(b.report, 1000.0) == t0 + 19 * frame);
  CHECK(cs::last_frame_with_tone_ns(b.report, 440.0) == t0 + 39 * frame);
  CHECK_FALSE(cs::last_frame_with_tone_ns(b.report, 2000.0));
  const cs::time_window before_switch{t0, t0 + 10 * frame};
  CHECK(cs::last_frame_with_tone_ns(b.report, 1000.0, before_switch) == t0 + 9 * frame);
}

TEST_CASE("without recorded PCM no frame holds a tone") {
  report_builder b;
  b.add(1000.0, 5);
  for (auto& f : b.report.frames)
    f.pcm_offset = cs::received_frame::no_pcm;
  CHECK_FALSE(cs::last_frame_with_tone_ns(b.report, 1000.0));
}
