#include "apps/callsim/call_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "codecs/tone.hpp"

namespace cb::callsim {

namespace {

bool is_heard(const received_frame& f, const time_window& window, double silence_dbfs) {
  return audiosocket::is_audio(f.k) && window.contains(f.arrival_ns) && f.level_dbfs > silence_dbfs;
}

double frame_ms(const received_frame& f) {
  const std::size_t samples = f.length / 2;
  return static_cast<double>(samples) * 1000.0 / audiosocket::sample_rate(f.k);
}

}  // namespace

double dominant_frequency_hz(const call_report& report, time_window window, double silence_dbfs) {
  std::vector<float> estimates;
  for (const auto& f : report.frames) {
    if (is_heard(f, window, silence_dbfs) && f.frequency_hz > 0.0F) {
      estimates.push_back(f.frequency_hz);
    }
  }
  if (estimates.empty()) return 0.0;
  const auto middle = estimates.begin() + static_cast<std::ptrdiff_t>(estimates.size() / 2);
  std::nth_element(estimates.begin(), middle, estimates.end());
  return *middle;
}

double non_silent_ms(const call_report& report, time_window window, double silence_dbfs) {
  double total = 0.0;
  for (const auto& f : report.frames) {
    if (is_heard(f, window, silence_dbfs)) total += frame_ms(f);
  }
  return total;
}

std::optional<std::int64_t> first_non_silent_ns(const call_report& report, double silence_dbfs) {
  for (const auto& f : report.frames) {
    if (is_heard(f, time_window{}, silence_dbfs)) return f.arrival_ns;
  }
  return std::nullopt;
}

std::optional<std::int64_t> last_frame_with_tone_ns(const call_report& report, double frequency_hz,
                                                    time_window window, tone_threshold threshold) {
  const double min_power = std::pow(10.0, threshold.min_level_dbfs / 10.0);
  for (auto it = report.frames.rbegin(); it != report.frames.rend(); ++it) {
    const auto& f = *it;
    if (!audiosocket::is_audio(f.k) || !window.contains(f.arrival_ns) ||
        f.pcm_offset == received_frame::no_pcm) {
      continue;
    }
    const std::size_t n = f.length / 2;
    if (f.pcm_offset + n > report.pcm.size()) continue;
    const std::int16_t* const samples = report.pcm.data() + f.pcm_offset;
    const double tone =
        codecs::goertzel_power(samples, n, audiosocket::sample_rate(f.k), frequency_hz);
    const double frame = std::pow(10.0, static_cast<double>(f.level_dbfs) / 10.0);
    if (tone >= min_power && tone >= threshold.min_share * frame) return f.arrival_ns;
  }
  return std::nullopt;
}

}  // namespace cb::callsim
