#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codecs/g711.hpp"

namespace codecs = cb::codecs;

namespace {

// Straight ports of the ITU-T G.191 STL reference (g711.c), loops and all, so the fast
// implementation is checked against the standard's own code rather than against itself.
std::uint8_t reference_ulaw_compress(std::int16_t x) {
  int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int i = absno >> 6;
  int segno = 1;
  while (i != 0) {
    ++segno;
    i >>= 1;
  }
  const int high_nibble = 0x0008 - segno;
  const int low_nibble = 0x000F - ((absno >> segno) & 0x000F);
  int code = (high_nibble << 4) | low_nibble;
  if (x >= 0) code |= 0x0080;
  return static_cast<std::uint8_t>(code);
}

std::int16_t reference_ulaw_expand(std::uint8_t code) {
  const int sign = code < 0x0080 ? -1 : 1;
  const int inverted = ~code;
  const int exponent = (inverted >> 4) & 0x0007;
  const int segment = exponent + 1;
  const int mantissa = inverted & 0x000F;
  const int step = 4 << segment;
  return static_cast<std::int16_t>(sign *
                                   ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33));
}

std::uint8_t reference_alaw_compress(std::int16_t x) {
  int ix = x < 0 ? (~x) >> 4 : x >> 4;
  if (ix > 15) {
    int iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      ++iexp;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x0080;
  return static_cast<std::uint8_t>(ix ^ 0x0055);
}

std::int16_t reference_alaw_expand(std::uint8_t code) {
  int ix = (code ^ 0x0055) & 0x007F;
  const int iexp = ix >> 4;
  int mant = ix & 0x000F;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x0008;
  if (iexp > 1) mant <<= iexp - 1;
  return static_cast<std::int16_t>(code > 127 ? mant : -mant);
}

struct edge {
  std::int16_t sample;
  std::uint8_t code;
};

}  // namespace

TEST_CASE("mu-law decodes all 256 codes to the G.191 expansion", "[g711]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    CHECK(codecs::ulaw_to_linear(code) == reference_ulaw_expand(code));
  }
  // Anchors from the G.711 tables: full scale, zero, and the smallest non-zero step.
  CHECK(codecs::ulaw_to_linear(0x00) == -32124);
  CHECK(codecs::ulaw_to_linear(0x80) == 32124);
  CHECK(codecs::ulaw_to_linear(0xFF) == 0);
  CHECK(codecs::ulaw_to_linear(0x7F) == 0);
  CHECK(codecs::ulaw_to_linear(0xFE) == 8);
  CHECK(codecs::ulaw_to_linear(0x7E) == -8);
}

TEST_CASE("A-law decodes all 256 codes to the G.191 expansion", "[g711]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    CHECK(codecs::alaw_to_linear(code) == reference_alaw_expand(code));
  }
  CHECK(codecs::alaw_to_linear(0xAA) == 32256);
  CHECK(codecs::alaw_to_linear(0x2A) == -32256);
  CHECK(codecs::alaw_to_linear(0xD5) == 8);
  CHECK(codecs::alaw_to_linear(0x55) == -8);
}

TEST_CASE("mu-law encodes every 16-bit sample exactly as G.191", "[g711]") {
  for (int x = -32768; x <= 32767; ++x) {
    const auto sample = static_cast<std::int16_t>(x);
    if (codecs::linear_to_ulaw(sample) != reference_ulaw_compress(sample)) {
      FAIL("sample " << x << ": got 0x" << std::hex << int{codecs::linear_to_ulaw(sample)}
                     << ", G.191 gives 0x" << int{reference_ulaw_compress(sample)});
    }
  }
}

TEST_CASE("A-law encodes every 16-bit sample exactly as G.191", "[g711]") {
  for (int x = -32768; x <= 32767; ++x) {
    const auto sample = static_cast<std::int16_t>(x);
    if (codecs::linear_to_alaw(sample) != reference_alaw_compress(sample)) {
      FAIL("sample " << x << ": got 0x" << std::hex << int{codecs::linear_to_alaw(sample)}
                     << ", G.191 gives 0x" << int{reference_alaw_compress(sample)});
    }
  }
}

TEST_CASE("mu-law re-encodes every decoded code to itself except negative zero", "[g711]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    const std::uint8_t expected = code == 0x7F ? 0xFF : code;
    INFO("code 0x" << std::hex << c);
    CHECK(codecs::linear_to_ulaw(codecs::ulaw_to_linear(code)) == expected);
  }
}

TEST_CASE("A-law re-encodes every decoded code to itself", "[g711]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    INFO("code 0x" << std::hex << c);
    CHECK(codecs::linear_to_alaw(codecs::alaw_to_linear(code)) == code);
  }
}

