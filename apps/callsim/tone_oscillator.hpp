// The caller's test tone (and the fake agent's), made cheaply enough for thousands of calls. A
// tone whose frequency is a whole number of hertz repeats exactly after rate / gcd(rate, hz)
// samples (a few hundred for the usual test tones): that stretch is computed once and copied from
// then on. Any other tone is a phasor rotated by a fixed step, two multiply-adds per sample instead
// of a sin() call. Either way the signal is codecs::tone_generator's (same start phase, same
// amplitude convention) to within one LSB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cb::callsim {

class tone_oscillator {
 public:
  tone_oscillator(double frequency_hz, int rate_hz, double level_dbfs);

  void generate(std::int16_t* out, std::size_t n);

  // The longest exact repetition kept as a table; longer ones use the phasor.
  static constexpr std::size_t max_table_samples = 8000;
  // Samples after which the signal repeats exactly (the table's length); 0 on the phasor.
  [[nodiscard]] std::size_t period_samples() const { return table_.size(); }

 private:
  std::vector<std::int16_t> table_;
  std::size_t position_ = 0;
  double step_cos_;
  double step_sin_;
  double amplitude_;
  double re_ = 1.0;  // the phasor; the output is its imaginary part
  double im_ = 0.0;
};

}  // namespace cb::callsim
