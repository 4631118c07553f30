#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdlib>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/callsim/audio_clip.hpp"
#include "codecs/tone.hpp"

using cb::callsim::audio_clip;
using cb::callsim::parse_wav;
using cb::callsim::wav_error;

namespace {

void put_u16(std::vector<std::uint8_t>& out, unsigned v) {
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
  out.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put_u16(out, v & 0xffff);
  put_u16(out, v >> 16);
}

void put_id(std::vector<std::uint8_t>& out, const char* id) {
  out.insert(out.end(), id, id + 4);
}

struct wav_shape {
  unsigned format = 1;
  unsigned channels = 1;
  std::uint32_t rate = 8000;
  unsigned bits = 16;
  bool extensible = false;
  bool junk_chunk_first = false;  // an odd-sized chunk before fmt, padded to even
  bool data = true;
  std::uint32_t declared_data_bytes = 0;  // 0: the real size
};

std::vector<std::uint8_t> make_wav(const std::vector<std::int16_t>& samples, wav_shape shape) {
  std::vector<std::uint8_t> out;
  put_id(out, "RIFF");
  put_u32(out, 0);  // patched below
  put_id(out, "WAVE");
  if (shape.junk_chunk_first) {
    put_id(out, "LIST");
    put_u32(out, 3);
    out.insert(out.end(), {'a', 'b', 'c', 0});
  }
  put_id(out, "fmt ");
  put_u32(out, shape.extensible ? 40 : 16);
  put_u16(out, shape.extensible ? 0xfffe : shape.format);
  put_u16(out, shape.channels);
  put_u32(out, shape.rate);
  put_u32(out, shape.rate * shape.channels * shape.bits / 8);
  put_u16(out, shape.channels * shape.bits / 8);
  put_u16(out, shape.bits);
  if (shape.extensible) {
    put_u16(out, 22);
    put_u16(out, shape.bits);
    put_u32(out, 4);  // front centre
    put_u16(out, shape.format);
    const std::uint8_t guid_rest[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                        0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};
    out.insert(out.end(), std::begin(guid_rest), std::end(guid_rest));
  }
  if (shape.data) {
    put_id(out, "data");
    const auto bytes = static_cast<std::uint32_t>(samples.size() * 2);
    put_u32(out, shape.declared_data_bytes != 0 ? shape.declared_data_bytes : bytes);
    for (const auto s : samples)
      put_u16(out, static_cast<std::uint16_t>(s));
  }
  const auto riff = static_cast<std::uint32_t>(out.size() - 8);
  for (int i = 0; i < 4; ++i)
    out[4 + i] = static_cast<std::uint8_t>(riff >> (8 * i));
  return out;
}

const std::vector<std::int16_t> some_samples{0, 1, -1, 32767, -32768, 1234, -4321};

}  // namespace

TEST_CASE("a 16-bit mono PCM WAV parses to its samples and rate") {
  for (const bool extensible : {false, true}) {
    for (const bool junk : {false, true}) {
      wav_shape shape;
      shape.rate = 16000;
      shape.extensible = extensible;
      shape.junk_chunk_first = junk;
      const auto bytes = make_wav(some_samples, shape);
      const auto clip = parse_wav(bytes.data(), bytes.size());
      REQUIRE(clip);
      CHECK(clip->rate_hz == 16000);
      CHECK(clip->samples == some_samples);
    }
  }
}

TEST_CASE("a data chunk claiming more than the file holds yields what is there") {
  wav_shape shape;
  shape.declared_data_bytes = 0xffffffff;
  const auto bytes = make_wav(some_samples, shape);
  const auto clip = parse_wav(bytes.data(), bytes.size());
  REQUIRE(clip);
  CHECK(clip->samples == some_samples);
}

TEST_CASE("WAV files the simulator cannot play are refused with a reason") {
  const auto error_of = [](const std::vector<std::uint8_t>& bytes) {
    const auto clip = parse_wav(bytes.data(), bytes.size());
    REQUIRE_FALSE(clip);
    return clip.error();
  };
  wav_shape stereo;
  stereo.channels = 2;
  CHECK(error_of(make_wav(some_samples, stereo)) == wav_error::not_pcm16_mono);
  wav_shape eight_bit;
  eight_bit.bits = 8;
  CHECK(error_of(make_wav(some_samples, eight_bit)) == wav_error::not_pcm16_mono);
  wav_shape float_format;
  float_format.format = 3;
  float_format.extensible = true;
  CHECK(error_of(make_wav(some_samples, float_format)) == wav_error::not_pcm16_mono);
  wav_shape slow;
  slow.rate = 4000;
  CHECK(error_of(make_wav(some_samples, slow)) == wav_error::unsupported_rate);
  wav_shape no_data;
  no_data.data = false;
  CHECK(error_of(make_wav(some_samples, no_data)) == wav_error::no_data);
  const std::vector<std::uint8_t> text{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!'};
  CHECK(error_of(text) == wav_error::not_riff_wave);
  auto truncated_format = make_wav(some_samples, wav_shape{});
  truncated_format.resize(12 + 8 + 10);
  CHECK(error_of(truncated_format) == wav_error::no_format);
}

TEST_CASE("load_wav reads a file and reports one it cannot open") {
  std::string path = "/tmp/callsim_test_XXXXXX";
  const int fd = ::mkstemp(path.data());
  REQUIRE(fd >= 0);
  const auto bytes = make_wav(some_samples, wav_shape{});
  const bool written =
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  REQUIRE(written);
  const auto clip = cb::callsim::load_wav(path);
  std::remove(path.c_str());
  REQUIRE(clip);
  CHECK(clip->samples == some_samples);
  const auto missing = cb::callsim::load_wav(path);
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == wav_error::cannot_open);
}

TEST_CASE("resampling a clip keeps its tone and scales its length") {
  audio_clip clip;
  clip.rate_hz = 8000;
  clip.samples.resize(4000);
  cb::codecs::tone_generator(1000.0, 8000).generate(clip.samples.data(), clip.samples.size());
  const auto wide = cb::callsim::resampled(clip, 16000);
  CHECK(wide.rate_hz == 16000);
  CHECK(wide.samples.size() == 8000);
  CHECK(cb::codecs::estimate_frequency_hz(wide.samples.data() + 800, 6400, 16000) ==
        Approx(1000.0).epsilon(0.002));
  CHECK(cb::callsim::resampled(clip, 8000).samples == clip.samples);
}
