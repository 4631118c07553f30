#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "apps/callsim/tone_oscillator.hpp"
#include "codecs/tone.hpp"

TEST_CASE("the oscillator makes tone_generator's signal to within one LSB, for minutes") {
  struct tone {
    double hz;
    int rate;
    double dbfs;
  };
  for (const auto t : {tone{440.0, 8000, -12.0}, tone{1000.0, 8000, 0.0}, tone{3399.5, 16000, -3.0},
                       tone{17.0, 48000, -30.0}}) {
    cb::callsim::tone_oscillator fast(t.hz, t.rate, t.dbfs);
    cb::codecs::tone_generator reference(t.hz, t.rate, t.dbfs);
    const auto frame = static_cast<std::size_t>(t.rate / 50);
    std::vector<std::int16_t> a(frame);
    std::vector<std::int16_t> b(frame);
    int worst = 0;
    for (int k = 0; k < 50 * 120; ++k) {
      fast.generate(a.data(), frame);
      reference.generate(b.data(), frame);
      for (std::size_t i = 0; i < frame; ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]));
    }
    INFO(t.hz << " Hz at " << t.rate);
    CHECK(worst <= 1);
  }
}

TEST_CASE("a whole-hertz tone repeats after rate / gcd(rate, hz) samples, copied from one table") {
  CHECK(cb::callsim::tone_oscillator(440.0, 16000, -12.0).period_samples() == 400);
  CHECK(cb::callsim::tone_oscillator(300.0, 16000, -12.0).period_samples() == 160);
  CHECK(cb::callsim::tone_oscillator(1000.0, 8000, -12.0).period_samples() == 8);
  // Too long a repetition, or none at all: the phasor.
  CHECK(cb::callsim::tone_oscillator(441.0, 16000, -12.0).period_samples() == 0);
  CHECK(cb::callsim::tone_oscillator(3399.5, 16000, -12.0).period_samples() == 0);

  // Read in pieces that do not divide the period, the table is still tone_generator's signal.
  cb::callsim::tone_oscillator fast(440.0, 16000, -12.0);
  cb::codecs::tone_generator reference(440.0, 16000, -12.0);
  std::vector<std::int16_t> a(333);
  std::vector<std::int16_t> b(333);
  int worst = 0;
  for (int k = 0; k < 1000; ++k) {
    fast.generate(a.data(), a.size());
    reference.generate(b.data(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  CHECK(worst <= 1);
}
