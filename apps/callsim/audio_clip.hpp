// A recording the simulator plays as a caller's voice: 16-bit mono PCM at one rate, loaded once and
// shared by every call that plays it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "codecs/expected.hpp"

namespace cb::callsim {

struct audio_clip {
  int rate_hz = 8000;
  std::vector<std::int16_t> samples;
};

enum class wav_error : std::uint8_t {
  cannot_open,
  not_riff_wave,     // no RIFF....WAVE header
  no_format,         // no fmt chunk before the data chunk, or one too short
  not_pcm16_mono,    // compressed, float, stereo or not 16-bit
  unsupported_rate,  // outside what AudioSocket carries (8 kHz .. 192 kHz)
  no_data,           // no data chunk
};

[[nodiscard]] const char* to_string(wav_error e);

// A RIFF WAVE file's audio: PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM subformat),
// 16-bit, mono. A data chunk that claims more bytes than the file holds (a recorder that never
// patched the size) yields the bytes present.
[[nodiscard]] expected<audio_clip, wav_error> parse_wav(const std::uint8_t* data, std::size_t size);
[[nodiscard]] expected<audio_clip, wav_error> load_wav(const std::string& path);

// The clip at another rate (speexdsp, default quality), its length scaled to match.
[[nodiscard]] audio_clip resampled(const audio_clip& clip, int rate_hz);

}  // namespace cb::callsim
