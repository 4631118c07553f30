#include "apps/callsim/callsim.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "apps/callsim/call_analysis.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

namespace cb::callsim {

namespace {

namespace as = cb::audiosocket;

constexpr std::int64_t ns_per_s = 1'000'000'000;
// Asterisk's frame: 20 ms of audio, whatever the rate.
constexpr std::int64_t frame_period_ns = 20'000'000;
constexpr int frames_per_second = 50;
constexpr double ns_per_ms = 1e6;
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t recv_buffer_size = 65536;
constexpr std::size_t max_events = 256;
// Frames a call may hold back while the server does not read, on top of the socket's own buffer;
// beyond that frames are dropped and counted.
constexpr std::size_t output_frames = 16;
constexpr std::size_t output_slack = 64;  // the call id and DTMF frames
// The frame log and PCM are reserved for this much of a call when it connects; longer calls grow
// them (once in a while, not per frame).
constexpr std::int64_t planned_call_ns = 60 * ns_per_s;
// A stamp older than this is a coincidence in the audio, not a probe.
constexpr std::int64_t max_stamp_age_ns = 60 * ns_per_s;
// A kernel receive time further back than this is a wall-clock step, not a slow read.
constexpr std::int64_t max_arrival_age_ns = ns_per_s;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Owns a descriptor the kernel must give, or throws.
class unique_fd {
 public:
  unique_fd(int fd, const char* what) : fd_(fd) {
    if (fd_ < 0) throw_errno(what);
  }
  ~unique_fd() { ::close(fd_); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd(unique_fd&&) = delete;
  unique_fd& operator=(unique_fd&&) = delete;

  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

latency_stats to_latency_stats(const duration_histogram& h) {
  latency_stats s;
  s.count = h.count();
  if (s.count == 0) return s;
  s.min_ms = static_cast<double>(h.min_ns()) / ns_per_ms;
  s.p50_ms = static_cast<double>(h.percentile_ns(0.5)) / ns_per_ms;
  s.p99_ms = static_cast<double>(h.percentile_ns(0.99)) / ns_per_ms;
  s.max_ms = static_cast<double>(h.max_ns()) / ns_per_ms;
  return s;
}

std::string random_uuid_text(std::mt19937_64& rng) {
  std::array<std::uint8_t, as::uuid_size> bytes{};
  const std::uint64_t high = rng();
  const std::uint64_t low = rng();
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(high >> (8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(low >> (8 * i));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return as::format_uuid(bytes);
}

struct address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

std::optional<address> resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const auto service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  address a;
  std::memcpy(&a.storage, found->ai_addr, found->ai_addrlen);
  a.length = found->ai_addrlen;
  freeaddrinfo(found);
  return a;
}

bool source_is_valid(const audio_source& source, int rate_hz) {
  const auto tone_is_valid = [](const tone_source& tone) {
    return std::isfinite(tone.frequency_hz) && tone.frequency_hz > 0.0;
  };
  if (const auto* tone = std::get_if<tone_source>(&source)) return tone_is_valid(*tone);
  if (const auto* bursts = std::get_if<tone_bursts_source>(&source)) {
    return tone_is_valid(bursts->tone) && bursts->talk.count() > 0 && bursts->quiet.count() >= 0;
  }
  if (const auto* clip = std::get_if<clip_source>(&source)) {
    return clip->clip != nullptr && clip->clip->rate_hz == rate_hz;
  }
  return true;
}

// Whether the audio of a call that closes after its audio ever ends.
bool audio_ends(const call_spec& spec) {
  if (spec.duration.count() > 0) return true;
  const auto* clip = std::get_if<clip_source>(&spec.source);
  return clip != nullptr && clip->after_end == clip_source::then::stop;
}

// One call: its spec, the report it builds, and the socket state the worker keeps.
struct call {
  call(call_handle h, call_spec s, address a, as::call_id i)
      : spec(std::move(s)),
        peer(a),
        id(i),
        rate_hz(as::sample_rate(spec.frame_kind)),
        frame_samples(static_cast<std::size_t>(rate_hz / frames_per_second)),
        timing(spec.timing) {
    report.handle = h;
    report.uuid = id.text();
  }

  const call_spec spec;
  const address peer;
  const as::call_id id;
  const int rate_hz;
  const std::size_t frame_samples;

  std::atomic<bool> ended{false};

  // Guards what report(), status() and aggregate() read: the report and the statistics.
  mutable std::mutex mutex;
  call_report report;
  frame_timing timing;
  duration_histogram downlink;
  double received_energy = 0.0;
  std::uint64_t received_samples = 0;
  float last_frequency_hz = 0.0F;

  // The worker's alone.
  int fd = -1;
  // The heap entry carrying this generation is the live one; older ones are skipped when popped.
  std::uint64_t timer_generation = 0;
  std::int64_t scheduled_ns = never;  // due time of the live entry
  std::int64_t start_at_ns = 0;
  std::int64_t connect_deadline_ns = 0;
  std::optional<as::parser> parser;
  std::vector<std::uint8_t> output;  // bytes the socket refused, in order
  std::size_t output_sent = 0;
  bool want_write = false;
  std::optional<codecs::tone_generator> tone;
  std::size_t clip_position = 0;
  std::uint64_t source_frames = 0;  // frames the source produced so far
  bool speaking = false;            // the frame just produced is a tone burst's
  bool tail_heard = false;          // the last frame received ended in heard audio
  bool source_exhausted = false;
  std::uint64_t next_slot = 0;  // audio slot k is sent at connected + (k + 1) * 20 ms
  std::size_t next_dtmf = 0;
};

struct timer_entry {
  std::int64_t due_ns;
  call* target;
  std::uint64_t generation;

  friend bool operator>(const timer_entry& a, const timer_entry& b) { return a.due_ns > b.due_ns; }
};

struct command {
  enum class type : std::uint8_t { start, hangup, stop };
  type what;
  call* target;
};

class worker {
 public:
  worker(const simulator_options& options, std::function<void()> notify_ended)
      : coalescing_ns_(options.timer_coalescing.count()),
        min_wake_ns_(options.min_wake_interval.count()),
        notify_ended_(std::move(notify_ended)) {
    watch(timer_fd_, &timer_fd_);
    watch(wake_fd_, &wake_fd_);
    recv_buffer_.resize(recv_buffer_size);
    samples_.resize(recv_buffer_size / 2);
    frame_.resize(as::header_size + recv_buffer_size);
    timers_.reserve(1024);
  }

  ~worker() { join(); }

  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  worker(worker&&) = delete;
  worker& operator=(worker&&) = delete;

  void launch() {
    thread_ = std::thread([this] { run(); });
  }

  void post(command c) {
    {
      const std::lock_guard<std::mutex> lock(queue_mutex_);
      queue_.push_back(c);
    }
    const std::uint64_t one = 1;
    // The counter cannot overflow in practice; a failed write only means a wake-up is pending.
    [[maybe_unused]] const auto written = ::write(wake_fd_.get(), &one, sizeof one);
  }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  void watch(const unique_fd& fd, void* tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = tag;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) throw_errno("epoll_ctl");
  }

  void run() {
    std::array<epoll_event, max_events> events{};
    bool stopping = false;
    std::int64_t last_wake_ns = 0;
    while (!stopping) {
      arm_timer();
      if (min_wake_ns_ > 0) sleep_until(last_wake_ns + min_wake_ns_);
      const int n = epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()), -1);
      last_wake_ns = monotonic_ns();
      for (int i = 0; i < n; ++i) {
        void* const tag = events[static_cast<std::size_t>(i)].data.ptr;
        if (tag == &wake_fd_) {
          std::uint64_t count = 0;
          [[maybe_unused]] const auto got = ::read(wake_fd_.get(), &count, sizeof count);
          stopping = run_commands() || stopping;
        } else if (tag == &timer_fd_) {
          std::uint64_t expirations = 0;
          [[maybe_unused]] const auto got =
              ::read(timer_fd_.get(), &expirations, sizeof expirations);
        } else {
          auto& c = *static_cast<call*>(tag);
          const std::lock_guard<std::mutex> lock(c.mutex);
          if (c.report.phase != call_phase::ended) {
            on_io(c, events[static_cast<std::size_t>(i)].events);
          }
          settle(c);
        }
      }
      if (!stopping) run_timers();
    }
  }

