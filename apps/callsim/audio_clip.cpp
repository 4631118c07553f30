#include "apps/callsim/audio_clip.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

#include "codecs/pcm.hpp"
#include "codecs/resampler.hpp"

namespace cb::callsim {

namespace {

constexpr std::uint16_t format_pcm = 1;
constexpr std::uint16_t format_extensible = 0xfffe;
constexpr std::size_t min_format_size = 16;
constexpr std::size_t extensible_format_size = 40;
constexpr std::size_t subformat_offset = 24;
constexpr int min_rate_hz = 8000;
constexpr int max_rate_hz = 192000;

std::uint16_t u16le(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

std::uint32_t u32le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

bool has_id(const std::uint8_t* p, const char (&id)[5]) {
  return std::equal(p, p + 4, id, id + 4,
                    [](std::uint8_t a, char b) { return a == static_cast<std::uint8_t>(b); });
}

struct pcm_format {
  int rate_hz = 0;
};

expected<pcm_format, wav_error> read_format(const std::uint8_t* body, std::size_t size) {
  if (size < min_format_size) return unexpected{wav_error::no_format};
  auto tag = u16le(body);
  if (tag == format_extensible) {
    if (size < extensible_format_size) return unexpected{wav_error::no_format};
    tag = u16le(body + subformat_offset);
  }
  const auto channels = u16le(body + 2);
  const auto rate = u32le(body + 4);
  const auto bits = u16le(body + 14);
  if (tag != format_pcm || channels != 1 || bits != 16)
    return unexpected{wav_error::not_pcm16_mono};
  if (rate < static_cast<std::uint32_t>(min_rate_hz) ||
      rate > static_cast<std::uint32_t>(max_rate_hz)) {
    return unexpected{wav_error::unsupported_rate};
  }
  return pcm_format{static_cast<int>(rate)};
}

}  // namespace

const char* to_string(wav_error e) {
  switch (e) {
    case wav_error::cannot_open:
      return "cannot_open";
    case wav_error::not_riff_wave:
      return "not_riff_wave";
    case wav_error::no_format:
      return "no_format";
    case wav_error::not_pcm16_mono:
      return "not_pcm16_mono";
    case wav_error::unsupported_rate:
      return "unsupported_rate";
    case wav_error::no_data:
      return "no_data";
  }
  return "unknown_wav_error";
}

expected<audio_clip, wav_error> parse_wav(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t riff_header = 12;
  constexpr std::size_t chunk_header = 8;
  if (size < riff_header || !has_id(data, "RIFF") || !has_id(data + 8, "WAVE")) {
    return unexpected{wav_error::not_riff_wave};
  }
  std::optional<pcm_format> format;
  std::size_t at = riff_header;
  while (size - at >= chunk_header) {
    const std::uint8_t* const chunk = data + at;
    const std::size_t declared = u32le(chunk + 4);
    const std::size_t available = size - at - chunk_header;
    const std::size_t body_size = std::min(declared, available);
    const std::uint8_t* const body = chunk + chunk_header;
    if (has_id(chunk, "fmt ")) {
      auto parsed = read_format(body, body_size);
      if (!parsed) return unexpected{parsed.error()};
      format = *parsed;
    } else if (has_id(chunk, "data")) {
      if (!format) return unexpected{wav_error::no_format};
      audio_clip clip;
      clip.rate_hz = format->rate_hz;
      clip.samples.resize(body_size / 2);
      codecs::load_s16le(body, clip.samples.size(), clip.samples.data());
      return clip;
    }
    // Chunks are padded to an even size.
    const std::size_t step = chunk_header + declared + (declared & 1);
    if (step > size - at) break;
    at += step;
  }
  return unexpected{format ? wav_error::no_data : wav_error::no_format};
}

expected<audio_clip, wav_error> load_wav(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return unexpected{wav_error::cannot_open};
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(file),
                                        std::istreambuf_iterator<char>()};
  return parse_wav(bytes.data(), bytes.size());
}

audio_clip resampled(const audio_clip& clip, int rate_hz) {
  if (clip.rate_hz == rate_hz) return clip;
  codecs::resampler converter(clip.rate_hz, rate_hz);
  // Feed the filter's delay worth of silence after the clip so its tail comes out, then drop the
  // same delay from the front: the result lines up with the input.
  std::vector<std::int16_t> input(clip.samples);
  input.resize(input.size() + static_cast<std::size_t>(converter.input_latency()), 0);
  std::vector<std::int16_t> output(converter.max_output(input.size()));
  output.resize(converter.process(input.data(), input.size(), output.data(), output.size()));
  const auto delay = std::min(static_cast<std::size_t>(converter.output_latency()), output.size());
  const auto length = static_cast<std::size_t>(
      (static_cast<std::uint64_t>(clip.samples.size()) * static_cast<std::uint64_t>(rate_hz) +
       static_cast<std::uint64_t>(clip.rate_hz) / 2) /
      static_cast<std::uint64_t>(clip.rate_hz));
  audio_clip out;
  out.rate_hz = rate_hz;
  out.samples.assign(output.begin() + static_cast<std::ptrdiff_t>(delay), output.end());
  out.samples.resize(length, 0);
  return out;
}

}  // namespace cb::callsim
