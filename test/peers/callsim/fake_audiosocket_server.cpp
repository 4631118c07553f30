#include "fake_audiosocket_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>

#include "apps/callsim/audio_stamp.hpp"
#include "apps/callsim/callsim.hpp"
#include "codecs/pcm.hpp"
#include "codecs/tone.hpp"

namespace cb::callsim::testing {

namespace {

namespace as = cb::audiosocket;

constexpr std::int64_t frame_ns = 20'000'000;
constexpr std::int64_t ns_per_s = 1'000'000'000;

void send_all(int fd, const std::uint8_t* data, std::size_t n) {
  while (n > 0) {
    const ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0) return;
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
}

// Plays behaviour.play one 20 ms frame at a time.
class player {
 public:
  explicit player(const std::vector<tone_segment>& segments) : segments_(segments) { start(); }

  [[nodiscard]] bool done() const { return segment_ >= segments_.size(); }

  // The next frame, header included.
  std::vector<std::uint8_t> next_frame() {
    const auto& s = segments_[segment_];
    const auto n = static_cast<std::size_t>(as::sample_rate(s.kind) / 50);
    std::vector<std::int16_t> samples(n);
    tone_->generate(samples.data(), n);
    if (s.stamp) stamp::write(samples.data(), monotonic_ns());
    std::vector<std::uint8_t> frame(as::header_size + 2 * n);
    static_cast<void>(as::write_header(frame.data(), s.kind, static_cast<std::uint16_t>(2 * n)));
    codecs::store_s16le(samples.data(), n, frame.data() + as::header_size);
    if (++played_ == s.frames) {
      ++segment_;
      played_ = 0;
      start();
    }
    return frame;
  }

 private:
  void start() {
    if (done()) return;
    const auto& s = segments_[segment_];
    tone_.emplace(s.frequency_hz, as::sample_rate(s.kind));
  }

  const std::vector<tone_segment>& segments_;
  std::size_t segment_ = 0;
  int played_ = 0;
  std::optional<codecs::tone_generator> tone_;
};

}  // namespace

std::optional<as::call_id> connection_log::id() const {
  if (frames.empty() || frames.front().k != as::kind::uuid) return std::nullopt;
  return as::parse_call_id(frames.front().payload.data(), frames.front().payload.size());
}

std::vector<const server_frame*> connection_log::audio() const {
  std::vector<const server_frame*> out;
  for (const auto& f : frames) {
    if (as::is_audio(f.k)) out.push_back(&f);
  }
  return out;
}

std::vector<std::int16_t> connection_log::samples() const {
  std::vector<std::int16_t> out;
  for (const auto* f : audio()) {
    const auto n = f->payload.size() / 2;
    const auto at = out.size();
    out.resize(at + n);
    codecs::load_s16le(f->payload.data(), n, out.data() + at);
  }
  return out;
}

fake_audiosocket_server::fake_audiosocket_server(server_behaviour behaviour)
    : behaviour_(std::move(behaviour)),
      listen_fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)),
      stop_fd_(::eventfd(0, EFD_CLOEXEC)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (listen_fd_ < 0 || stop_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 256) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    throw std::runtime_error("fake_audiosocket_server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

fake_audiosocket_server::~fake_audiosocket_server() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(stop_fd_, &one, sizeof one);
  acceptor_.join();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : sessions_)
    t.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
}

std::vector<connection_log> fake_audiosocket_server::wait_for(std::size_t n,
                                                              std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!done_cv_.wait_for(lock, timeout, [&] { return done_.size() >= n; })) return {};
  return {done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void fake_audiosocket_server::accept_loop() {
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{listen_fd_, POLLIN, 0}, pollfd{stop_fd_, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.push_back(fd);
    sessions_.emplace_back([this, fd] { serve(fd); });
  }
}

void fake_audiosocket_server::serve(int fd) {
  connection_log log;
  log.accepted_ns = monotonic_ns();
  as::parser parser;
  player play(behaviour_.play);
  bool playing = !play.done();
  bool answered_first_audio = false;
  std::int64_t next_frame_ns = log.accepted_ns + frame_ns;
  std::vector<std::uint8_t> buffer(65536);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    timespec wait{};
    if (playing) {
      const auto left = std::max<std::int64_t>(0, next_frame_ns - monotonic_ns());
      wait.tv_sec = static_cast<time_t>(left / ns_per_s);
      wait.tv_nsec = static_cast<long>(left % ns_per_s);
    }
    if (::ppoll(&p, 1, playing ? &wait : nullptr, nullptr) < 0 && errno != EINTR) break;
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (got == 0) {
        log.eof = true;
        break;
      }
      if (got < 0) {
        log.reset = errno == ECONNRESET;
        break;
      }
      const auto now = monotonic_ns();
      bool audio_arrived = false;
      const auto fed =
          parser.feed(buffer.data(), static_cast<std::size_t>(got), [&](const as::frame_view& f) {
            log.frames.push_back(
                server_frame{f.k, std::vector<std::uint8_t>(f.payload, f.payload + f.length), now});
            audio_arrived = audio_arrived || as::is_audio(f.k);
          });
      if (!fed) break;
      if (audio_arrived && !answered_first_audio) {
        answered_first_audio = true;
        send_all(fd, behaviour_.after_first_audio.data(), behaviour_.after_first_audio.size());
      }
    }
    if (playing && monotonic_ns() >= next_frame_ns) {
      const auto frame = play.next_frame();
      send_all(fd, frame.data(), frame.size());
      next_frame_ns += frame_ns;
      if (play.done()) {
        playing = false;
        if (behaviour_.after_play == server_behaviour::then::send_hangup) {
          const auto hangup = as::hangup_frame();
          send_all(fd, hangup.data(), hangup.size());
        } else if (behaviour_.after_play == server_behaviour::then::close) {
          break;
        }
      }
    }
  }
  log.closed_ns = monotonic_ns();
  const std::lock_guard<std::mutex> lock(mutex_);
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  ::close(fd);
  done_.push_back(std::move(log));
  done_cv_.notify_all();
}

}  // namespace cb::callsim::testing
