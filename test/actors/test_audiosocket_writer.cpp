#include "actors/audiosocket_writer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <vector>

namespace {

using result = cb::audiosocket_writer::result;

// A connected pair of stream sockets: [0] is the bridge's end, [1] plays Asterisk.
struct socket_pair {
  socket_pair() {
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()) == 0);
    const int small = 4096;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  ~socket_pair() {
    for (const int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;

  // Everything readable now on Asterisk's end.
  std::vector<std::uint8_t> drain() const {
    std::vector<std::uint8_t> out;
    std::array<std::uint8_t, 4096> buffer{};
    for (;;) {
      const auto got = ::recv(fds[1], buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got <= 0) break;
      out.insert(out.end(), buffer.begin(), buffer.begin() + got);
    }
    return out;
  }

  std::array<int, 2> fds{-1, -1};
};

std::vector<std::uint8_t> frame(std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(323, fill);
  bytes[0] = 0x10;
  bytes[1] = 0x01;
  bytes[2] = 0x40;
  return bytes;
}

}  // namespace

TEST_CASE("the writer sends whole frames in order on its own descriptor") {
  socket_pair pair;
  auto writer = cb::audiosocket_writer::open(pair.fds[0]);
  REQUIRE(writer != nullptr);
  // The broker's descriptor may close first: the writer's duplicate keeps working.
  ::close(pair.fds[0]);
  pair.fds[0] = -1;
  const auto a = frame(1);
  const auto b = frame(2);
  CHECK(writer->write(a.data(), a.size()) == result::written);
  CHECK(writer->write(b.data(), b.size()) == result::written);
  auto expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  CHECK(pair.drain() == expected);
}

TEST_CASE("a peer that stops reading loses frames, never the framing") {
  socket_pair pair;
  auto writer = cb::audiosocket_writer::open(pair.fds[0]);
  REQUIRE(writer != nullptr);
  std::size_t written = 0;
  std::size_t dropped = 0;
  for (std::uint8_t i = 0; i < 200; ++i) {
    const auto bytes = frame(i);
    const auto r = writer->write(bytes.data(), bytes.size());
    REQUIRE(r != result::closed);
    (r == result::written ? written : dropped) += 1;
  }
  CHECK(dropped > 0);
  CHECK(written > 0);
  // Whatever arrives, once the peer reads again, is a sequence of whole frames.
  std::vector<std::uint8_t> received = pair.drain();
  const auto after = frame(255);
  CHECK(writer->write(after.data(), after.size()) == result::written);
  const auto rest = pair.drain();
  received.insert(received.end(), rest.begin(), rest.end());
  REQUIRE(received.size() % after.size() == 0);
  for (std::size_t at = 0; at < received.size(); at += after.size()) {
    CHECK(received[at] == 0x10);
    CHECK(received[at + 3] == received[at + after.size() - 1]);  // one frame's fill throughout
  }
  CHECK(received.size() / after.size() <= written + 1);
}

TEST_CASE("close ends the stream for the peer and refuses later frames") {
  socket_pair pair;
  auto writer = cb::audiosocket_writer::open(pair.fds[0]);
  REQUIRE(writer != nullptr);
  const std::array<std::uint8_t, 3> hangup{0x00, 0x00, 0x00};
  CHECK(writer->write(hangup.data(), hangup.size()) == result::written);
  writer->close();
  const auto a = frame(1);
  CHECK(writer->write(a.data(), a.size()) == result::closed);
  std::array<std::uint8_t, 8> buffer{};
  CHECK(::recv(pair.fds[1], buffer.data(), buffer.size(), 0) == 3);
  CHECK(::recv(pair.fds[1], buffer.data(), buffer.size(), 0) == 0);  // end of stream
}

TEST_CASE("a peer that went away is reported as closed") {
  socket_pair pair;
  auto writer = cb::audiosocket_writer::open(pair.fds[0]);
  REQUIRE(writer != nullptr);
  ::close(pair.fds[1]);
  pair.fds[1] = -1;
  const auto a = frame(1);
  CHECK(writer->write(a.data(), a.size()) == result::closed);
  CHECK(writer->write(a.data(), a.size()) == result::closed);
}

TEST_CASE("a descriptor that is not open gives no writer") {
  CHECK(cb::audiosocket_writer::open(-1) == nullptr);
}