  static void sleep_until(std::int64_t at_ns) {
    if (monotonic_ns() >= at_ns) return;
    timespec at{};
    at.tv_sec = static_cast<time_t>(at_ns / ns_per_s);
    at.tv_nsec = static_cast<long>(at_ns % ns_per_s);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
    }
  }

  // Returns true on a stop command, once every live call has been hung up.
  bool run_commands() {
    {
      const std::lock_guard<std::mutex> lock(queue_mutex_);
      commands_.swap(queue_);
    }
    bool stop = false;
    for (const auto& cmd : commands_) {
      switch (cmd.what) {
        case command::type::start:
          start(*cmd.target);
          break;
        case command::type::hangup: {
          const std::lock_guard<std::mutex> lock(cmd.target->mutex);
          end(*cmd.target, call_end::local_hangup);
          settle(*cmd.target);
          break;
        }
        case command::type::stop:
          stop = true;
          break;
      }
    }
    commands_.clear();
    if (stop) {
      const std::vector<call*> running(live_.begin(), live_.end());
      for (call* c : running) {
        const std::lock_guard<std::mutex> lock(c->mutex);
        end(*c, call_end::local_hangup);
        settle(*c);
      }
    }
    return stop;
  }

  void start(call& c) {
    live_.insert(&c);
    const std::lock_guard<std::mutex> lock(c.mutex);
    const auto now = monotonic_ns();
    c.start_at_ns = now + c.spec.start_delay.count();
    if (c.spec.start_delay.count() <= 0) begin_connect(c, now);
    settle(c);
  }

