// Test-tone generation and measurement. The project's peers (call simulator, fake agent) and the
// integration tests prove audio went through the bridge intact by sending a tone one way and
// measuring its frequency and duration at the other end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cb::codecs {

// A sine of fixed frequency whose phase carries over between calls, so a tone generated frame by
// frame is one continuous signal: sample i is round(amplitude * sin(2 pi f i / rate)) to within
// one LSB. The peers make thousands of calls' tones in real time, so no sin() per sample: a tone
// of a whole number of hertz repeats exactly after rate / gcd(rate, hz) samples (a few hundred for
// the usual test tones), computed once and copied from then on; any other is a phasor rotated by a
// fixed step, two multiply-adds per sample.
class tone_generator {
 public:
  tone_generator(double frequency_hz, int rate_hz, double level_dbfs = -12.0);
  void generate(std::int16_t* out, std::size_t n);
  [[nodiscard]] double frequency_hz() const { return frequency_hz_; }

  // The longest exact repetition kept as a table; longer ones use the phasor.
  static constexpr std::size_t max_table_samples = 8000;
  // Samples after which the signal repeats exactly (the table's length); 0 on the phasor.
  [[nodiscard]] std::size_t period_samples() const { return table_.size(); }

 private:
  double frequency_hz_;
  std::vector<std::int16_t> table_;
  std::size_t position_ = 0;
  double step_cos_;
  double step_sin_;
  double amplitude_;
  double re_ = 1.0;  // the phasor; the output is its imaginary part
  double im_ = 0.0;
};

// Frequency of a single dominant tone, from the spacing of its rising zero crossings (with linear
// interpolation between samples). Returns 0 when the block holds fewer than two crossings.
[[nodiscard]] double estimate_frequency_hz(const std::int16_t* samples, std::size_t n, int rate_hz);

// Power of one frequency component (Goertzel), normalised so a full-scale sine at that frequency
// gives about 0.5 whatever n is: a cheap "is this tone present" test.
[[nodiscard]] double goertzel_power(const std::int16_t* samples, std::size_t n, int rate_hz,
                                    double frequency_hz);

}  // namespace cb::codecs
