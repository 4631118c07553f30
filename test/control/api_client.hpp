// A small blocking client for the control API tests, on plain sockets (or OpenSSL, for the TLS
// mode): HTTP/1.1 requests with Content-Length bodies, and a WebSocket client (masked frames out,
// text, ping and close frames in). Every read waits at most until a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;

namespace cb::test {

using headers = std::vector<std::pair<std::string, std::string>>;
using clock_type = std::chrono::steady_clock;

inline constexpr std::chrono::seconds io_timeout{5};

// One TCP connection to 127.0.0.1, optionally TLS (any certificate accepted).
class connection {
 public:
  connection(std::uint16_t port, bool tls);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void write(std::string_view data);
  // Bytes up to and including `delimiter`; nullopt on timeout or end of stream.
  std::optional<std::string> read_until(std::string_view delimiter,
                                        clock_type::time_point deadline);
  std::optional<std::string> read_exact(std::size_t n, clock_type::time_point deadline);
  // True once the peer closed the connection (before the deadline).
  bool wait_closed(clock_type::time_point deadline);

 private:
  // Appends what arrives next to buffer_; false on timeout or end of stream.
  bool fill(clock_type::time_point deadline);

  int fd_ = -1;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string buffer_;
};

struct http_answer {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// One request on a fresh connection ("Connection: close"). Throws std::runtime_error when no
// complete answer arrives in time.
http_answer http(std::uint16_t port, std::string_view method, std::string_view target,
                 std::string_view body = {}, const headers& extra = {}, bool tls = false);

// Sends `request` (raw) and reads one answer on the same connection.
http_answer round_trip(connection& c, std::string_view request);

class ws_client {
 public:
  struct close_frame {
    std::uint16_t code = 0;
    std::string reason;
  };

  // Performs the upgrade; handshake_status() is 101 on success.
  ws_client(std::uint16_t port, const headers& extra = {}, bool tls = false,
            std::string_view path = "/ws");

  [[nodiscard]] int handshake_status() const { return status_; }
  void send_text(std::string_view text);
  void send_binary(std::string_view data);
  // The next text message; nullopt on timeout or once the server closed (see closed()).
  std::optional<std::string> next(std::chrono::milliseconds timeout = io_timeout);
  // The next text message containing `needle`, skipping others.
  std::optional<std::string> next_containing(std::string_view needle,
                                             std::chrono::milliseconds timeout = io_timeout);
  // Waits for the server's close frame.
  std::optional<close_frame> wait_close(std::chrono::milliseconds timeout = io_timeout);
  [[nodiscard]] const std::optional<close_frame>& closed() const { return close_; }
  // Every text message received so far.
  [[nodiscard]] const std::vector<std::string>& received() const { return received_; }

 private:
  void send_frame(std::uint8_t opcode, std::string_view payload);

  std::unique_ptr<connection> conn_;
  int status_ = 0;
  std::optional<close_frame> close_;
  std::vector<std::string> received_;
};

// A self-signed certificate and key for localhost (openssl CLI) in a fresh temporary directory,
// removed again by the destructor.
class self_signed_cert {
 public:
  self_signed_cert();
  ~self_signed_cert();
  self_signed_cert(const self_signed_cert&) = delete;
  self_signed_cert& operator=(const self_signed_cert&) = delete;

  [[nodiscard]] const std::string& cert() const { return cert_; }
  [[nodiscard]] const std::string& key() const { return key_; }

 private:
  std::string dir_;
  std::string cert_;
  std::string key_;
};

}  // namespace cb::test