TEST_CASE("mu-law switches segment exactly at the G.711 decision levels", "[g711]") {
  // Segment s starts at 16-bit magnitude (128 << s) - 132; the last code of the segment below
  // (mantissa 15) sits one sample lower. Negative samples are mirrored about -0.5.
  const edge edges[] = {
      {0, 0xFF},     {3, 0xFF},     {4, 0xFE},      {123, 0xF0},    {124, 0xEF},   {379, 0xE0},
      {380, 0xDF},   {891, 0xD0},   {892, 0xCF},    {1915, 0xC0},   {1916, 0xBF},  {3963, 0xB0},
      {3964, 0xAF},  {8059, 0xA0},  {8060, 0x9F},   {16251, 0x90},  {16252, 0x8F}, {-1, 0x7F},
      {-4, 0x7F},    {-5, 0x7E},    {-124, 0x70},   {-125, 0x6F},   {-380, 0x60},  {-381, 0x5F},
      {-892, 0x50},  {-893, 0x4F},  {-1916, 0x40},  {-1917, 0x3F},  {-3964, 0x30}, {-3965, 0x2F},
      {-8060, 0x20}, {-8061, 0x1F}, {-16252, 0x10}, {-16253, 0x0F},
  };
  for (const auto& e : edges) {
    INFO("sample " << e.sample);
    CHECK(int{codecs::linear_to_ulaw(e.sample)} == int{e.code});
  }
}

TEST_CASE("mu-law saturates at full scale", "[g711]") {
  const edge edges[] = {
      {31611, 0x81},  {31612, 0x80},  {32635, 0x80},  {32767, 0x80},
      {-31612, 0x01}, {-31613, 0x00}, {-32767, 0x00}, {-32768, 0x00},
  };
  for (const auto& e : edges) {
    INFO("sample " << e.sample);
    CHECK(int{codecs::linear_to_ulaw(e.sample)} == int{e.code});
  }
}

TEST_CASE("A-law switches segment exactly at the G.711 decision levels", "[g711]") {
  // Segment e >= 1 starts at 16-bit magnitude 128 << e; segments 0 and 1 share a step size.
  const edge edges[] = {
      {0, 0xD5},     {15, 0xD5},    {16, 0xD4},     {255, 0xDA},    {256, 0xC5},   {511, 0xCA},
      {512, 0xF5},   {1023, 0xFA},  {1024, 0xE5},   {2047, 0xEA},   {2048, 0x95},  {4095, 0x9A},
      {4096, 0x85},  {8191, 0x8A},  {8192, 0xB5},   {16383, 0xBA},  {16384, 0xA5}, {-1, 0x55},
      {-16, 0x55},   {-17, 0x54},   {-256, 0x5A},   {-257, 0x45},   {-512, 0x4A},  {-513, 0x75},
      {-1024, 0x7A}, {-1025, 0x65}, {-2048, 0x6A},  {-2049, 0x15},  {-4096, 0x1A}, {-4097, 0x05},
      {-8192, 0x0A}, {-8193, 0x35}, {-16384, 0x3A}, {-16385, 0x25},
  };
  for (const auto& e : edges) {
    INFO("sample " << e.sample);
    CHECK(int{codecs::linear_to_alaw(e.sample)} == int{e.code});
  }
}

TEST_CASE("A-law saturates at full scale", "[g711]") {
  const edge edges[] = {
      {31743, 0xAB}, {31744, 0xAA}, {32767, 0xAA}, {-31744, 0x2B}, {-31745, 0x2A}, {-32768, 0x2A},
  };
  for (const auto& e : edges) {
    INFO("sample " << e.sample);
    CHECK(int{codecs::linear_to_alaw(e.sample)} == int{e.code});
  }
}

TEST_CASE("G.711 silence codes decode to the quietest level", "[g711]") {
  CHECK(codecs::ulaw_silence == 0xFF);
  CHECK(codecs::linear_to_ulaw(0) == codecs::ulaw_silence);
  CHECK(codecs::ulaw_to_linear(codecs::ulaw_silence) == 0);
  CHECK(codecs::linear_to_alaw(0) == codecs::alaw_silence);
  CHECK(codecs::alaw_to_linear(codecs::alaw_silence) == 8);
}

TEST_CASE("G.711 bulk conversions match the per-sample functions", "[g711]") {
  // An odd length and every code value, so a vectorised loop's tail is exercised too.
  std::vector<std::int16_t> pcm;
  for (int x = -32768; x <= 32767; x += 97)
    pcm.push_back(static_cast<std::int16_t>(x));
  std::vector<std::uint8_t> codes(259);
  for (std::size_t i = 0; i < codes.size(); ++i)
    codes[i] = static_cast<std::uint8_t>(i * 7);

  std::vector<std::uint8_t> encoded(pcm.size());
  std::vector<std::int16_t> decoded(codes.size());

  codecs::encode_ulaw(pcm.data(), pcm.size(), encoded.data());
  for (std::size_t i = 0; i < pcm.size(); ++i)
    REQUIRE(encoded[i] == codecs::linear_to_ulaw(pcm[i]));
  codecs::encode_alaw(pcm.data(), pcm.size(), encoded.data());
  for (std::size_t i = 0; i < pcm.size(); ++i)
    REQUIRE(encoded[i] == codecs::linear_to_alaw(pcm[i]));
  codecs::decode_ulaw(codes.data(), codes.size(), decoded.data());
  for (std::size_t i = 0; i < codes.size(); ++i)
    REQUIRE(decoded[i] == codecs::ulaw_to_linear(codes[i]));
  codecs::decode_alaw(codes.data(), codes.size(), decoded.data());
  for (std::size_t i = 0; i < codes.size(); ++i)
    REQUIRE(decoded[i] == codecs::alaw_to_linear(codes[i]));
}
