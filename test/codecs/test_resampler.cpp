#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "codecs/resampler.hpp"

using cb::codecs::resampler;
using cb::codecs::resampler_error;

namespace {

constexpr double pi = 3.14159265358979323846;
constexpr int all_rates[] = {8000, 12000, 16000, 22050, 24000, 32000, 44100, 48000};

std::vector<std::int16_t> tone(double freq_hz, int rate_hz, std::size_t n, double amplitude) {
  std::vector<std::int16_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    // A phase offset keeps samples off exact zeros, where rounding would blur crossings.
    const double phase = 2 * pi * freq_hz * static_cast<double>(i) / rate_hz + 0.3;
    out[i] = static_cast<std::int16_t>(std::lround(amplitude * std::sin(phase)));
  }
  return out;
}

// Runs input through r in chunks of the given sizes (cycled), as a call's frames would arrive.
std::vector<std::int16_t> run_chunked(resampler& r, const std::vector<std::int16_t>& in,
                                      const std::vector<std::size_t>& chunk_sizes) {
  std::vector<std::int16_t> out;
  std::vector<std::int16_t> buffer;
  std::size_t pos = 0;
  for (std::size_t k = 0; pos < in.size(); ++k) {
    const std::size_t n = std::min(chunk_sizes[k % chunk_sizes.size()], in.size() - pos);
    buffer.resize(r.max_output(n));
    const std::size_t written = r.process(in.data() + pos, n, buffer.data(), buffer.size());
    REQUIRE(written <= r.max_output(n));
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(written));
    pos += n;
  }
  return out;
}

std::vector<std::int16_t> run_whole(resampler& r, const std::vector<std::int16_t>& in) {
  return run_chunked(r, in, {in.size()});
}

// Frequency from upward zero crossings, interpolated between samples, over [from, end).
double measured_frequency(const std::vector<std::int16_t>& s, std::size_t from, int rate_hz) {
  double first = -1;
  double last = -1;
  int crossings = 0;
  for (std::size_t i = from + 1; i < s.size(); ++i) {
    if (s[i - 1] < 0 && s[i] >= 0) {
      const double t =
          static_cast<double>(i - 1) + static_cast<double>(-s[i - 1]) / (s[i] - s[i - 1]);
      if (first < 0) first = t;
      last = t;
      ++crossings;
    }
  }
  REQUIRE(crossings > 100);
  return (crossings - 1) * rate_hz / (last - first);
}

double rms(const std::vector<std::int16_t>& s, std::size_t from) {
  double sum = 0;
  for (std::size_t i = from; i < s.size(); ++i)
    sum += static_cast<double>(s[i]) * s[i];
  return std::sqrt(sum / static_cast<double>(s.size() - from));
}

}  // namespace

TEST_CASE("resampler keeps a 1 kHz tone at 1 kHz for every pair of supported rates",
          "[resampler]") {
  for (const int in_rate : all_rates) {
    for (const int out_rate : all_rates) {
      if (in_rate == out_rate) continue;
      INFO(in_rate << " Hz -> " << out_rate << " Hz");
      resampler r(in_rate, out_rate);
      const auto in = tone(1000, in_rate, static_cast<std::size_t>(in_rate) / 2, 16000);
      // 20 ms frames, each rate's own frame size (441 and 882 samples included).
      const auto out = run_chunked(r, in, {static_cast<std::size_t>(in_rate) / 50});

      // About half a second of output minus the filter delay, which is a few ms.
      const auto expected_len = static_cast<double>(in.size()) * out_rate / in_rate;
      CHECK(static_cast<double>(out.size()) >= expected_len - r.output_latency() - 2);
      CHECK(static_cast<double>(out.size()) <= expected_len + 1);

      // Skip the delay line filling up, then check pitch and level.
      const auto settled = 2 * static_cast<std::size_t>(r.output_latency());
      CHECK(measured_frequency(out, settled, out_rate) == Approx(1000.0).margin(0.01));
      CHECK(rms(out, settled) == Approx(16000 / std::sqrt(2.0)).epsilon(0.01));
    }
  }
}

