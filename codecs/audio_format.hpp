// What a stream of audio bytes is: its encoding and sample rate. Shared by the AudioSocket side
// (always 16-bit linear) and the agent side (linear or G.711 mu-law, as the agent announces).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cb::codecs {

enum class encoding : std::uint8_t { pcm_s16le, ulaw };

struct audio_format {
  encoding enc = encoding::pcm_s16le;
  int rate_hz = 8000;

  [[nodiscard]] constexpr std::size_t bytes_per_sample() const {
    return enc == encoding::ulaw ? 1 : 2;
  }
  // Samples in one 20 ms frame (rates like 22050 and 44100 give 441 and 882).
  [[nodiscard]] constexpr std::size_t samples_per_20ms() const {
    return static_cast<std::size_t>(rate_hz) / 50;
  }
  friend constexpr bool operator==(audio_format a, audio_format b) {
    return a.enc == b.enc && a.rate_hz == b.rate_hz;
  }
  friend constexpr bool operator!=(audio_format a, audio_format b) { return !(a == b); }
};

}  // namespace cb::codecs
