#include "apps/callsim/tone_oscillator.hpp"

#include <cmath>

namespace cb::callsim {

namespace {
constexpr double two_pi = 6.283185307179586476925286766559;
}

tone_oscillator::tone_oscillator(double frequency_hz, int rate_hz, double level_dbfs)
    : step_cos_(std::cos(two_pi * frequency_hz / rate_hz)),
      step_sin_(std::sin(two_pi * frequency_hz / rate_hz)),
      amplitude_(32767.0 * std::pow(10.0, level_dbfs / 20.0)) {}

void tone_oscillator::generate(std::int16_t* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double v = amplitude_ * im_;
    // Round half away from zero, as std::lround does, without the library call.
    out[i] = static_cast<std::int16_t>(v + (v >= 0.0 ? 0.5 : -0.5));
    const double re = re_ * step_cos_ - im_ * step_sin_;
    im_ = re_ * step_sin_ + im_ * step_cos_;
    re_ = re;
  }
  // Rounding shrinks or grows the phasor a little per step; pull it back to unit length once per
  // block (one Newton step of 1/sqrt, exact enough this close to 1).
  const double correction = 1.5 - 0.5 * (re_ * re_ + im_ * im_);
  re_ *= correction;
  im_ *= correction;
}

}  // namespace cb::callsim
