// callsim: the project's AudioSocket call simulator. It plays calls into a server exactly as
// Asterisk does (shared/protocols/audiosocket.md), records everything the server sends back, and
// checks the server's side of the protocol and its pacing. The integration tests, the load
// benchmark (thousands of calls from one process) and the offline demo all drive it.
//
// Engine: a few worker threads, each with its own epoll set, a timerfd armed at absolute
// CLOCK_MONOTONIC deadlines and a min-heap of per-call due times; calls are dealt to workers
// round-robin. Sockets are non-blocking; a call's frames go straight to send(), and only what the
// socket refuses is kept in the call's own bounded output buffer. Nothing is allocated per frame:
// every buffer is sized when the call connects.
//
// Latency probes: see audio_stamp.hpp (cb::callsim::stamp) for the layout of the send-time stamps
// written into outgoing audio (call_spec::stamp) and looked for in received audio
// (call_report::downlink).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "apps/callsim/audio_stamp.hpp"
#include "apps/callsim/call_report.hpp"
#include "apps/callsim/call_spec.hpp"
#include "codecs/expected.hpp"

namespace cb::callsim {

// CLOCK_MONOTONIC in ns: the clock of every time in a call_report.
[[nodiscard]] std::int64_t monotonic_ns();

enum class start_error : std::uint8_t {
  not_running,     // start() not called, or stop() called
  bad_id,          // call_spec::id is neither 8-4-4-4-12 text nor 16 printable ASCII characters
  bad_frame_kind,  // not an audio kind (0x10-0x18)
  bad_source,      // no clip, a clip at another rate than the frame kind's, a tone not above 0 Hz
  bad_dtmf_digit,  // not 0-9 * # A-D
  never_ends,      // closes after the audio, yet the audio never ends and there is no max_time
  bad_address,     // the host does not resolve
};

[[nodiscard]] const char* to_string(start_error e);

struct simulator_options {
  // Worker threads, each with its own epoll set.
  unsigned threads = 1;
  // Work due within this much of now is done in the same wake-up, so a frame may leave this much
  // early. It lets a worker serve a thousand calls with phases spread over the 20 ms period in a
  // few thousand wake-ups a second rather than one per frame.
  std::chrono::nanoseconds timer_coalescing{std::chrono::microseconds{250}};
  // A worker sleeps at least this long between wake-ups, so reads arriving meanwhile are taken in
  // one batch instead of one wake-up each. Arrival times are the kernel's receive times, so the
  // measurements do not suffer; frames may leave up to this late, and hangups are noticed up to
  // this late. Zero: wake for every event (the default, for tests and a few calls). Worth about
  // 500 us from a few hundred calls up.
  std::chrono::nanoseconds min_wake_interval{0};
};

// Thread-safe: any thread may start, hang up, wait for and inspect calls.
class simulator {
 public:
  explicit simulator(simulator_options options = {});
  // Stops, hanging up the calls still running.
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;
  simulator(simulator&&) = delete;
  simulator& operator=(simulator&&) = delete;

  // Starts the workers. Throws std::system_error if the kernel refuses an epoll set, timerfd or
  // eventfd.
  void start();
  // Hangs up every running call (call_end::local_hangup) and joins the workers. Reports remain.
  void stop();

  // Resolves the host and hands the call to a worker, which connects after spec.start_delay.
  [[nodiscard]] expected<call_handle, start_error> start_call(call_spec spec);
  // Closes the call's socket now. False if the call is unknown or already over.
  bool hangup(call_handle handle);

  // The final report once the call is over; nullopt on timeout or for an unknown handle.
  [[nodiscard]] std::optional<call_report> wait(call_handle handle,
                                                std::chrono::nanoseconds timeout) const;
  // A snapshot of a call, running or not.
  [[nodiscard]] std::optional<call_report> report(call_handle handle) const;
  [[nodiscard]] std::optional<call_status> status(call_handle handle) const;
  // Calls started and not yet over.
  [[nodiscard]] std::size_t running() const;
  // Totals over every call started so far.
  [[nodiscard]] aggregate_report aggregate() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cb::callsim