TEST_CASE("resampler round trip 8k -> 16k -> 8k keeps 60 dB SNR across the telephone band",
          "[resampler]") {
  for (const double freq : {300.0, 317.0, 1013.0, 2087.0, 3011.0, 3307.0, 3400.0}) {
    INFO(freq << " Hz");
    resampler up(8000, 16000);
    resampler down(16000, 8000);
    const auto in = tone(freq, 8000, 8000, 16000);
    const auto wide = run_chunked(up, in, {160});
    const auto back = run_chunked(down, wide, {320});

    // Total delay in 8 kHz samples: the upsampler's, counted at its input, plus the
    // downsampler's, counted at its output.
    const auto delay = static_cast<std::size_t>(up.input_latency()) +
                       static_cast<std::size_t>(down.output_latency());
    REQUIRE(delay > 0);
    REQUIRE(back.size() + delay >= in.size());

    double signal = 0;
    double noise = 0;
    for (std::size_t i = 400; i + 400 < in.size(); ++i) {
      const double error = back[i + delay] - in[i];
      signal += static_cast<double>(in[i]) * in[i];
      noise += error * error;
    }
    const double snr_db = noise == 0 ? 200.0 : 10 * std::log10(signal / noise);
    CHECK(snr_db >= 60.0);
  }
}

TEST_CASE("resampler output does not depend on how the input is chunked", "[resampler]") {
  struct pair {
    int in_rate;
    int out_rate;
  };
  // Odd sizes, single samples, Asterisk's 64- and 138-sample frames (128 and 276 bytes),
  // and 20 ms at 44.1 kHz.
  const std::vector<std::size_t> chunks = {1, 7, 64, 138, 3, 882, 251, 2, 160};
  for (const auto [in_rate, out_rate] :
       {pair{8000, 16000}, pair{16000, 8000}, pair{44100, 8000}, pair{8000, 44100},
        pair{22050, 48000}, pair{48000, 12000}}) {
    INFO(in_rate << " Hz -> " << out_rate << " Hz");
    const auto in = tone(440, in_rate, static_cast<std::size_t>(in_rate) / 4, 12000);
    resampler whole(in_rate, out_rate);
    resampler split(in_rate, out_rate);
    CHECK(split.process(nullptr, 0, nullptr, 0) == 0);
    CHECK(run_chunked(split, in, chunks) == run_whole(whole, in));
  }
}

TEST_CASE("resampler reset forgets history and behaves like a new instance", "[resampler]") {
  const auto speech = tone(700, 16000, 4000, 20000);
  const auto next = tone(1500, 16000, 1600, 8000);

  resampler used(16000, 8000);
  run_whole(used, speech);
  used.reset();
  resampler fresh(16000, 8000);
  CHECK(run_whole(used, next) == run_whole(fresh, next));
}

TEST_CASE("resampler without reset carries the previous audio into the next", "[resampler]") {
  const auto speech = tone(700, 16000, 4000, 20000);
  const auto next = tone(1500, 16000, 1600, 8000);
  resampler used(16000, 8000);
  run_whole(used, speech);
  resampler fresh(16000, 8000);
  CHECK(run_whole(used, next) != run_whole(fresh, next));
}

TEST_CASE("resampler copies samples through when the rates are equal", "[resampler]") {
  resampler r(16000, 16000);
  CHECK(r.input_latency() == 0);
  CHECK(r.output_latency() == 0);
  const auto in = tone(1000, 16000, 321, 30000);
  CHECK(run_chunked(r, in, {5, 160}) == in);
  r.reset();
  CHECK(run_whole(r, in) == in);
}

TEST_CASE("resampler reports its rates, quality and filter delay", "[resampler]") {
  resampler r(44100, 8000);
  CHECK(r.in_rate() == 44100);
  CHECK(r.out_rate() == 8000);
  CHECK(r.quality() == resampler::default_quality);
  CHECK(r.input_latency() > 0);
  // The same delay counted in each side's samples.
  CHECK(r.output_latency() == Approx(r.input_latency() * 8000.0 / 44100).margin(1));

  resampler q3(8000, 16000, 3);
  CHECK(q3.quality() == 3);
  CHECK(q3.input_latency() < resampler(8000, 16000, 10).input_latency());
}

