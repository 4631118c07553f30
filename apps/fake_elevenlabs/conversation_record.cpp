#include "apps/fake_elevenlabs/conversation_record.hpp"

#include <cmath>

namespace cb::fake_elevenlabs {

double user_audio_record::dominant_frequency_hz() const {
  const audio_segment* longest = nullptr;
  for (const auto& s : segments) {
    if (longest == nullptr || s.duration_ms > longest->duration_ms) longest = &s;
  }
  return longest == nullptr ? 0.0 : longest->frequency_hz;
}

double user_audio_record::voiced_ms_near(double frequency_hz, double tolerance_hz) const {
  double total = 0;
  for (const auto& s : segments) {
    if (std::abs(s.frequency_hz - frequency_hz) <= tolerance_hz) total += s.duration_ms;
  }
  return total;
}

}  // namespace cb::fake_elevenlabs
