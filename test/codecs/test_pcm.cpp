#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"

namespace codecs = cb::codecs;

namespace {

constexpr double pi = 3.14159265358979323846;

std::vector<std::int16_t> sine(double amplitude, double freq_hz, int rate_hz, std::size_t n) {
  std::vector<std::int16_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::int16_t>(
        std::lround(amplitude * std::sin(2 * pi * freq_hz * static_cast<double>(i) / rate_hz)));
  }
  return out;
}

}  // namespace

TEST_CASE("level_dbfs of a full-scale sine is -3.01 dBFS", "[pcm]") {
  // 1 kHz at 8 kHz: 160 samples are exactly 20 periods.
  const auto tone = sine(32767, 1000, 8000, 160);
  CHECK(codecs::level_dbfs(tone.data(), tone.size()) == Approx(-3.01).margin(0.01));
}

TEST_CASE("level_dbfs follows the amplitude in steps of 20 dB per decade", "[pcm]") {
  const auto loud = sine(10000, 440, 16000, 16000);
  const auto quiet = sine(1000, 440, 16000, 16000);
  const double loud_db = codecs::level_dbfs(loud.data(), loud.size());
  CHECK(loud_db == Approx(20 * std::log10(10000 / 32768.0) - 3.0103).margin(0.01));
  CHECK(loud_db - codecs::level_dbfs(quiet.data(), quiet.size()) == Approx(20.0).margin(0.01));

  const std::vector<std::int16_t> square(320, -32768);
  CHECK(codecs::level_dbfs(square.data(), square.size()) == Approx(0.0).margin(1e-9));
}

TEST_CASE("level_dbfs reports the documented floor for silence and empty input", "[pcm]") {
  const std::vector<std::int16_t> silence(160, 0);
  CHECK(codecs::level_dbfs(silence.data(), silence.size()) == codecs::silence_floor_dbfs);
  CHECK(codecs::level_dbfs(nullptr, 0) == codecs::silence_floor_dbfs);
  CHECK(codecs::silence_floor_dbfs == -120.0);

  // One LSB in a million samples is about -150 dBFS: clamped to the floor, never below it.
  std::vector<std::int16_t> almost_silent(1000000, 0);
  almost_silent[0] = 1;
  CHECK(codecs::level_dbfs(almost_silent.data(), almost_silent.size()) ==
        codecs::silence_floor_dbfs);
  // One LSB in a frame is above the floor.
  CHECK(codecs::level_dbfs(almost_silent.data(), 160) > codecs::silence_floor_dbfs);
}

TEST_CASE("peak level finds the largest magnitude, counting -32768 as full scale", "[pcm]") {
  std::vector<std::int16_t> samples = {3, -7, 120, -4000, 3999, 0};
  CHECK(codecs::peak_amplitude(samples.data(), samples.size()) == 4000);
  CHECK(codecs::peak_dbfs(samples.data(), samples.size()) ==
        Approx(20 * std::log10(4000 / 32768.0)).margin(1e-9));

  samples.push_back(-32768);
  CHECK(codecs::peak_amplitude(samples.data(), samples.size()) == 32768);
  CHECK(codecs::peak_dbfs(samples.data(), samples.size()) == Approx(0.0).margin(1e-12));

  const std::vector<std::int16_t> silence(80, 0);
  CHECK(codecs::peak_amplitude(silence.data(), silence.size()) == 0);
  CHECK(codecs::peak_dbfs(silence.data(), silence.size()) == codecs::silence_floor_dbfs);
}

TEST_CASE("fill_silence writes zero samples and mu-law silence codes", "[pcm]") {
  std::vector<std::int16_t> pcm(163, 1234);
  codecs::fill_silence(pcm.data(), 160);
  for (std::size_t i = 0; i < 160; ++i)
    REQUIRE(pcm[i] == 0);
  CHECK(pcm[160] == 1234);

  std::vector<std::uint8_t> ulaw(161, 0x00);
  codecs::fill_ulaw_silence(ulaw.data(), 160);
  for (std::size_t i = 0; i < 160; ++i) {
    REQUIRE(ulaw[i] == 0xFF);
    REQUIRE(codecs::ulaw_to_linear(ulaw[i]) == 0);
  }
  CHECK(ulaw[160] == 0x00);
}

