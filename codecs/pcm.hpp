// Helpers for 16-bit linear PCM: levels, silence, little-endian byte order, fades.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cb::codecs {

// What level_dbfs and peak_dbfs report for digital silence and for empty input; quieter signals
// are clamped to it, so callers can compare against a threshold without special cases.
inline constexpr double silence_floor_dbfs = -120.0;

// RMS level relative to a full-scale square wave (amplitude 32768): a full-scale sine reads
// about -3.01 dBFS.
[[nodiscard]] double level_dbfs(const std::int16_t* samples, std::size_t n);

// Largest magnitude, 0..32768 (-32768 counts as 32768).
[[nodiscard]] int peak_amplitude(const std::int16_t* samples, std::size_t n);
// Peak magnitude relative to 32768, so only -32768 reaches 0 dBFS.
[[nodiscard]] double peak_dbfs(const std::int16_t* samples, std::size_t n);

void fill_silence(std::int16_t* samples, std::size_t n);
// Fills with the mu-law code for zero (0xFF); a zero byte would be full-scale negative.
void fill_ulaw_silence(std::uint8_t* codes, std::size_t n);

// Converts between 16-bit little-endian bytes (the AudioSocket and agent wire order) and host
// samples. Assembled from bytes, so correct on any host; compilers reduce it to plain 16-bit
// moves on little-endian ones. bytes and samples must not overlap.
void load_s16le(const std::uint8_t* bytes, std::size_t n_samples, std::int16_t* out);
void store_s16le(const std::int16_t* samples, std::size_t n_samples, std::uint8_t* out);

// Scales samples by a gain moving linearly from from_gain (applied to the first sample) towards
// to_gain, which is the gain the sample after the last would get. Consecutive fades a->b, b->c
// therefore join without a step, and a fade to 0 ends near silence without a click. Results
// saturate at the 16-bit range.
void apply_fade(std::int16_t* samples, std::size_t n, float from_gain, float to_gain);

}  // namespace cb::codecs
