#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

using namespace cb::codecs;

TEST_CASE("tone generated frame by frame is one continuous sine at its frequency and level") {
  for (int rate : {8000, 16000, 44100, 48000}) {
    for (double hz : {300.0, 1000.0, 3400.0}) {
      tone_generator gen(hz, rate, -6.0);
      std::vector<std::int16_t> pcm(static_cast<std::size_t>(rate));  // one second
      for (std::size_t at = 0; at < pcm.size(); at += 137) {
        gen.generate(pcm.data() + at, std::min<std::size_t>(137, pcm.size() - at));
      }
      CHECK(estimate_frequency_hz(pcm.data(), pcm.size(), rate) == Approx(hz).epsilon(0.001));
      CHECK(level_dbfs(pcm.data(), pcm.size()) == Approx(-6.0 - 3.01).margin(0.05));
    }
  }
}

namespace {

// The largest difference between the generator's output, read `block` samples at a time, and
// round(amplitude * sin(2 pi f i / rate)) over `samples` samples.
int worst_error(double hz, int rate, double dbfs, std::size_t block, std::size_t samples) {
  const double amplitude = 32767.0 * std::pow(10.0, dbfs / 20.0);
  tone_generator gen(hz, rate, dbfs);
  std::vector<std::int16_t> out(block);
  int worst = 0;
  for (std::size_t at = 0; at < samples; at += block) {
    gen.generate(out.data(), block);
    for (std::size_t i = 0; i < block; ++i) {
      // The phase of sample at + i, reduced to one cycle before the sin() for accuracy.
      const double cycles = std::fmod(hz * static_cast<double>(at + i) / rate, 1.0);
      const auto exact = std::lround(amplitude * std::sin(2.0 * M_PI * cycles));
      worst = std::max(worst, static_cast<int>(std::labs(out[i] - exact)));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("the tone stays within one LSB of the exact sine for minutes") {
  struct tone {
    double hz;
    int rate;
    double dbfs;
  };
  for (const auto t : {tone{440.0, 8000, -12.0}, tone{1000.0, 8000, 0.0}, tone{3399.5, 16000, -3.0},
                       tone{17.0, 48000, -30.0}}) {
    INFO(t.hz << " Hz at " << t.rate);
    const auto frame = static_cast<std::size_t>(t.rate / 50);
    CHECK(worst_error(t.hz, t.rate, t.dbfs, frame, frame * 50 * 120) <= 1);
  }
}

TEST_CASE("a whole-hertz tone repeats after rate / gcd(rate, hz) samples, copied from one table") {
  CHECK(tone_generator(440.0, 16000, -12.0).period_samples() == 400);
  CHECK(tone_generator(300.0, 16000, -12.0).period_samples() == 160);
  CHECK(tone_generator(1000.0, 8000, -12.0).period_samples() == 8);
  // Too long a repetition, or none at all: the phasor.
  CHECK(tone_generator(441.0, 16000, -12.0).period_samples() == 0);
  CHECK(tone_generator(3399.5, 16000, -12.0).period_samples() == 0);
  // Read in pieces that do not divide the period, the table is still the sine.
  CHECK(worst_error(440.0, 16000, -12.0, 333, 333 * 1000) <= 1);
}

TEST_CASE("goertzel tells a present tone from an absent one") {
  tone_generator gen(1000.0, 8000, -3.0);
  std::vector<std::int16_t> pcm(1600);
  gen.generate(pcm.data(), pcm.size());
  const double present = goertzel_power(pcm.data(), pcm.size(), 8000, 1000.0);
  const double absent = goertzel_power(pcm.data(), pcm.size(), 8000, 1500.0);
  CHECK(present == Approx(0.5 * 0.5).epsilon(0.05));  // -3 dBFS amplitude ~0.708, squared / 2
  CHECK(absent < present / 1000.0);
}

TEST_CASE("frequency of silence or a block without two crossings is 0") {
  std::vector<std::int16_t> silence(800, 0);
  CHECK(estimate_frequency_hz(silence.data(), silence.size(), 8000) == 0.0);
  CHECK(estimate_frequency_hz(silence.data(), 0, 8000) == 0.0);
}