  void run_timers() {
    const std::int64_t limit = monotonic_ns() + coalescing_ns_;
    while (!timers_.empty() && timers_.front().due_ns <= limit) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
      const timer_entry entry = timers_.back();
      timers_.pop_back();
      call& c = *entry.target;
      if (entry.generation != c.timer_generation) continue;
      c.scheduled_ns = never;
      const std::lock_guard<std::mutex> lock(c.mutex);
      on_timer(c, monotonic_ns() + coalescing_ns_);
      settle(c);
    }
  }

  void arm_timer() {
    while (!timers_.empty() &&
           timers_.front().generation != timers_.front().target->timer_generation) {
      std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
      timers_.pop_back();
    }
    const std::int64_t due = timers_.empty() ? 0 : timers_.front().due_ns;
    if (due == armed_ns_) return;
    itimerspec spec{};
    // A zero it_value disarms; a due time already past fires at once.
    const std::int64_t at = timers_.empty() ? 0 : std::max<std::int64_t>(due, 1);
    spec.it_value.tv_sec = static_cast<time_t>(at / ns_per_s);
    spec.it_value.tv_nsec = static_cast<long>(at % ns_per_s);
    timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
    armed_ns_ = due;
  }

  // After any event for a call: push its next due time, or free its buffers once it is over.
  void settle(call& c) {
    if (c.report.phase == call_phase::ended) {
      c.parser.reset();
      std::vector<std::uint8_t>().swap(c.output);
      c.tone.reset();
      return;
    }
    const std::int64_t due = next_due(c);
    // Reads and writes rarely move the due time; only a change costs a heap push.
    if (due == c.scheduled_ns) return;
    ++c.timer_generation;
    c.scheduled_ns = due;
    if (due == never) return;
    timers_.push_back(timer_entry{due, &c, c.timer_generation});
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
  }

  static std::int64_t max_time_due(const call& c) {
    if (c.spec.max_time.count() <= 0 || c.report.phase == call_phase::waiting) return never;
    return c.report.connecting_ns + c.spec.max_time.count();
  }

  static std::int64_t audio_due(const call& c) {
    if (c.source_exhausted) return never;
    const auto limit = c.spec.duration.count();
    const auto offset = static_cast<std::int64_t>(c.next_slot + 1) * frame_period_ns;
    if (limit > 0 && offset > limit) return never;
    return c.report.connected_ns + offset;
  }

  static std::int64_t dtmf_due(const call& c) {
    if (c.next_dtmf >= c.spec.dtmf.size()) return never;
    return c.report.connected_ns + c.spec.dtmf[c.next_dtmf].at.count();
  }

  static std::int64_t hangup_due(const call& c) {
    if (c.spec.end != end_mode::after_duration || c.spec.duration.count() <= 0) return never;
    return c.report.connected_ns + c.spec.duration.count();
  }

  static std::int64_t next_due(const call& c) {
    switch (c.report.phase) {
      case call_phase::waiting:
        return c.start_at_ns;
      case call_phase::connecting:
        return std::min(c.connect_deadline_ns, max_time_due(c));
      case call_phase::connected:
        return std::min({audio_due(c), dtmf_due(c), hangup_due(c), max_time_due(c)});
      case call_phase::ended:
        break;
    }
    return never;
  }

  // horizon: now plus the coalescing window; everything due by then is done now.
  void on_timer(call& c, std::int64_t horizon) {
    if (c.report.phase == call_phase::waiting) {
      if (c.start_at_ns <= horizon) begin_connect(c, monotonic_ns());
      return;
    }
    if (max_time_due(c) <= horizon) {
      end(c, call_end::max_time);
      return;
    }
    if (c.report.phase == call_phase::connecting) {
      if (c.connect_deadline_ns <= horizon) end(c, call_end::connect_failed, ETIMEDOUT);
      return;
    }
    for (;;) {
      const auto audio = audio_due(c);
      const auto dtmf = dtmf_due(c);
      if (std::min(audio, dtmf) > horizon) break;
      if (audio <= dtmf) {
        send_audio(c);
      } else {
        send_dtmf(c);
      }
      if (c.report.phase == call_phase::ended) return;
    }
    if (c.spec.end == end_mode::after_duration &&
        (hangup_due(c) <= horizon || (c.spec.duration.count() <= 0 && c.source_exhausted))) {
      end(c, call_end::caller_hangup);
    }
  }

