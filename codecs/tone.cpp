#include "codecs/tone.hpp"

#include <cmath>

namespace cb::codecs {

namespace {
constexpr double two_pi = 6.283185307179586476925286766559;
}

tone_generator::tone_generator(double frequency_hz, int rate_hz, double level_dbfs)
    : frequency_hz_(frequency_hz),
      phase_step_(two_pi * frequency_hz / rate_hz),
      amplitude_(32767.0 * std::pow(10.0, level_dbfs / 20.0)) {}

void tone_generator::generate(std::int16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::int16_t>(std::lround(amplitude_ * std::sin(phase_)));
    phase_ += phase_step_;
    if (phase_ >= two_pi) phase_ -= two_pi;
  }
}

double estimate_frequency_hz(const std::int16_t* samples, std::size_t n, int rate_hz) {
  double first = -1.0;
  double last = -1.0;
  std::size_t crossings = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (samples[i - 1] < 0 && samples[i] >= 0) {
      const double a = samples[i - 1];
      const double b = samples[i];
      const double at = static_cast<double>(i - 1) + (-a / (b - a));
      if (crossings == 0) first = at;
      last = at;
      ++crossings;
    }
  }
  if (crossings < 2) return 0.0;
  return static_cast<double>(crossings - 1) * rate_hz / (last - first);
}

double goertzel_power(const std::int16_t* samples, std::size_t n, int rate_hz,
                      double frequency_hz) {
  if (n == 0) return 0.0;
  const double coeff = 2.0 * std::cos(two_pi * frequency_hz / rate_hz);
  double s1 = 0.0;
  double s2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double s0 = samples[i] / 32768.0 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  const double nd = static_cast<double>(n);
  return 2.0 * power / (nd * nd);
}

}  // namespace cb::codecs
