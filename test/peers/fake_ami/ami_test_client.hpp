// A blocking AMI client over a raw loopback socket, reading with protocol/ami's parser: what the
// fake AMI server's tests drive it with.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ami.hpp"

namespace cb::fake_ami::test {

class ami_test_client {
 public:
  explicit ami_test_client(std::uint16_t port);
  ~ami_test_client();
  ami_test_client(const ami_test_client&) = delete;
  ami_test_client& operator=(const ami_test_client&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  // The banner's version, once read.
  [[nodiscard]] std::optional<std::string> banner(std::chrono::milliseconds timeout);

  void send_raw(std::string_view text);
  void send(const ami::action& request);

  // The next message, in arrival order.
  std::optional<ami::message> next(std::chrono::milliseconds timeout);
  // Skips messages until one matches.
  std::optional<ami::message> next_matching(const std::function<bool(const ami::message&)>& match,
                                            std::chrono::milliseconds timeout);
  std::optional<ami::message> next_event(std::string_view name, std::chrono::milliseconds timeout);
  std::optional<ami::message> response_to(std::string_view action_id,
                                          std::chrono::milliseconds timeout);
  // Logs in and returns the response.
  std::optional<ami::message> login(std::string_view username, std::string_view secret,
                                    std::string_view action_id = "login");
  // True once the server closed the connection (pending messages are read first).
  bool closed_by_server(std::chrono::milliseconds timeout);

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  ami::parser parser_;
  std::optional<std::string> banner_;
  std::deque<ami::message> inbox_;
};

}  // namespace cb::fake_ami::test
