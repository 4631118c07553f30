// AUDIOSOCKET WRITER: the downlink end of one AudioSocket connection. The playout writes each
// 20 ms frame straight to the call's socket from its own thread, one non-blocking send(), instead
// of handing it to the connection broker: through CAF's multiplexer a frame cost a pipe wake-up,
// two epoll_ctl calls and an extra epoll_wait besides the send (seven system calls per frame, a
// quarter of the server's time at a few hundred calls).
//
// The writer owns a duplicate of the broker's descriptor, so the number can never be reused for
// another connection while a frame is on its way; close() ends the writing side for good and sends
// the FIN when the broker closes the connection. Thread-safe: the playout and the broker (hang-up
// frame) both write, whole frames never interleave.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace cb {

class audiosocket_writer {
 public:
  enum class result : std::uint8_t {
    written,  // all of it sent, or the tail kept to go first next time
    dropped,  // Asterisk is not reading and its socket buffer is full: the frame is skipped
    closed,   // the connection is gone or closing
  };

  // Duplicates fd; nullptr when the process is out of descriptors.
  static std::shared_ptr<audiosocket_writer> open(int fd);

  ~audiosocket_writer();
  audiosocket_writer(const audiosocket_writer&) = delete;
  audiosocket_writer& operator=(const audiosocket_writer&) = delete;
  audiosocket_writer(audiosocket_writer&&) = delete;
  audiosocket_writer& operator=(audiosocket_writer&&) = delete;

  // Sends one complete frame. Real-time audio is never queued behind a stalled peer: when the
  // socket takes none of it, the frame is dropped; when it takes part, the rest goes first on the
  // next write so the framing stays intact.
  result write(const std::uint8_t* data, std::size_t size);

  // No more writes; the peer sees the end of the stream.
  void close();

 private:
  explicit audiosocket_writer(int fd) : fd_(fd) {}
  bool flush_tail();

  std::mutex mutex_;
  int fd_;
  bool closed_ = false;
  std::vector<std::uint8_t> tail_;  // the unsent end of a partly sent frame
};

using audiosocket_writer_ptr = std::shared_ptr<audiosocket_writer>;

}  // namespace cb

// Handed from the connection to its call inside the process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::audiosocket_writer_ptr)