  void begin_connect(call& c, std::int64_t now) {
    c.report.phase = call_phase::connecting;
    c.report.connecting_ns = now;
    c.connect_deadline_ns = now + c.spec.connect_timeout.count();
    c.fd = ::socket(c.peer.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      end(c, call_end::connect_failed, errno);
      return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, c.fd, &ev) != 0) {
      end(c, call_end::connect_failed, errno);
      return;
    }
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&c.peer.storage), c.peer.length) == 0) {
      on_connected(c, monotonic_ns());
    } else if (errno != EINPROGRESS) {
      end(c, call_end::connect_failed, errno);
    }
  }

  void on_connected(call& c, std::int64_t now) {
    c.report.phase = call_phase::connected;
    c.report.connected_ns = now;
    set_write_interest(c, false);
    c.parser.emplace();
    const std::size_t frame_bytes = as::header_size + c.frame_samples * 2;
    c.output.reserve(output_frames * frame_bytes + output_slack);
    if (const auto* tone = std::get_if<tone_source>(&c.spec.source)) {
      c.tone.emplace(tone->frequency_hz, c.rate_hz, tone->level_dbfs);
    } else if (const auto* bursts = std::get_if<tone_bursts_source>(&c.spec.source)) {
      c.tone.emplace(bursts->tone.frequency_hz, c.rate_hz, bursts->tone.level_dbfs);
    }
    const auto planned_ns =
        std::max({c.spec.duration.count(), c.spec.max_time.count(), planned_call_ns});
    const auto planned_frames =
        static_cast<std::size_t>(planned_ns / frame_period_ns) + output_slack;
    c.report.frames.reserve(std::min(planned_frames, c.spec.max_logged_frames));
    if (c.spec.record_pcm) {
      c.report.pcm.reserve(std::min(planned_frames * c.frame_samples, c.spec.max_pcm_samples));
    }
    const auto id_frame = as::uuid_frame(c.id);
    send_bytes(c, id_frame.data(), id_frame.size());
  }

  void set_write_interest(call& c, bool on) {
    epoll_event ev{};
    ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd, &ev);
    c.want_write = on;
  }

  // The next 20 ms of the source into samples_; returns the samples written (short at a clip's
  // end, 0 once the source is over).
  std::size_t produce(call& c) {
    std::int16_t* const out = samples_.data();
    const std::uint64_t frame_index = c.source_frames++;
    if (const auto* bursts = std::get_if<tone_bursts_source>(&c.spec.source)) {
      const std::int64_t cycle = bursts->quiet.count() + bursts->talk.count();
      const auto at = static_cast<std::int64_t>(frame_index) * frame_period_ns % cycle;
      c.speaking = at >= bursts->quiet.count();
      if (c.speaking) {
        c.tone->generate(out, c.frame_samples);
      } else {
        codecs::fill_silence(out, c.frame_samples);
      }
      return c.frame_samples;
    }
    if (c.tone) {
      c.tone->generate(out, c.frame_samples);
      return c.frame_samples;
    }
    const auto* clip = std::get_if<clip_source>(&c.spec.source);
    if (clip == nullptr) {
      codecs::fill_silence(out, c.frame_samples);
      return c.frame_samples;
    }
    const auto& samples = clip->clip->samples;
    if (c.clip_position >= samples.size()) {
      if (clip->after_end == clip_source::then::silence) {
        codecs::fill_silence(out, c.frame_samples);
        return c.frame_samples;
      }
      c.clip_position = 0;
      if (clip->after_end == clip_source::then::stop || samples.empty()) {
        c.source_exhausted = true;
        return 0;
      }
    }
    const std::size_t n = std::min(c.frame_samples, samples.size() - c.clip_position);
    std::copy_n(samples.begin() + static_cast<std::ptrdiff_t>(c.clip_position), n, out);
    c.clip_position += n;
    if (c.clip_position >= samples.size() && clip->after_end == clip_source::then::stop) {
      c.source_exhausted = true;
    }
    return n;
  }

  static bool in_gap(const call& c, std::int64_t offset_ns) {
    return std::any_of(c.spec.gaps.begin(), c.spec.gaps.end(), [offset_ns](const send_gap& g) {
      return offset_ns >= g.start.count() && offset_ns < g.start.count() + g.length.count();
    });
  }

  void send_audio(call& c) {
    const auto offset = static_cast<std::int64_t>(c.next_slot + 1) * frame_period_ns;
    ++c.next_slot;
    if (in_gap(c, offset)) return;
    const std::size_t n = produce(c);
    if (n == 0) return;
    const auto now = monotonic_ns();
    const auto lag = now - (c.report.connected_ns + offset);
    if (lag > c.spec.timing.late_after.count()) ++c.report.late_sends;
    c.report.max_send_lag_ms =
        std::max(c.report.max_send_lag_ms, static_cast<double>(lag) / ns_per_ms);
    if (c.spec.stamp && n >= stamp::samples) {
      stamp::write(samples_.data(), now);
      if (c.speaking && c.report.speech_sent_ns.size() < call_report::max_events) {
        c.report.speech_sent_ns.push_back(now);
      }
    }
    const auto length = static_cast<std::uint16_t>(n * 2);
    // The kind is audio and n > 0, which is all write_header checks.
    static_cast<void>(as::write_header(frame_.data(), c.spec.frame_kind, length));
    codecs::store_s16le(samples_.data(), n, frame_.data() + as::header_size);
    if (send_bytes(c, frame_.data(), as::header_size + length)) {
      ++c.report.audio_frames_sent;
      c.report.audio_bytes_sent += length;
    }
  }

  void send_dtmf(call& c) {
    const char digit = c.spec.dtmf[c.next_dtmf++].digit;
    // Digits were checked by start_call.
    const auto frame = as::dtmf_frame(digit);
    if (frame && send_bytes(c, frame->data(), frame->size())) ++c.report.dtmf_sent;
  }

  // Sends or queues a whole frame; false if it was dropped or the call ended.
  bool send_bytes(call& c, const std::uint8_t* data, std::size_t n) {
    if (c.output_sent < c.output.size()) {
      if (c.output.size() + n > c.output.capacity() && c.output_sent > 0) {
        c.output.erase(c.output.begin(),
                       c.output.begin() + static_cast<std::ptrdiff_t>(c.output_sent));
        c.output_sent = 0;
      }
      if (c.output.size() + n > c.output.capacity()) {
        ++c.report.frames_dropped;
        return false;
      }
      c.output.insert(c.output.end(), data, data + n);
      return true;
    }
    const ssize_t sent = ::send(c.fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == static_cast<ssize_t>(n)) return true;
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(c, errno);
      return false;
    }
    const auto done = static_cast<std::size_t>(std::max<ssize_t>(sent, 0));
    // The buffer is empty here and holds several frames, so the rest of this one always fits.
    c.output.assign(data + done, data + n);
    c.output_sent = 0;
    set_write_interest(c, true);
    return true;
  }

  // Sends what the call holds back; returns the errno of a failed send, 0 otherwise.
  int flush_output(call& c) {
    while (c.output_sent < c.output.size()) {
      const ssize_t sent = ::send(c.fd, c.output.data() + c.output_sent,
                                  c.output.size() - c.output_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
      c.output_sent += static_cast<std::size_t>(sent);
    }
    c.output.clear();
    c.output_sent = 0;
    if (c.want_write) set_write_interest(c, false);
    return 0;
  }

  void fail(call& c, int error) {
    end(c,
        error == ECONNRESET || error == EPIPE ? call_end::connection_reset : call_end::socket_error,
        error);
  }

  void on_io(call& c, std::uint32_t events) {
    if (c.report.phase == call_phase::connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0 || (events & EPOLLOUT) == 0) {
        end(c, call_end::connect_failed, error != 0 ? error : ECONNABORTED);
      } else {
        on_connected(c, monotonic_ns());
      }
      return;
    }
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) on_readable(c);
    if (c.report.phase == call_phase::connected && (events & EPOLLOUT) != 0) {
      if (const int error = flush_output(c)) fail(c, error);
    }
  }

  // One read per wake-up: epoll is level-triggered, so whatever is left wakes us again.
  void on_readable(call& c) {
    iovec data{recv_buffer_.data(), recv_buffer_.size()};
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(timespec))> control{};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t got = ::recvmsg(c.fd, &message, 0);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) fail(c, errno);
      return;
    }
    if (got == 0) {
      c.report.server_closed = true;
      end(c, call_end::server_close);
      return;
    }
    const auto now = arrival_ns(message);
    const auto fed = c.parser->feed(recv_buffer_.data(), static_cast<std::size_t>(got),
                                    [&](const as::frame_view& f) {
                                      if (c.report.phase != call_phase::ended) on_frame(c, f, now);
                                    });
    if (!fed && c.report.phase != call_phase::ended) {
      ++c.report.protocol_violations;
      if (c.report.detail.empty()) {
        c.report.detail = "malformed frame: " + as::to_string(fed.error());
      }
      end(c, call_end::protocol_violation);
    }
  }

  // When the kernel queued the last bytes read (SO_TIMESTAMPNS), on CLOCK_MONOTONIC: a measure of
  // the server's pacing that does not depend on when this thread got to run.
  static std::int64_t arrival_ns(msghdr& message) {
    // The realtime clock is read first: the time between the two reads then makes the arrival
    // look later, never earlier, than it was (an earlier one would precede the sender's stamp).
    timespec realtime{};
    clock_gettime(CLOCK_REALTIME, &realtime);
    const std::int64_t now = monotonic_ns();
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&message, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec kernel{};
      std::memcpy(&kernel, CMSG_DATA(cmsg), sizeof kernel);
      const std::int64_t age =
          (static_cast<std::int64_t>(realtime.tv_sec) - kernel.tv_sec) * ns_per_s +
          (realtime.tv_nsec - kernel.tv_nsec);
      return now - std::clamp<std::int64_t>(age, 0, max_arrival_age_ns);
    }
    return now;
  }

  void on_frame(call& c, const as::frame_view& f, std::int64_t now) {
    ++c.report.frames_received;
    received_frame logged;
    logged.arrival_ns = now;
    logged.length = f.length;
    logged.k = f.k;
    if (as::is_audio(f.k)) on_audio(c, f, now, logged);
    if (c.report.frames.size() < c.spec.max_logged_frames) {
      c.report.frames.push_back(logged);
    } else {
      c.report.frames_truncated = true;
    }
    switch (f.k) {
      case as::kind::hangup:
        // Asterisk hangs the channel up, which closes the socket.
        c.report.server_sent_hangup = true;
        end(c, call_end::server_hangup);
        break;
      case as::kind::uuid:
        violation(c, "server sent 0x01 (call id)");
        break;
      case as::kind::dtmf:
        violation(c, "server sent 0x03 (DTMF)");
        break;
      case as::kind::error:
        violation(c, "server sent 0xff (error)");
        break;
      default:
        break;
    }
  }

  void on_audio(call& c, const as::frame_view& f, std::int64_t now, received_frame& logged) {
    ++c.report.audio_frames_received;
    c.report.audio_bytes_received += f.length;
    c.timing.record(now);
    const std::size_t n = f.length / 2;
    const int rate = as::sample_rate(f.k);
    std::int16_t* const samples = samples_.data();
    codecs::load_s16le(f.payload, n, samples);
    const double level = codecs::level_dbfs(samples, n);
    const double frequency = codecs::estimate_frequency_hz(samples, n, rate);
    logged.level_dbfs = static_cast<float>(level);
    logged.frequency_hz = static_cast<float>(frequency);
    c.received_energy += std::pow(10.0, level / 10.0) * static_cast<double>(n);
    c.received_samples += n;
    c.last_frequency_hz = logged.frequency_hz;
    if (level > c.spec.silence_threshold_dbfs) {
      c.report.heard_ms += static_cast<double>(n) * 1000.0 / rate;
      if (c.report.first_heard_ns == 0) c.report.first_heard_ns = now;
      c.report.last_heard_ns = now;
    }
    if (const auto sent = stamp::read(samples, n)) {
      if (*sent <= now && now - *sent < max_stamp_age_ns) c.downlink.record(now - *sent);
    }
    // Stamps sit at a frame's start, so the last 10 ms are the audio alone.
    const std::size_t tail = n / 2;
    const bool tail_heard =
        tail > 0 && codecs::level_dbfs(samples + n - tail, tail) > c.spec.silence_threshold_dbfs;
    if (tail_heard != c.tail_heard) {
      auto& changes = tail_heard ? c.report.audio_starts_ns : c.report.audio_stops_ns;
      if (changes.size() < call_report::max_events) changes.push_back(now);
    }
    c.tail_heard = tail_heard;
    if (c.spec.record_pcm) {
      auto& pcm = c.report.pcm;
      if (pcm.size() + n <= c.spec.max_pcm_samples) {
        logged.pcm_offset = static_cast<std::uint32_t>(pcm.size());
        pcm.insert(pcm.end(), samples, samples + n);
      } else {
        c.report.pcm_truncated = true;
      }
    }
  }

  void violation(call& c, const char* what) {
    ++c.report.protocol_violations;
    if (c.report.detail.empty()) c.report.detail = what;
    if (c.spec.on_violation == violation_policy::tear_down) end(c, call_end::protocol_violation);
  }

  void end(call& c, call_end reason, int error = 0) {
    if (c.report.phase == call_phase::ended) return;
    c.report.ended_ns = monotonic_ns();
    if (c.fd >= 0) {
      if (reason == call_end::protocol_violation) {
        // Asterisk tears the call down: the server sees a reset.
        const linger abort{1, 0};
        setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      } else if (reason == call_end::caller_hangup || reason == call_end::max_time ||
                 reason == call_end::local_hangup) {
        // Best effort: the call is over whether or not the last bytes go out.
        static_cast<void>(flush_output(c));
      }
      ::close(c.fd);
      c.fd = -1;
    }
    c.report.phase = call_phase::ended;
    if (c.report.end == call_end::none) c.report.end = reason;
    c.report.error_number = c.report.error_number != 0 ? c.report.error_number : error;
    if (error != 0 && c.report.detail.empty()) {
      c.report.detail = std::system_category().message(error);
    }
    ++c.timer_generation;
    c.scheduled_ns = never;
    live_.erase(&c);
    c.ended.store(true);
    notify_ended_();
  }

  const std::int64_t coalescing_ns_;
  const std::int64_t min_wake_ns_;
  const std::function<void()> notify_ended_;
  unique_fd epoll_fd_{epoll_create1(EPOLL_CLOEXEC), "epoll_create1"};
  unique_fd timer_fd_{timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC),
                      "timerfd_create"};
  unique_fd wake_fd_{eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"};
  std::thread thread_;

  std::mutex queue_mutex_;
  std::vector<command> queue_;

  // The worker thread's alone.
  std::vector<command> commands_;
  std::vector<timer_entry> timers_;  // a min-heap on due_ns
  std::int64_t armed_ns_ = 0;
  std::unordered_set<call*> live_;
  std::vector<std::uint8_t> recv_buffer_;
  std::vector<std::int16_t> samples_;
  std::vector<std::uint8_t> frame_;
};

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * ns_per_s + ts.tv_nsec;
}

