#include "test/peers/fake_ami/ami_test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace cb::fake_ami::test {

using steady = std::chrono::steady_clock;

ami_test_client::ami_test_client(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ >= 0 &&
      ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

ami_test_client::~ami_test_client() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::string> ami_test_client::banner(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!banner_ && read_some(deadline)) {
  }
  return banner_;
}

void ami_test_client::send_raw(std::string_view text) {
  while (!text.empty() && fd_ >= 0) {
    const auto n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void ami_test_client::send(const ami::action& request) {
  const auto text = request.serialize();
  if (text) send_raw(*text);
}

bool ami_test_client::read_some(steady::time_point deadline) {
  if (fd_ < 0 || eof_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
  if (left.count() <= 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
  char buffer[16384];
  const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    if (n < 0 && errno == EINTR) return true;
    eof_ = true;
    return false;
  }
  const auto fed = parser_.feed(
      std::string_view(buffer, static_cast<std::size_t>(n)),
      [this](std::string_view version) { banner_ = std::string(version); },
      [this](ami::message&& m) { inbox_.push_back(std::move(m)); });
  return static_cast<bool>(fed);
}

std::optional<ami::message> ami_test_client::next(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (inbox_.empty() && read_some(deadline)) {
  }
  if (inbox_.empty()) return std::nullopt;
  auto m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

std::optional<ami::message> ami_test_client::next_matching(
    const std::function<bool(const ami::message&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    while (!inbox_.empty()) {
      auto m = std::move(inbox_.front());
      inbox_.pop_front();
      if (match(m)) return m;
    }
    if (!read_some(deadline)) return std::nullopt;
  }
}

std::optional<ami::message> ami_test_client::next_event(std::string_view name,
                                                        std::chrono::milliseconds timeout) {
  return next_matching([name](const ami::message& m) { return m.is_event(name); }, timeout);
}

std::optional<ami::message> ami_test_client::response_to(std::string_view action_id,
                                                         std::chrono::milliseconds timeout) {
  return next_matching(
      [action_id](const ami::message& m) {
        return m.type() == ami::message_type::response && m.action_id() == action_id;
      },
      timeout);
}

std::optional<ami::message> ami_test_client::login(std::string_view username,
                                                   std::string_view secret,
                                                   std::string_view action_id) {
  send(ami::login(username, secret, action_id));
  return response_to(action_id, std::chrono::seconds(2));
}

bool ami_test_client::closed_by_server(std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (!eof_ && read_some(deadline)) {
  }
  return eof_;
}

}  // namespace cb::fake_ami::test
