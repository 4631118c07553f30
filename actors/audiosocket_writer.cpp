#include "actors/audiosocket_writer.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace cb {

namespace {

// Sends what the socket takes now: the byte count, or -1 with errno set.
ssize_t send_now(int fd, const std::uint8_t* data, std::size_t size) {
  ssize_t sent = 0;
  do {
    sent = ::send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

bool would_block(int error) {
  return error == EAGAIN || error == EWOULDBLOCK;
}

}  // namespace

std::shared_ptr<audiosocket_writer> audiosocket_writer::open(int fd) {
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return nullptr;
  // Each frame leaves when it is due, never held back behind an unacknowledged one (Nagle), as
  // Asterisk does on its end. Not a TCP socket (tests): nothing to set.
  const int on = 1;
  static_cast<void>(::setsockopt(own, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on));
  return std::shared_ptr<audiosocket_writer>(new audiosocket_writer(own));
}

audiosocket_writer::~audiosocket_writer() {
  ::close(fd_);
}

bool audiosocket_writer::flush_tail() {
  const auto sent = send_now(fd_, tail_.data(), tail_.size());
  if (sent < 0) {
    if (!would_block(errno)) closed_ = true;
    return false;
  }
  tail_.erase(tail_.begin(), tail_.begin() + sent);
  return tail_.empty();
}

audiosocket_writer::result audiosocket_writer::write(const std::uint8_t* data, std::size_t size) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return result::closed;
  if (!tail_.empty() && !flush_tail()) return closed_ ? result::closed : result::dropped;
  const auto sent = send_now(fd_, data, size);
  if (sent < 0) {
    if (would_block(errno)) return result::dropped;
    closed_ = true;
    return result::closed;
  }
  const auto done = static_cast<std::size_t>(sent);
  if (done < size) tail_.assign(data + done, data + size);
  return result::written;
}

void audiosocket_writer::close() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  if (!tail_.empty()) flush_tail();  // best effort: a hang-up frame may be its last bytes
  closed_ = true;
  ::shutdown(fd_, SHUT_WR);
}

}  // namespace cb
