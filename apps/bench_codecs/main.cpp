// Cost of each codec operation on one 20 ms frame: the median of many timed repetitions, so a
// preempted run or a cold cache does not skew the figure. Results go to a volatile sink so the
// optimizer cannot drop the work.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "codecs/base64.hpp"
#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "codecs/resampler.hpp"

namespace {

namespace codecs = cb::codecs;

constexpr int repetitions = 20001;
constexpr int batch = 16;  // operations per timed sample, to rise above the clock's resolution

volatile std::uint64_t sink;

template <class Op>
double median_ns(Op&& op) {
  for (int i = 0; i < 1000; ++i)
    sink = sink + op();  // warm caches and branch predictors
  std::vector<double> samples(repetitions);
  for (auto& s : samples) {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t acc = 0;
    for (int i = 0; i < batch; ++i)
      acc += op();
    const auto stop = std::chrono::steady_clock::now();
    sink = sink + acc;
    s = std::chrono::duration<double, std::nano>(stop - start).count() / batch;
  }
  std::nth_element(samples.begin(), samples.begin() + repetitions / 2, samples.end());
  return samples[repetitions / 2];
}

std::vector<std::int16_t> speech_like(int rate_hz, std::size_t n) {
  std::vector<std::int16_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    out[i] = static_cast<std::int16_t>(8000 * std::sin(2 * 3.14159265 * 220 * t) +
                                       3000 * std::sin(2 * 3.14159265 * 1370 * t));
  }
  return out;
}

void row(const char* what, std::size_t n, double ns) {
  // Cores needed if 1,000 calls each do this once per 20 ms: ns * 1000 / 20 ms.
  std::printf("| %-34s | %7zu | %10.0f | %9.3f |\n", what, n, ns, ns * 1000 / 20e6);
}

double resample_ns(int in_rate, int out_rate) {
  codecs::resampler r(in_rate, out_rate);
  const auto in = speech_like(in_rate, static_cast<std::size_t>(in_rate) / 50);
  std::vector<std::int16_t> out(r.max_output(in.size()));
  return median_ns([&] { return r.process(in.data(), in.size(), out.data(), out.size()); });
}

}  // namespace

int main() {
  const auto pcm8k = speech_like(8000, 160);
  std::vector<std::uint8_t> law(160);
  std::vector<std::int16_t> decoded(160);
  codecs::encode_ulaw(pcm8k.data(), pcm8k.size(), law.data());

  std::printf(
      "callbridge codec cost per 20 ms frame (median of %d x %d runs, resampler quality %d)\n\n",
      repetitions, batch, codecs::resampler::default_quality);
  std::printf("| %-34s | %7s | %10s | %9s |\n", "operation", "samples", "ns/frame", "cores@1k");
  std::printf("|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(11, '-').c_str());

  row("mu-law encode", 160, median_ns([&] {
        codecs::encode_ulaw(pcm8k.data(), pcm8k.size(), law.data());
        return law[7];
      }));
  row("mu-law decode", 160, median_ns([&] {
        codecs::decode_ulaw(law.data(), law.size(), decoded.data());
        return static_cast<std::uint64_t>(decoded[7]);
      }));
  row("A-law encode", 160, median_ns([&] {
        codecs::encode_alaw(pcm8k.data(), pcm8k.size(), law.data());
        return law[7];
      }));
  row("A-law decode", 160, median_ns([&] {
        codecs::decode_alaw(law.data(), law.size(), decoded.data());
        return static_cast<std::uint64_t>(decoded[7]);
      }));

  row("resample 8k -> 16k", 160, resample_ns(8000, 16000));
  row("resample 16k -> 8k", 320, resample_ns(16000, 8000));
  row("resample 8k -> 44.1k", 160, resample_ns(8000, 44100));
  row("resample 44.1k -> 8k", 882, resample_ns(44100, 8000));
  row("resample 8k -> 48k", 160, resample_ns(8000, 48000));

  // A 20 ms frame of 16 kHz PCM: 640 bytes, as sent to the agent.
  const auto pcm16k = speech_like(16000, 320);
  std::vector<std::uint8_t> bytes(640);
  codecs::store_s16le(pcm16k.data(), pcm16k.size(), bytes.data());
  std::string text(codecs::base64::encoded_size(bytes.size()), '\0');
  row("base64 encode 640 bytes", 320, median_ns([&] {
        codecs::base64::encode(bytes.data(), bytes.size(), text.data());
        return static_cast<std::uint64_t>(text[5]);
      }));
  std::vector<std::uint8_t> back(bytes.size());
  row("base64 decode 856 chars", 320, median_ns([&] {
        const auto n = codecs::base64::decode(text, back.data(), back.size());
        return n ? *n : 0;
      }));

  row("level_dbfs", 160, median_ns([&] {
        return static_cast<std::uint64_t>(-codecs::level_dbfs(pcm8k.data(), pcm8k.size()));
      }));
  return 0;
}
