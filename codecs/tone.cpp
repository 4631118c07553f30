#include "codecs/tone.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cb::codecs {

namespace {

constexpr double two_pi = 6.283185307179586476925286766559;

// Round half away from zero, as std::lround does, without the library call.
std::int16_t to_sample(double v) {
  return static_cast<std::int16_t>(v + (v >= 0.0 ? 0.5 : -0.5));
}

// Samples after which a tone repeats exactly, when that is short enough to tabulate; 0 otherwise.
std::size_t exact_period(double frequency_hz, int rate_hz) {
  const double whole = std::round(frequency_hz);
  if (rate_hz <= 0 || whole < 1.0 || whole != frequency_hz || whole > rate_hz) return 0;
  const auto hz = static_cast<long long>(whole);
  const auto period =
      static_cast<std::size_t>(rate_hz / std::gcd(static_cast<long long>(rate_hz), hz));
  return period <= tone_generator::max_table_samples ? period : 0;
}

}  // namespace

tone_generator::tone_generator(double frequency_hz, int rate_hz, double level_dbfs)
    : frequency_hz_(frequency_hz),
      step_cos_(std::cos(two_pi * frequency_hz / rate_hz)),
      step_sin_(std::sin(two_pi * frequency_hz / rate_hz)),
      amplitude_(32767.0 * std::pow(10.0, level_dbfs / 20.0)) {
  const std::size_t period = exact_period(frequency_hz, rate_hz);
  if (period == 0) return;
  // Sample i is i * hz / rate cycles in: its phase, exactly, from integers.
  const auto hz = static_cast<std::size_t>(frequency_hz);
  const auto rate = static_cast<std::size_t>(rate_hz);
  table_.resize(period);
  for (std::size_t i = 0; i < period; ++i) {
    const double cycle_fraction = static_cast<double>(i * hz % rate) / rate_hz;
    table_[i] = to_sample(amplitude_ * std::sin(two_pi * cycle_fraction));
  }
}

void tone_generator::generate(std::int16_t* out, std::size_t n) {
  if (!table_.empty()) {
    while (n > 0) {
      const std::size_t take = std::min(n, table_.size() - position_);
      std::copy_n(table_.data() + position_, take, out);
      out += take;
      n -= take;
      position_ = (position_ + take) % table_.size();
    }
    return;
  }
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = to_sample(amplitude_ * im_);
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