TEST_CASE("resampler max_output bounds every frame size and ratio", "[resampler]") {
  CHECK(resampler::max_output(160, 8000, 16000) >= 320);
  CHECK(resampler::max_output(882, 44100, 8000) >= 160);
  CHECK(resampler::max_output(160, 8000, 44100) >= 882);
  CHECK(resampler::max_output(0, 8000, 48000) <= 1);
  static_assert(resampler::max_output(160, 8000, 16000) <= 322, "bound should stay tight");

  // Every chunk length from 1 to 200 at every starting phase a 13-sample stride produces.
  for (const int out_rate : {8000, 22050, 48000}) {
    resampler r(44100, out_rate);
    const auto in = tone(500, 44100, 44100 / 2, 10000);
    std::vector<std::int16_t> buffer;
    std::size_t pos = 0;
    for (std::size_t n = 1; n <= 200 && pos + n <= in.size(); ++n) {
      buffer.resize(r.max_output(n));
      REQUIRE(r.process(in.data() + pos, n, buffer.data(), buffer.size()) <= r.max_output(n));
      pos += n + 13;
    }
  }
}

TEST_CASE("resampler drops output beyond the buffer but stays in step", "[resampler]") {
  const auto in = tone(1000, 8000, 480, 10000);
  resampler reference(8000, 16000);
  std::vector<std::int16_t> first_frame(reference.max_output(160));
  first_frame.resize(reference.process(in.data(), 160, first_frame.data(), first_frame.size()));
  const std::vector<std::int16_t> rest_in(in.begin() + 160, in.end());
  const auto rest_expected = run_chunked(reference, rest_in, {160});

  // The first frame gets too little room: its output is cut, yet the following frames must come
  // out exactly as if nothing had been dropped.
  resampler r(8000, 16000);
  std::vector<std::int16_t> cut(100);
  REQUIRE(first_frame.size() > cut.size());
  CHECK(r.process(in.data(), 160, cut.data(), cut.size()) == cut.size());
  CHECK(std::equal(cut.begin(), cut.end(), first_frame.begin()));
  CHECK(run_chunked(r, rest_in, {160}) == rest_expected);
}

TEST_CASE("resampler moves without disturbing the stream", "[resampler]") {
  const auto in = tone(800, 8000, 1600, 15000);
  resampler reference(8000, 48000);
  const auto expected = run_chunked(reference, in, {160});

  resampler first(8000, 48000);
  const std::vector<std::int16_t> head(in.begin(), in.begin() + 800);
  const std::vector<std::int16_t> tail(in.begin() + 800, in.end());
  auto out = run_chunked(first, head, {160});
  resampler second = std::move(first);
  const auto rest = run_chunked(second, tail, {160});
  out.insert(out.end(), rest.begin(), rest.end());
  CHECK(out == expected);
  CHECK(second.in_rate() == 8000);
  CHECK(second.out_rate() == 48000);
}

TEST_CASE("resampler create reports bad rates and quality as typed errors", "[resampler]") {
  struct bad_args {
    int in_rate;
    int out_rate;
    int quality;
    resampler_error error;
  };
  const bad_args cases[] = {
      {0, 8000, 5, resampler_error::unsupported_rate},
      {8000, -16000, 5, resampler_error::unsupported_rate},
      {999, 8000, 5, resampler_error::unsupported_rate},
      {8000, 192001, 5, resampler_error::unsupported_rate},
      {0, 0, 5, resampler_error::unsupported_rate},
      {8000, 16000, -1, resampler_error::bad_quality},
      {8000, 16000, 11, resampler_error::bad_quality},
      {16000, 16000, 11, resampler_error::bad_quality},
  };
  for (const auto& c : cases) {
    INFO(c.in_rate << " -> " << c.out_rate << " quality " << c.quality);
    const auto created = resampler::create(c.in_rate, c.out_rate, c.quality);
    REQUIRE_FALSE(created.has_value());
    CHECK(created.error() == c.error);
    CHECK_THROWS_AS(resampler(c.in_rate, c.out_rate, c.quality), std::invalid_argument);
  }
  CHECK(std::string(cb::codecs::to_string(resampler_error::bad_quality)).find("quality") !=
        std::string::npos);

  const auto good = resampler::create(resampler::min_rate_hz, resampler::max_rate_hz, 0);
  REQUIRE(good.has_value());
  CHECK(good->out_rate() == resampler::max_rate_hz);
}
