#include "test/control/api_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

#include "codecs/base64.hpp"

namespace cb::test {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return text;
}

http_answer parse_head(const std::string& head) {
  http_answer answer;
  const auto line_end = head.find("\r\n");
  const auto status_line = head.substr(0, line_end);
  const auto space = status_line.find(' ');
  if (space == std::string::npos) throw std::runtime_error("bad status line: " + status_line);
  answer.status = std::atoi(status_line.c_str() + space + 1);
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    const auto end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    const auto line = head.substr(pos, end - pos);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      answer.headers[lower(line.substr(0, colon))] = value;
    }
    pos = end + 2;
  }
  return answer;
}

}  // namespace

connection::connection(std::uint16_t port, bool tls) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  // A safety net under the poll-based deadlines: no read or write may block for longer.
  timeval limit{static_cast<time_t>(io_timeout.count()), 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect failed");
  }
  if (!tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, "localhost");
  if (SSL_connect(ssl_) != 1) {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
    throw std::runtime_error("TLS handshake failed");
  }
}

connection::~connection() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

void connection::write(std::string_view data) {
  while (!data.empty()) {
    const long n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                                   : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("write failed");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool connection::fill(clock_type::time_point deadline) {
  if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  }
  std::array<char, 16384> chunk{};
  const long n = ssl_ != nullptr ? SSL_read(ssl_, chunk.data(), static_cast<int>(chunk.size()))
                                 : ::recv(fd_, chunk.data(), chunk.size(), 0);
  if (n <= 0) return false;
  buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> connection::read_until(std::string_view delimiter,
                                                  clock_type::time_point deadline) {
  for (;;) {
    const auto at = buffer_.find(delimiter);
    if (at != std::string::npos) {
      auto out = buffer_.substr(0, at + delimiter.size());
      buffer_.erase(0, at + delimiter.size());
      return out;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<std::string> connection::read_exact(std::size_t n, clock_type::time_point deadline) {
  while (buffer_.size() < n) {
    if (!fill(deadline)) return std::nullopt;
  }
  auto out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool connection::wait_closed(clock_type::time_point deadline) {
  while (clock_type::now() < deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 1))) <= 0) return false;
    std::array<char, 4096> chunk{};
    const long n = ssl_ != nullptr ? SSL_read(ssl_, chunk.data(), static_cast<int>(chunk.size()))
                                   : ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n <= 0) return true;
    buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return false;
}

http_answer round_trip(connection& c, std::string_view request) {
  c.write(request);
  const auto deadline = clock_type::now() + io_timeout;
  const auto head = c.read_until("\r\n\r\n", deadline);
  if (!head) throw std::runtime_error("no answer");
  auto answer = parse_head(*head);
  const auto length = answer.headers.find("content-length");
  const auto n = length == answer.headers.end() ? 0 : std::stoul(length->second);
  auto body = c.read_exact(n, deadline);
  if (!body) throw std::runtime_error("short body");
  answer.body = std::move(*body);
  return answer;
}

http_answer http(std::uint16_t port, std::string_view method, std::string_view target,
                 std::string_view body, const headers& extra, bool tls) {
  connection c(port, tls);
  std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
  request += "Host: localhost\r\nConnection: close\r\n";
  bool has_length = false;
  for (const auto& [name, value] : extra) {
    request.append(name).append(": ").append(value).append("\r\n");
    has_length = has_length || lower(name) == "content-length";
  }
  if (!has_length && (!body.empty() || method == "POST")) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;
  return round_trip(c, request);
}

ws_client::ws_client(std::uint16_t port, const headers& extra, bool tls, std::string_view path)
    : conn_(std::make_unique<connection>(port, tls)) {
  std::array<std::uint8_t, 16> nonce{};
  std::random_device random;
  for (auto& b : nonce)
    b = static_cast<std::uint8_t>(random());
  std::string key;
  codecs::base64::append_encoded(key, nonce.data(), nonce.size());
  std::string request = "GET " + std::string(path) + " HTTP/1.1\r\n";
  request += "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  request += "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& [name, value] : extra)
    request.append(name).append(": ").append(value).append("\r\n");
  request += "\r\n";
  conn_->write(request);
  const auto head = conn_->read_until("\r\n\r\n", clock_type::now() + io_timeout);
  status_ = head ? parse_head(*head).status : 0;
}

void ws_client::send_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x80 | opcode);
  const auto n = payload.size();
  if (n < 126) {
    frame += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(n >> 8);
    frame += static_cast<char>(n & 0xff);
  } else {
    frame += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8)
      frame += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff);
  }
  const std::array<char, 4> mask = {'\x12', '\x34', '\x56', '\x78'};
  frame.append(mask.data(), mask.size());
  for (std::size_t i = 0; i < n; ++i)
    frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  conn_->write(frame);
}

void ws_client::send_text(std::string_view text) {
  send_frame(0x1, text);
}

void ws_client::send_binary(std::string_view data) {
  send_frame(0x2, data);
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds timeout) {
  if (close_) return std::nullopt;
  const auto deadline = clock_type::now() + timeout;
  std::string message;
  for (;;) {
    const auto head = conn_->read_exact(2, deadline);
    if (!head) return std::nullopt;
    const auto b0 = static_cast<std::uint8_t>((*head)[0]);
    const auto b1 = static_cast<std::uint8_t>((*head)[1]);
    std::uint64_t n = b1 & 0x7f;
    if (n >= 126) {
      const auto ext = conn_->read_exact(n == 126 ? 2 : 8, deadline);
      if (!ext) return std::nullopt;
      n = 0;
      for (char c : *ext)
        n = (n << 8) | static_cast<std::uint8_t>(c);
    }
    const auto payload = conn_->read_exact(static_cast<std::size_t>(n), deadline);
    if (!payload) return std::nullopt;
    const auto opcode = b0 & 0x0f;
    if (opcode == 0x8) {
      close_frame frame;
      if (payload->size() >= 2) {
        frame.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>((*payload)[0]) << 8) |
                                                static_cast<std::uint8_t>((*payload)[1]));
        frame.reason = payload->substr(2);
      }
      close_ = frame;
      return std::nullopt;
    }
    if (opcode == 0x9) {
      send_frame(0xA, *payload);
      continue;
    }
    message += *payload;
    if ((b0 & 0x80) != 0) {
      received_.push_back(message);
      return message;
    }
  }
}

std::optional<std::string> ws_client::next_containing(std::string_view needle,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (clock_type::now() < deadline) {
    auto message =
        next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()));
    if (!message) return std::nullopt;
    if (message->find(needle) != std::string::npos) return message;
  }
  return std::nullopt;
}

std::optional<ws_client::close_frame> ws_client::wait_close(std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (!close_ && clock_type::now() < deadline) {
    if (!next(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now())) &&
        !close_) {
      return std::nullopt;
    }
  }
  return close_;
}

self_signed_cert::self_signed_cert() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cb-control-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  cert_ = dir_ + "/cert.pem";
  key_ = dir_ + "/key.pem";
  const auto command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout '" +
      key_ + "' -out '" + cert_ + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
}

self_signed_cert::~self_signed_cert() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace cb::test
