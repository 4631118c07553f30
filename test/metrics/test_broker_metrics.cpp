// The instrumented base under a caf::io broker, as the AudioSocket connection uses it: a broker
// forked per accepted connection (loopback, ephemeral port) counts its network messages.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/metrics/actor_metrics.hpp"

namespace m = cb::metrics;

namespace {

constexpr auto timeout = std::chrono::seconds(5);

struct echo_state {
  echo_state() = default;

  static inline const char* name = "metrics_test_echo";
};

using echo_broker = caf::stateful_actor<echo_state, m::instrumented_actor<caf::io::broker>>;

// Echoes 4-byte records, quits when the peer closes.
caf::behavior echo(echo_broker* self, caf::io::connection_handle hdl) {
  self->configure_read(hdl, caf::io::receive_policy::exactly(4));
  return {
      [self](const caf::io::new_data_msg& msg) {
        self->write(msg.handle, msg.buf.size(), msg.buf.data());
        self->flush(msg.handle);
      },
      [self](const caf::io::connection_closed_msg&) { self->quit(); },
  };
}

// Forks an echo broker per connection and tells `sink` about it.
caf::behavior acceptor(caf::io::broker* self, const caf::actor& sink) {
  return {
      [self, sink](const caf::io::new_connection_msg& msg) {
        self->send(sink, self->fork(echo, msg.handle));
      },
  };
}

double kind_value(const std::string& family, const std::string& kind) {
  for (const auto& f : m::registry::process().collect()) {
    if (f.name != family) continue;
    for (const auto& s : f.series) {
      if (s.label_values == std::vector<std::string>{kind}) return s.value;
    }
  }
  return 0;
}

// A blocking loopback client with 5 s receive timeouts.
class client {
 public:
  explicit client(std::uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  ~client() { close(); }

  [[nodiscard]] bool connected() const { return connected_; }
  bool send_all(const std::string& data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  std::string receive(std::size_t n) {
    std::string out;
    std::array<char, 256> buffer{};
    while (out.size() < n) {
      const auto got = ::recv(fd_, buffer.data(), std::min(buffer.size(), n - out.size()), 0);
      if (got <= 0) break;
      out.append(buffer.data(), static_cast<std::size_t>(got));
    }
    return out;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace

TEST_CASE("instrumented actor: an io broker forked per connection counts its messages",
          "[metrics][actors]") {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  const auto messages_before = kind_value("callbridge_actor_messages_total", echo_state::name);
  const auto stopped_before = kind_value("callbridge_actors_stopped_total", echo_state::name);
  std::uint16_t port = 0;
  auto server =
      sys.middleman().spawn_server(acceptor, port, caf::actor_cast<caf::actor>(self.ptr()));
  REQUIRE(server);
  REQUIRE(port != 0);
  client peer(port);
  REQUIRE(peer.connected());
  caf::actor forked;
  self->receive([&forked](const caf::actor& a) { forked = a; }, caf::after(timeout) >> [] {});
  REQUIRE(forked);
  self->monitor(forked);
  REQUIRE(peer.send_all("abcdefghijklmnopqrst"));
  CHECK(peer.receive(20) == "abcdefghijklmnopqrst");
  peer.close();
  bool down = false;
  self->receive([&down](const caf::down_msg&) { down = true; }, caf::after(timeout) >> [] {});
  REQUIRE(down);
  // Five 4-byte records and the close.
  CHECK(kind_value("callbridge_actor_messages_total", echo_state::name) - messages_before == 6);
  CHECK(kind_value("callbridge_actors_stopped_total", echo_state::name) - stopped_before == 1);
  caf::anon_send_exit(*server, caf::exit_reason::user_shutdown);
}