const char* to_string(start_error e) {
  switch (e) {
    case start_error::not_running:
      return "not_running";
    case start_error::bad_id:
      return "bad_id";
    case start_error::bad_frame_kind:
      return "bad_frame_kind";
    case start_error::bad_source:
      return "bad_source";
    case start_error::bad_dtmf_digit:
      return "bad_dtmf_digit";
    case start_error::never_ends:
      return "never_ends";
    case start_error::bad_address:
      return "bad_address";
  }
  return "unknown_start_error";
}

struct simulator::impl {
  explicit impl(simulator_options o) : options(o) {}

  std::shared_ptr<call> find(call_handle handle) const {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto index = static_cast<std::uint64_t>(handle);
    if (index == 0 || index > calls.size()) return nullptr;
    return calls[index - 1];
  }

  void notify_ended() {
    running.fetch_sub(1);
    const std::lock_guard<std::mutex> lock(ended_mutex);
    ended_cv.notify_all();
  }

  const simulator_options options;

  // Guards started, workers, calls and rng.
  mutable std::mutex mutex;
  bool started = false;
  std::vector<std::unique_ptr<worker>> workers;
  std::vector<std::shared_ptr<call>> calls;  // index = handle - 1
  std::mt19937_64 rng{std::random_device{}()};

  std::atomic<std::size_t> running{0};
  mutable std::mutex ended_mutex;
  mutable std::condition_variable ended_cv;
};

