// What the fake agent says: audio generated chunk by chunk (a turn is never rendered whole, so a
// long greeting to thousands of callers costs no memory), and its encoding in the agent's output
// format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "codecs/audio_format.hpp"
#include "codecs/resampler.hpp"

namespace cb::fake_elevenlabs {

// Samples of one agent turn at the output rate, produced on demand.
class audio_source {
 public:
  audio_source() = default;
  audio_source(const audio_source&) = delete;
  audio_source& operator=(const audio_source&) = delete;
  audio_source(audio_source&&) = delete;
  audio_source& operator=(audio_source&&) = delete;
  virtual ~audio_source() = default;

  // Writes up to n samples; fewer (0 at the end) when the turn has no more.
  virtual std::size_t read(std::int16_t* out, std::size_t n) = 0;
  [[nodiscard]] virtual std::size_t remaining() const = 0;
  [[nodiscard]] virtual std::size_t total() const = 0;
};

// A steady sine at -12 dBFS; its phase carries on across reads.
[[nodiscard]] std::unique_ptr<audio_source> make_tone(double frequency_hz, int duration_ms,
                                                      int rate_hz);

// Recorded samples at `from_rate`, resampled to `to_rate` when the two differ (the echo of a
// caller turn in the agent's output format).
[[nodiscard]] std::unique_ptr<audio_source> make_playback(std::vector<std::int16_t> samples,
                                                          int from_rate, int to_rate);

// Speech-like audio for `text`: one voiced syllable per word (a pitch between 120 and 240 Hz with
// two harmonics and a soft envelope), short gaps between words and longer ones at punctuation.
// Deterministic for a given text. Its duration is known up front, for alignment.
[[nodiscard]] std::unique_ptr<audio_source> make_speech(std::string_view text, int rate_hz);

// Raw bytes of samples in the agent's output format (PCM16LE or mu-law); out is resized.
void encode_output(const std::int16_t* samples, std::size_t n, codecs::audio_format format,
                   std::vector<std::uint8_t>& out);

}  // namespace cb::fake_elevenlabs
