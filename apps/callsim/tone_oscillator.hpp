// The caller's test tone, made cheaply enough for thousands of calls: a phasor rotated by a fixed
// step, two multiply-adds per sample instead of a sin() call. The signal is
// codecs::tone_generator's (same start phase, same amplitude convention) to within one LSB.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cb::callsim {

class tone_oscillator {
 public:
  tone_oscillator(double frequency_hz, int rate_hz, double level_dbfs);

  void generate(std::int16_t* out, std::size_t n);

 private:
  double step_cos_;
  double step_sin_;
  double amplitude_;
  double re_ = 1.0;  // the phasor; the output is its imaginary part
  double im_ = 0.0;
};

}  // namespace cb::callsim
