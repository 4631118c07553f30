// Test-tone generation and measurement. The project's peers (call simulator, fake agent) and the
// integration tests prove audio went through the bridge intact by sending a tone one way and
// measuring its frequency and duration at the other end.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cb::codecs {

// A sine of fixed frequency whose phase carries over between calls, so a tone generated frame by
// frame is one continuous signal.
class tone_generator {
 public:
  tone_generator(double frequency_hz, int rate_hz, double level_dbfs = -12.0);
  void generate(std::int16_t* out, std::size_t n);
  [[nodiscard]] double frequency_hz() const { return frequency_hz_; }

 private:
  double frequency_hz_;
  double phase_ = 0.0;
  double phase_step_;
  double amplitude_;
};

// Frequency of a single dominant tone, from the spacing of its rising zero crossings (with linear
// interpolation between samples). Returns 0 when the block holds fewer than two crossings.
[[nodiscard]] double estimate_frequency_hz(const std::int16_t* samples, std::size_t n, int rate_hz);

// Power of one frequency component (Goertzel), normalised so a full-scale sine at that frequency
// gives about 0.5 whatever n is: a cheap "is this tone present" test.
[[nodiscard]] double goertzel_power(const std::int16_t* samples, std::size_t n, int rate_hz,
                                    double frequency_hz);

}  // namespace cb::codecs
