// Listens to the caller: decodes each user_audio_chunk's bytes in the agent's input format and
// measures the audio in fixed windows (level, dominant frequency), merges them into segments and
// finds the caller's turns with an energy VAD. Linear PCM is also searched for the call
// simulator's latency stamps (apps/callsim/audio_stamp.hpp), which are timed and then smoothed
// over so they do not count as speech. Buffers are sized once; per chunk nothing is allocated
// except a new segment entry or a turn's audio.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "apps/fake_elevenlabs/agent_profile.hpp"
#include "apps/fake_elevenlabs/conversation_record.hpp"
#include "codecs/audio_format.hpp"

namespace cb::fake_elevenlabs {

// A caller turn that has just ended, with its audio (first to last voiced window) when kept.
struct completed_turn {
  double start_ms = 0;
  double voiced_ms = 0;
  double frequency_hz = 0;
  std::vector<std::int16_t> audio;
};

class uplink_analyzer {
 public:
  // keep_turn_audio: buffer each turn's samples (for scenarios that play them back), up to
  // max_turn_audio_ms.
  uplink_analyzer(const agent_profile& profile, bool keep_turn_audio);

  static constexpr int max_turn_audio_ms = 30000;

  // Decodes and analyses one chunk received at received_at, updating `record` (chunk counts,
  // segments, voiced time, stamp latencies). Turns that started or ended are queued; read them
  // with take_events(). The analysis runs a few samples behind, so that a stamp split across two
  // chunks is still found.
  void process(const std::uint8_t* bytes, std::size_t n, clock::time_point received_at,
               user_audio_record& record);

  struct events {
    bool speech_started = false;
    std::vector<completed_turn> turns_ended;
  };
  // What happened since the last call; leaves the queue empty.
  [[nodiscard]] events take_events();

  [[nodiscard]] bool in_turn() const { return in_turn_; }
  // Voiced time of the turn in progress.
  [[nodiscard]] double turn_voiced_ms() const { return turn_voiced_ms_; }
  // Uplink audio received so far, in milliseconds.
  [[nodiscard]] double position_ms() const;
  // The send time in the stamp of the caller frame holding the latest voiced window (the last
  // stamp found at or before the window's end); nullopt before any voiced window or stamp.
  [[nodiscard]] std::optional<std::int64_t> voiced_stamp_ns() const { return voiced_stamp_ns_; }

 private:
  // base: the stream position (samples since the first chunk) of samples_[0].
  void find_stamps(clock::time_point received_at, std::uint64_t base, user_audio_record& record);
  void analyse_window(user_audio_record& record);
  void end_turn();

  codecs::audio_format format_;
  bool keep_turn_audio_;
  std::size_t window_samples_;
  double window_ms_;
  double threshold_dbfs_;
  double turn_silence_ms_;
  std::size_t max_turn_samples_;

  std::vector<std::int16_t> samples_;  // samples held back from the last chunk, then this one's
  std::size_t held_back_ = 0;
  std::vector<std::int16_t> window_;
  std::size_t window_fill_ = 0;
  std::uint64_t windows_done_ = 0;
  std::uint64_t last_voiced_window_ = 0;  // 1-based index; 0: none yet

  bool in_turn_ = false;
  double turn_start_ms_ = 0;
  double turn_voiced_ms_ = 0;
  double turn_frequency_sum_ = 0;  // frequency x voiced ms, for the mean
  double silence_run_ms_ = 0;
  std::vector<std::int16_t> turn_audio_;
  std::size_t turn_audio_voiced_end_ = 0;

  struct found_stamp {
    std::uint64_t position = 0;  // in samples since the first chunk
    std::int64_t sent_ns = 0;
  };
  std::vector<found_stamp> stamps_ahead_;        // found in samples not yet analysed
  std::optional<std::int64_t> window_stamp_ns_;  // the last stamp before the current window's end
  std::optional<std::int64_t> voiced_stamp_ns_;

  events events_;
};

}  // namespace cb::fake_elevenlabs