simulator::simulator(simulator_options options) : impl_(std::make_unique<impl>(options)) {}

simulator::~simulator() {
  stop();
}

void simulator::start() {
  const std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->started) return;
  const unsigned count = std::max(1U, impl_->options.threads);
  for (unsigned i = 0; i < count; ++i) {
    impl_->workers.push_back(
        std::make_unique<worker>(impl_->options, [this] { impl_->notify_ended(); }));
  }
  for (auto& w : impl_->workers)
    w->launch();
  impl_->started = true;
}

void simulator::stop() {
  std::vector<std::unique_ptr<worker>> stopping;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->started = false;
    stopping.swap(impl_->workers);
  }
  for (auto& w : stopping)
    w->post(command{command::type::stop, nullptr});
  for (auto& w : stopping)
    w->join();
}

expected<call_handle, start_error> simulator::start_call(call_spec spec) {
  const int rate = as::sample_rate(spec.frame_kind);
  if (!as::is_audio(spec.frame_kind)) return unexpected{start_error::bad_frame_kind};
  if (!source_is_valid(spec.source, rate)) return unexpected{start_error::bad_source};
  if (!std::all_of(spec.dtmf.begin(), spec.dtmf.end(),
                   [](const dtmf_event& e) { return as::is_dtmf_digit(e.digit); })) {
    return unexpected{start_error::bad_dtmf_digit};
  }
  if (spec.end == end_mode::after_duration && spec.max_time.count() <= 0 && !audio_ends(spec)) {
    return unexpected{start_error::never_ends};
  }
  std::stable_sort(spec.dtmf.begin(), spec.dtmf.end(),
                   [](const dtmf_event& a, const dtmf_event& b) { return a.at < b.at; });
  const auto peer = resolve(spec.host, spec.port);
  if (!peer) return unexpected{start_error::bad_address};

  const std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->started) return unexpected{start_error::not_running};
  std::string text = spec.id.empty() ? random_uuid_text(impl_->rng) : spec.id;
  if (spec.ascii_id) text.resize(std::min(text.size(), as::uuid_size));
  const auto id = as::make_call_id(text);
  if (!id) return unexpected{start_error::bad_id};
  const auto handle = static_cast<call_handle>(impl_->calls.size() + 1);
  auto c = std::make_shared<call>(handle, std::move(spec), *peer, *id);
  impl_->calls.push_back(c);
  impl_->running.fetch_add(1);
  const auto index = (impl_->calls.size() - 1) % impl_->workers.size();
  impl_->workers[index]->post(command{command::type::start, c.get()});
  return handle;
}

