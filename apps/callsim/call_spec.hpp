// What one simulated call does: where it connects, what it says and when, and how it ends. The
// defaults are what Asterisk's AudioSocket() application does: binary UUID, 8 kHz slin (0x10), 20
// ms frames, EOF as hangup.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "apps/callsim/audio_clip.hpp"
#include "apps/callsim/frame_timing.hpp"
#include "protocol/audiosocket.hpp"

namespace cb::callsim {

// A sine, continuous across frames.
struct tone_source {
  double frequency_hz = 440.0;
  double level_dbfs = -12.0;
};

// Frames of digital silence: a SIP leg that keeps streaming while nobody speaks.
struct silence_source {};

// A recording, sent 20 ms at a time; its last frame is sent short, as Asterisk does.
struct clip_source {
  enum class then : std::uint8_t {
    stop,     // send nothing more: the leg goes silent, as after a Playback()
    silence,  // keep streaming silence frames
    loop,     // start the clip again
  };
  std::shared_ptr<const audio_clip> clip;  // at the rate of the call's frame kind
  then after_end = then::stop;
};

// A caller who speaks now and then: `quiet` of digital silence, then the tone for `talk`, over and
// over, streamed without a break as Asterisk streams a leg. Source time starts with the first
// frame and, like the tone's phase, stops during send gaps. With stamps on, the send times of the
// tone frames are reported (call_report::speech_sent_ns), so a peer that reacted to the speech
// (the agent's barge-in) can tell which call spoke.
struct tone_bursts_source {
  tone_source tone;
  std::chrono::nanoseconds quiet{std::chrono::milliseconds{1800}};
  std::chrono::nanoseconds talk{std::chrono::milliseconds{200}};
};

using audio_source = std::variant<tone_source, silence_source, clip_source, tone_bursts_source>;

// Times are from the moment the connection is up.
struct dtmf_event {
  std::chrono::nanoseconds at{0};
  char digit = '1';
};

// An interval in which the caller sends no audio at all, as Asterisk does while a leg produces no
// frames. The source does not advance meanwhile.
struct send_gap {
  std::chrono::nanoseconds start{0};
  std::chrono::nanoseconds length{0};
};

enum class end_mode : std::uint8_t {
  after_duration,   // close the socket once the audio is over: the caller hangs up (EOF)
  wait_for_server,  // stay, silent once the audio is over, until the server sends 0x00 or closes
};

// Asterisk answers a forbidden frame from the server (0x01, 0x03, 0xff, a malformed frame) by
// tearing the call down: the server sees a reset. `record` counts well-formed ones and carries on,
// to see them all; a malformed frame ends the call either way, as the framing is lost.
enum class violation_policy : std::uint8_t { tear_down, record };

struct call_spec {
  std::string host = "127.0.0.1";  // a name or a numeric IPv4/IPv6 address
  std::uint16_t port = 0;
  // 8-4-4-4-12 text, or 16 printable ASCII characters; empty: a random version 4 UUID.
  std::string id;
  // Send the first 16 characters of the id's text instead of the binary UUID, as OSdial's
  // AudioSocket backport does.
  bool ascii_id = false;
  audiosocket::kind frame_kind = audiosocket::kind::slin_8k;
  audio_source source = tone_source{};
  // How long audio is sent, from connect. Zero: as long as the source lasts (a clip up to its end
  // unless it continues; a tone or silence until the call ends).
  std::chrono::nanoseconds duration{0};
  std::vector<send_gap> gaps;
  std::vector<dtmf_event> dtmf;
  end_mode end = end_mode::after_duration;
  // Hang up (close) this long after the call started connecting, whatever the mode; zero: never.
  std::chrono::nanoseconds max_time{0};
  // Wait this long after start_call before connecting.
  std::chrono::nanoseconds start_delay{0};
  std::chrono::nanoseconds connect_timeout{std::chrono::seconds{3}};
  // Overwrite the start of every audio frame sent with an audio_stamp of its send time.
  bool stamp = false;
  // Keep the samples of every audio frame received (up to max_pcm_samples), for tone analysis.
  bool record_pcm = false;
  std::size_t max_pcm_samples = std::size_t{8000} * 600;
  // Frames received beyond this are counted and timed but not logged one by one.
  std::size_t max_logged_frames = 30000;
  violation_policy on_violation = violation_policy::tear_down;
  timing_options timing;
  // A received frame whose RMS level is above this is heard audio.
  double silence_threshold_dbfs = -50.0;
};

}  // namespace cb::callsim