TEST_CASE("load_s16le reads little-endian byte pairs", "[pcm]") {
  const std::uint8_t bytes[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0xFF, 0x7F,
                                0x00, 0x80, 0xFF, 0xFF, 0x34, 0x12, 0xCC};
  std::int16_t samples[7] = {};
  codecs::load_s16le(bytes, 7, samples);
  CHECK(samples[0] == 0);
  CHECK(samples[1] == 1);
  CHECK(samples[2] == 256);
  CHECK(samples[3] == 32767);
  CHECK(samples[4] == -32768);
  CHECK(samples[5] == -1);
  CHECK(samples[6] == 0x1234);

  // Misaligned source: AudioSocket payloads follow a 3-byte header.
  std::int16_t shifted[1] = {};
  codecs::load_s16le(bytes + 13, 1, shifted);
  CHECK(shifted[0] == static_cast<std::int16_t>(0xCC12));
}

TEST_CASE("store_s16le writes little-endian byte pairs and round-trips every sample", "[pcm]") {
  const std::int16_t samples[] = {0, 1, 256, 32767, -32768, -1, 0x1234};
  std::uint8_t bytes[14] = {};
  codecs::store_s16le(samples, 7, bytes);
  const std::uint8_t expected[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0xFF,
                                   0x7F, 0x00, 0x80, 0xFF, 0xFF, 0x34, 0x12};
  for (std::size_t i = 0; i < sizeof expected; ++i)
    CHECK(int{bytes[i]} == int{expected[i]});

  std::vector<std::int16_t> all;
  for (int x = -32768; x <= 32767; ++x)
    all.push_back(static_cast<std::int16_t>(x));
  std::vector<std::uint8_t> wire(all.size() * 2);
  std::vector<std::int16_t> back(all.size());
  codecs::store_s16le(all.data(), all.size(), wire.data());
  codecs::load_s16le(wire.data(), all.size(), back.data());
  CHECK(back == all);
}

TEST_CASE("apply_fade ramps the gain linearly from the first sample", "[pcm]") {
  std::vector<std::int16_t> ones(4, 10000);
  codecs::apply_fade(ones.data(), ones.size(), 1.0F, 0.0F);
  CHECK(ones == std::vector<std::int16_t>{10000, 7500, 5000, 2500});

  std::vector<std::int16_t> negative(4, -10000);
  codecs::apply_fade(negative.data(), negative.size(), 0.0F, 1.0F);
  CHECK(negative == std::vector<std::int16_t>{0, -2500, -5000, -7500});

  std::vector<std::int16_t> unity = {-32768, -1, 0, 1, 32767};
  const auto before = unity;
  codecs::apply_fade(unity.data(), unity.size(), 1.0F, 1.0F);
  CHECK(unity == before);

  codecs::apply_fade(nullptr, 0, 1.0F, 0.0F);
}

TEST_CASE("apply_fade split over frames equals one fade over the whole span", "[pcm]") {
  const auto tone = sine(20000, 1000, 8000, 80);  // 10 ms: the barge-in fade-out
  auto whole = tone;
  codecs::apply_fade(whole.data(), 80, 1.0F, 0.0F);

  auto split = tone;
  codecs::apply_fade(split.data(), 40, 1.0F, 0.5F);
  codecs::apply_fade(split.data() + 40, 40, 0.5F, 0.0F);
  for (std::size_t i = 0; i < tone.size(); ++i) {
    INFO("sample " << i);
    CHECK(std::abs(split[i] - whole[i]) <= 1);
  }
  // The fade ends near silence: the last sample carries 1/80 of the gain.
  CHECK(std::abs(int{whole.back()}) <= 20000 / 80 + 1);
}

TEST_CASE("apply_fade saturates instead of wrapping when the gain exceeds 1", "[pcm]") {
  std::vector<std::int16_t> loud = {30000, -30000, 100};
  codecs::apply_fade(loud.data(), loud.size(), 2.0F, 2.0F);
  CHECK(loud == std::vector<std::int16_t>{32767, -32768, 200});
}