bool simulator::hangup(call_handle handle) {
  const auto c = impl_->find(handle);
  if (!c || c->ended.load()) return false;
  const std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->started) return false;
  const auto index = (static_cast<std::uint64_t>(handle) - 1) % impl_->workers.size();
  impl_->workers[index]->post(command{command::type::hangup, c.get()});
  return true;
}

std::optional<call_report> simulator::wait(call_handle handle,
                                           std::chrono::nanoseconds timeout) const {
  const auto c = impl_->find(handle);
  if (!c) return std::nullopt;
  {
    std::unique_lock<std::mutex> lock(impl_->ended_mutex);
    if (!impl_->ended_cv.wait_for(lock, timeout, [&] { return c->ended.load(); })) {
      return std::nullopt;
    }
  }
  return report(handle);
}

std::optional<call_report> simulator::report(call_handle handle) const {
  const auto c = impl_->find(handle);
  if (!c) return std::nullopt;
  const std::lock_guard<std::mutex> lock(c->mutex);
  call_report r = c->report;
  r.timing = c->timing.stats();
  r.downlink = to_latency_stats(c->downlink);
  r.heard_hz = dominant_frequency_hz(r, {}, c->spec.silence_threshold_dbfs);
  return r;
}

std::optional<call_status> simulator::status(call_handle handle) const {
  const auto c = impl_->find(handle);
  if (!c) return std::nullopt;
  const std::lock_guard<std::mutex> lock(c->mutex);
  call_status s;
  s.phase = c->report.phase;
  s.end = c->report.end;
  s.audio_frames_sent = c->report.audio_frames_sent;
  s.audio_frames_received = c->report.audio_frames_received;
  s.received_energy = c->received_energy;
  s.received_samples = c->received_samples;
  s.last_frequency_hz = c->last_frequency_hz;
  return s;
}

