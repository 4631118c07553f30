#include "codecs/pcm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace cb::codecs {
namespace {

constexpr double full_scale = 32768.0;

double clamp_to_floor(double dbfs) {
  return std::max(dbfs, silence_floor_dbfs);
}

}  // namespace

double level_dbfs(const std::int16_t* samples, std::size_t n) {
  if (n == 0) return silence_floor_dbfs;
  // Exact integer sum: a frame of full-scale samples is 2^30 per sample, far from 2^64.
  std::uint64_t sum_squares = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t s = samples[i];
    sum_squares += static_cast<std::uint64_t>(s * s);
  }
  if (sum_squares == 0) return silence_floor_dbfs;
  const double mean_square = static_cast<double>(sum_squares) / static_cast<double>(n);
  return clamp_to_floor(10.0 * std::log10(mean_square / (full_scale * full_scale)));
}

int peak_amplitude(const std::int16_t* samples, std::size_t n) {
  int peak = 0;
  for (std::size_t i = 0; i < n; ++i)
    peak = std::max(peak, std::abs(int{samples[i]}));
  return peak;
}

double peak_dbfs(const std::int16_t* samples, std::size_t n) {
  const int peak = peak_amplitude(samples, n);
  if (peak == 0) return silence_floor_dbfs;
  return clamp_to_floor(20.0 * std::log10(peak / full_scale));
}

void fill_silence(std::int16_t* samples, std::size_t n) {
  std::fill_n(samples, n, std::int16_t{0});
}

void fill_ulaw_silence(std::uint8_t* codes, std::size_t n) {
  std::fill_n(codes, n, std::uint8_t{0xFF});
}

// Every frame of every call passes through these two; on a little-endian host the wire layout is
// the memory layout, and a copy is several times cheaper than assembling each sample.
constexpr bool host_is_little_endian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

void load_s16le(const std::uint8_t* bytes, std::size_t n_samples, std::int16_t* out) {
  if constexpr (host_is_little_endian) {
    std::memcpy(out, bytes, n_samples * sizeof(std::int16_t));
    return;
  }
  for (std::size_t i = 0; i < n_samples; ++i) {
    const auto u = static_cast<std::uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8U));
    out[i] = static_cast<std::int16_t>(u);
  }
}

void store_s16le(const std::int16_t* samples, std::size_t n_samples, std::uint8_t* out) {
  if constexpr (host_is_little_endian) {
    std::memcpy(out, samples, n_samples * sizeof(std::int16_t));
    return;
  }
  for (std::size_t i = 0; i < n_samples; ++i) {
    const auto u = static_cast<std::uint16_t>(samples[i]);
    out[2 * i] = static_cast<std::uint8_t>(u);
    out[2 * i + 1] = static_cast<std::uint8_t>(u >> 8U);
  }
}

void apply_fade(std::int16_t* samples, std::size_t n, float from_gain, float to_gain) {
  if (n == 0) return;
  // Gain from the sample index, not by accumulating a step, so long fades do not drift.
  const float step = (to_gain - from_gain) / static_cast<float>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float gain = from_gain + step * static_cast<float>(i);
    const float scaled = std::clamp(static_cast<float>(samples[i]) * gain, -32768.0F, 32767.0F);
    samples[i] = static_cast<std::int16_t>(std::lrint(scaled));
  }
}

}  // namespace cb::codecs
