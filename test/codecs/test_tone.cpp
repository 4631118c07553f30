#include <catch2/catch.hpp>

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