std::size_t simulator::running() const {
  return impl_->running.load();
}

aggregate_report simulator::aggregate() const {
  std::vector<std::shared_ptr<call>> calls;
  {
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    calls = impl_->calls;
  }
  aggregate_report total;
  duration_histogram deviations;
  duration_histogram downlink;
  for (const auto& c : calls) {
    const std::lock_guard<std::mutex> lock(c->mutex);
    const auto& r = c->report;
    ++total.calls;
    ++total.ends[static_cast<std::size_t>(r.end)];
    total.audio_frames_sent += r.audio_frames_sent;
    total.audio_frames_received += r.audio_frames_received;
    total.frames_dropped += r.frames_dropped;
    total.late_sends += r.late_sends;
    total.max_send_lag_ms = std::max(total.max_send_lag_ms, r.max_send_lag_ms);
    total.protocol_violations += r.protocol_violations;
    const auto timing = c->timing.stats();
    total.late_frames += timing.late_frames;
    total.bursts += timing.bursts;
    total.pauses += timing.pauses;
    deviations.merge(c->timing.deviations());
    downlink.merge(c->downlink);
  }
  total.deviation_p50_ms = static_cast<double>(deviations.percentile_ns(0.5)) / ns_per_ms;
  total.deviation_p99_ms = static_cast<double>(deviations.percentile_ns(0.99)) / ns_per_ms;
  total.deviation_max_ms = static_cast<double>(deviations.max_ns()) / ns_per_ms;
  total.downlink = to_latency_stats(downlink);
  return total;
}

}  // namespace cb::callsim
