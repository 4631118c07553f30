#include "apps/fake_elevenlabs/uplink_analyzer.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "apps/callsim/audio_stamp.hpp"
#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

namespace cb::fake_elevenlabs {
namespace {

// Two windows belong to one segment when their frequencies differ by less than this: wide enough
// for the estimator's jitter on a resampled tone, narrow enough to split two distinct tones.
double frequency_tolerance_hz(double frequency_hz) {
  return std::max(15.0, 0.05 * frequency_hz);
}

// A stamp older than this is a loud sample that happens to equal the magic, not a stamp.
constexpr std::chrono::seconds max_stamp_age{60};

}  // namespace

uplink_analyzer::uplink_analyzer(const agent_profile& profile, bool keep_turn_audio)
    : format_(profile.input),
      keep_turn_audio_(keep_turn_audio),
      window_samples_(static_cast<std::size_t>(profile.input.rate_hz) *
                      static_cast<std::size_t>(profile.window_ms) / 1000),
      window_ms_(1000.0 * static_cast<double>(window_samples_) / profile.input.rate_hz),
      threshold_dbfs_(profile.vad_threshold_dbfs),
      turn_silence_ms_(profile.turn_silence_ms),
      max_turn_samples_(static_cast<std::size_t>(profile.input.rate_hz) / 1000 *
                        static_cast<std::size_t>(max_turn_audio_ms)),
      window_(window_samples_) {
  // 250 ms at the highest rate: the usual largest chunk decodes without reallocation.
  samples_.reserve(static_cast<std::size_t>(profile.input.rate_hz) / 4);
  stamps_ahead_.reserve(16);
}

double uplink_analyzer::position_ms() const {
  return static_cast<double>(windows_done_) * window_ms_ +
         1000.0 * static_cast<double>(window_fill_) / format_.rate_hz;
}

void uplink_analyzer::process(const std::uint8_t* bytes, std::size_t n,
                              clock::time_point received_at, user_audio_record& record) {
  const std::size_t count = n / format_.bytes_per_sample();
  const std::uint64_t base = windows_done_ * window_samples_ + window_fill_;
  samples_.resize(held_back_ + count);
  std::int16_t* decoded = samples_.data() + held_back_;
  if (format_.enc == codecs::encoding::ulaw) {
    codecs::decode_ulaw(bytes, count, decoded);
  } else {
    codecs::load_s16le(bytes, count, decoded);
    find_stamps(received_at, base, record);
  }
  record.chunks += 1;
  record.bytes += n;
  record.received_ms += 1000.0 * static_cast<double>(count) / format_.rate_hz;

  // Linear PCM keeps its last samples back: they may be the start of a stamp.
  const std::size_t keep = format_.enc == codecs::encoding::ulaw
                               ? 0
                               : std::min(samples_.size(), callsim::stamp::samples - 1);
  const std::size_t ready = samples_.size() - keep;
  std::size_t at = 0;
  std::size_t stamps_passed = 0;
  while (at < ready) {
    const std::size_t take = std::min(ready - at, window_samples_ - window_fill_);
    std::copy_n(samples_.data() + at, take, window_.data() + window_fill_);
    window_fill_ += take;
    at += take;
    if (window_fill_ == window_samples_) {
      const std::uint64_t window_end = (windows_done_ + 1) * window_samples_;
      while (stamps_passed < stamps_ahead_.size() &&
             stamps_ahead_[stamps_passed].position < window_end) {
        window_stamp_ns_ = stamps_ahead_[stamps_passed++].sent_ns;
      }
      analyse_window(record);
      window_fill_ = 0;
    }
  }
  stamps_ahead_.erase(stamps_ahead_.begin(),
                      stamps_ahead_.begin() + static_cast<std::ptrdiff_t>(stamps_passed));
  std::copy(samples_.begin() + static_cast<std::ptrdiff_t>(ready), samples_.end(),
            samples_.begin());
  held_back_ = keep;
}

void uplink_analyzer::find_stamps(clock::time_point received_at, std::uint64_t base,
                                  user_audio_record& record) {
  namespace stamp = callsim::stamp;
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(received_at.time_since_epoch()).count();
  std::int16_t* s = samples_.data();
  const std::size_t n = samples_.size();
  for (std::size_t i = 0; i + stamp::samples <= n; ++i) {
    if (static_cast<std::uint16_t>(s[i]) != stamp::magic) continue;
    const auto sent_ns = stamp::read(s + i, n - i);
    if (!sent_ns) continue;
    const std::chrono::nanoseconds latency(now_ns - *sent_ns);
    if (latency.count() < 0 || latency > max_stamp_age) continue;
    stamps_ahead_.push_back(found_stamp{base + i, *sent_ns});
    ++record.stamps;
    record.stamp_latency_sum += latency;
    record.stamp_latency_max = std::max(record.stamp_latency_max, latency);
    if (record.stamp_latencies.size() < user_audio_record::max_stamp_latencies) {
      record.stamp_latencies.push_back(latency);
    }
    // Bridge the stamp with a straight line between its neighbours, as if it were never there.
    const std::size_t end = i + stamp::samples;
    const double before = i > 0 ? s[i - 1] : (end < n ? s[end] : 0);
    const double after = end < n ? s[end] : before;
    for (std::size_t k = 0; k < stamp::samples; ++k) {
      const double f = static_cast<double>(k + 1) / (stamp::samples + 1);
      s[i + k] = static_cast<std::int16_t>(std::lround(before + (after - before) * f));
    }
    i = end - 1;
  }
}

void uplink_analyzer::analyse_window(user_audio_record& record) {
  const double start_ms = static_cast<double>(windows_done_) * window_ms_;
  ++windows_done_;
  const double level = codecs::level_dbfs(window_.data(), window_samples_);
  const bool voiced = level > threshold_dbfs_;

  if (voiced) {
    if (window_stamp_ns_) voiced_stamp_ns_ = window_stamp_ns_;
    const double frequency =
        codecs::estimate_frequency_hz(window_.data(), window_samples_, format_.rate_hz);
    record.voiced_ms += window_ms_;
    const bool contiguous = last_voiced_window_ + 1 == windows_done_ && !record.segments.empty();
    auto* segment = contiguous ? &record.segments.back() : nullptr;
    if (segment != nullptr && std::abs(frequency - segment->frequency_hz) <
                                  frequency_tolerance_hz(segment->frequency_hz)) {
      const double windows = segment->duration_ms / window_ms_;
      segment->frequency_hz = (segment->frequency_hz * windows + frequency) / (windows + 1.0);
      segment->duration_ms += window_ms_;
      segment->level_dbfs = std::max(segment->level_dbfs, level);
    } else if (record.segments.size() < user_audio_record::max_segments) {
      record.segments.push_back(audio_segment{start_ms, window_ms_, frequency, level});
    }
    last_voiced_window_ = windows_done_;

    if (!in_turn_) {
      in_turn_ = true;
      turn_start_ms_ = start_ms;
      turn_voiced_ms_ = 0;
      turn_frequency_sum_ = 0;
      turn_audio_.clear();
      turn_audio_voiced_end_ = 0;
      events_.speech_started = true;
    }
    turn_voiced_ms_ += window_ms_;
    turn_frequency_sum_ += frequency * window_ms_;
    silence_run_ms_ = 0;
  } else if (in_turn_) {
    silence_run_ms_ += window_ms_;
  }

  if (in_turn_ && keep_turn_audio_ && turn_audio_.size() + window_samples_ <= max_turn_samples_) {
    turn_audio_.insert(turn_audio_.end(), window_.begin(), window_.end());
    if (voiced) turn_audio_voiced_end_ = turn_audio_.size();
  }
  if (in_turn_ && silence_run_ms_ >= turn_silence_ms_) end_turn();
}

void uplink_analyzer::end_turn() {
  completed_turn turn;
  turn.start_ms = turn_start_ms_;
  turn.voiced_ms = turn_voiced_ms_;
  turn.frequency_hz = turn_voiced_ms_ > 0 ? turn_frequency_sum_ / turn_voiced_ms_ : 0.0;
  if (keep_turn_audio_) {
    turn_audio_.resize(turn_audio_voiced_end_);
    turn.audio = std::move(turn_audio_);
    turn_audio_ = {};
  }
  events_.turns_ended.push_back(std::move(turn));
  in_turn_ = false;
  silence_run_ms_ = 0;
  turn_voiced_ms_ = 0;
}

uplink_analyzer::events uplink_analyzer::take_events() {
  events taken = std::move(events_);
  events_ = {};
  return taken;
}

}  // namespace cb::fake_elevenlabs
