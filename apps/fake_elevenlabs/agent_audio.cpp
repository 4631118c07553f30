#include "apps/fake_elevenlabs/agent_audio.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

namespace cb::fake_elevenlabs {
namespace {

constexpr double two_pi = 6.283185307179586476925286766559;

std::size_t samples_for_ms(int duration_ms, int rate_hz) {
  return static_cast<std::size_t>(std::max(duration_ms, 0)) * static_cast<std::size_t>(rate_hz) /
         1000;
}

class tone_source final : public audio_source {
 public:
  tone_source(double frequency_hz, int duration_ms, int rate_hz)
      : generator_(frequency_hz, rate_hz), total_(samples_for_ms(duration_ms, rate_hz)) {}

  std::size_t read(std::int16_t* out, std::size_t n) override {
    const std::size_t take = std::min(n, total_ - done_);
    generator_.generate(out, take);
    done_ += take;
    return take;
  }
  [[nodiscard]] std::size_t remaining() const override { return total_ - done_; }
  [[nodiscard]] std::size_t total() const override { return total_; }

 private:
  codecs::tone_generator generator_;
  std::size_t total_;
  std::size_t done_ = 0;
};

class sample_source final : public audio_source {
 public:
  explicit sample_source(std::vector<std::int16_t> samples) : samples_(std::move(samples)) {}

  std::size_t read(std::int16_t* out, std::size_t n) override {
    const std::size_t take = std::min(n, samples_.size() - done_);
    std::copy_n(samples_.data() + done_, take, out);
    done_ += take;
    return take;
  }
  [[nodiscard]] std::size_t remaining() const override { return samples_.size() - done_; }
  [[nodiscard]] std::size_t total() const override { return samples_.size(); }

 private:
  std::vector<std::int16_t> samples_;
  std::size_t done_ = 0;
};

struct syllable {
  std::size_t start = 0;
  std::size_t length = 0;
  double pitch_hz = 0;
};

class speech_source final : public audio_source {
 public:
  speech_source(std::string_view text, int rate_hz) : rate_hz_(rate_hz) {
    std::size_t at = 0;
    std::size_t word_start = 0;
    const auto add_word = [&](std::string_view word, bool pause_after) {
      if (word.empty()) return;
      std::uint32_t hash = 2166136261U;  // FNV-1a: a stable pitch per word
      for (const char c : word)
        hash = (hash ^ static_cast<unsigned char>(c)) * 16777619U;
      const int ms = 90 + 35 * static_cast<int>(std::min<std::size_t>(word.size(), 6));
      syllables_.push_back({at, samples_for_ms(ms, rate_hz), 120.0 + (hash % 120U)});
      at += syllables_.back().length + samples_for_ms(pause_after ? 250 : 60, rate_hz);
    };
    for (std::size_t i = 0; i <= text.size(); ++i) {
      const bool end = i == text.size();
      const char c = end ? ' ' : text[i];
      if (c == ' ' || c == '.' || c == ',' || c == '!' || c == '?') {
        add_word(text.substr(word_start, i - word_start), c != ' ');
        word_start = i + 1;
      }
    }
    total_ = at;
  }

  std::size_t read(std::int16_t* out, std::size_t n) override {
    const std::size_t take = std::min(n, total_ - done_);
    constexpr double amplitude = 0.2 * 32767.0;
    for (std::size_t i = 0; i < take; ++i, ++done_) {
      while (current_ < syllables_.size() &&
             done_ >= syllables_[current_].start + syllables_[current_].length) {
        ++current_;
      }
      double value = 0;
      if (current_ < syllables_.size() && done_ >= syllables_[current_].start) {
        const auto& s = syllables_[current_];
        const double t = static_cast<double>(done_ - s.start) / rate_hz_;
        const double envelope = std::sin(two_pi / 2 * static_cast<double>(done_ - s.start) /
                                         static_cast<double>(s.length));
        const double phase = two_pi * s.pitch_hz * t;
        value = amplitude * envelope *
                (std::sin(phase) + 0.5 * std::sin(2 * phase) + 0.25 * std::sin(3 * phase)) / 1.75;
      }
      out[i] = static_cast<std::int16_t>(std::lround(value));
    }
    return take;
  }
  [[nodiscard]] std::size_t remaining() const override { return total_ - done_; }
  [[nodiscard]] std::size_t total() const override { return total_; }

 private:
  int rate_hz_;
  std::vector<syllable> syllables_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::size_t current_ = 0;
};

}  // namespace

std::unique_ptr<audio_source> make_tone(double frequency_hz, int duration_ms, int rate_hz) {
  return std::make_unique<tone_source>(frequency_hz, duration_ms, rate_hz);
}

std::unique_ptr<audio_source> make_playback(std::vector<std::int16_t> samples, int from_rate,
                                            int to_rate) {
  if (from_rate == to_rate) return std::make_unique<sample_source>(std::move(samples));
  codecs::resampler resampler(from_rate, to_rate);
  // Zeros after the audio push the filter's delayed tail out.
  samples.resize(samples.size() + static_cast<std::size_t>(resampler.input_latency()), 0);
  std::vector<std::int16_t> out(resampler.max_output(samples.size()));
  out.resize(resampler.process(samples.data(), samples.size(), out.data(), out.size()));
  return std::make_unique<sample_source>(std::move(out));
}

std::unique_ptr<audio_source> make_speech(std::string_view text, int rate_hz) {
  return std::make_unique<speech_source>(text, rate_hz);
}

void encode_output(const std::int16_t* samples, std::size_t n, codecs::audio_format format,
                   std::vector<std::uint8_t>& out) {
  out.resize(n * format.bytes_per_sample());
  if (format.enc == codecs::encoding::ulaw) {
    codecs::encode_ulaw(samples, n, out.data());
  } else {
    codecs::store_s16le(samples, n, out.data());
  }
}

}  // namespace cb::fake_elevenlabs
