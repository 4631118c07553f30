// ITU-T G.711 mu-law and A-law, bit-exact with the ITU-T G.191 reference (STL g711.c:
// ulaw_compress/ulaw_expand, alaw_compress/alaw_expand) on 16-bit linear samples.
//
// Negative samples are quantized through their one's complement (~x), as G.191 does, so the
// quantizer is symmetric about -0.5. Sun's widely copied linear2ulaw negates instead and lands one
// code lower on 508 negative inputs; its A-law and both decoders agree with G.191.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cb::codecs {

// Code of a zero sample: what a silent mu-law stream carries.
inline constexpr std::uint8_t ulaw_silence = 0xFF;
// A-law has no zero level; 0xD5 is the smallest positive one (+8).
inline constexpr std::uint8_t alaw_silence = 0xD5;

namespace g711_detail {

// Number of significant bits of v (v > 0); __builtin_clz is constexpr in both gcc and clang.
constexpr int bit_width(unsigned v) {
  return 32 - __builtin_clz(v);
}

// The companding laws in their closed form; the decode tables below are built from these.
constexpr std::int16_t ulaw_expand(std::uint8_t code) {
  const unsigned inverted = ~unsigned{code} & 0xFFU;
  const unsigned exponent = (inverted >> 4U) & 0x07U;
  const unsigned mantissa = inverted & 0x0FU;
  const int magnitude = static_cast<int>(((mantissa << 3U) + 0x84U) << exponent) - 0x84;
  return static_cast<std::int16_t>((inverted & 0x80U) != 0 ? -magnitude : magnitude);
}

constexpr std::int16_t alaw_expand(std::uint8_t code) {
  const unsigned toggled = unsigned{code} ^ 0x55U;
  const unsigned exponent = (toggled >> 4U) & 0x07U;
  const unsigned mantissa = toggled & 0x0FU;
  const unsigned magnitude =
      exponent == 0 ? (mantissa << 4U) + 8U : ((mantissa << 4U) + 0x108U) << (exponent - 1U);
  const int value = static_cast<int>(magnitude);
  return static_cast<std::int16_t>((toggled & 0x80U) != 0 ? value : -value);
}

template <std::int16_t (*expand)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_decode_table() {
  std::array<std::int16_t, 256> table{};
  for (unsigned code = 0; code < 256; ++code) {
    table[code] = expand(static_cast<std::uint8_t>(code));
  }
  return table;
}

}  // namespace g711_detail

inline constexpr std::array<std::int16_t, 256> ulaw_decode_table =
    g711_detail::make_decode_table<g711_detail::ulaw_expand>();
inline constexpr std::array<std::int16_t, 256> alaw_decode_table =
    g711_detail::make_decode_table<g711_detail::alaw_expand>();

[[nodiscard]] constexpr std::int16_t ulaw_to_linear(std::uint8_t code) {
  return ulaw_decode_table[code];
}

[[nodiscard]] constexpr std::int16_t alaw_to_linear(std::uint8_t code) {
  return alaw_decode_table[code];
}

// The segment is the bit width of the biased 14-bit magnitude, found with one count-leading-zeros
// instead of the reference's search loop.
[[nodiscard]] constexpr std::uint8_t linear_to_ulaw(std::int16_t sample) {
  const bool negative = sample < 0;
  const unsigned magnitude = static_cast<unsigned>(negative ? ~sample : sample);  // 0..32767
  unsigned biased = (magnitude >> 2U) + 33U;
  if (biased > 0x1FFFU) biased = 0x1FFFU;
  const auto segment = static_cast<unsigned>(g711_detail::bit_width(biased) - 6);  // 0..7
  const unsigned mantissa = (biased >> (segment + 1U)) & 0x0FU;
  const unsigned mask = negative ? 0x7FU : 0xFFU;
  return static_cast<std::uint8_t>(((segment << 4U) | mantissa) ^ mask);
}

[[nodiscard]] constexpr std::uint8_t linear_to_alaw(std::int16_t sample) {
  const bool negative = sample < 0;
  const unsigned magnitude = static_cast<unsigned>(negative ? ~sample : sample) >> 4U;  // 0..2047
  unsigned code = magnitude;
  if (magnitude > 15U) {
    const auto segment = static_cast<unsigned>(g711_detail::bit_width(magnitude) - 4);  // 1..7
    code = (segment << 4U) | ((magnitude >> (segment - 1U)) & 0x0FU);
  }
  if (!negative) code |= 0x80U;
  return static_cast<std::uint8_t>(code ^ 0x55U);
}

// Bulk conversions of n samples; in and out must not overlap.
void encode_ulaw(const std::int16_t* in, std::size_t n, std::uint8_t* out);
void decode_ulaw(const std::uint8_t* in, std::size_t n, std::int16_t* out);
void encode_alaw(const std::int16_t* in, std::size_t n, std::uint8_t* out);
void decode_alaw(const std::uint8_t* in, std::size_t n, std::int16_t* out);

}  // namespace cb::codecs
