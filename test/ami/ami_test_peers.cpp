#include "test/ami/ami_test_peers.hpp"

#include <filesystem>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

#include "protocol/ami.hpp"

namespace cb::test {

namespace {

// Listens on 127.0.0.1 at an ephemeral port; returns {fd, port}.
std::pair<int, std::uint16_t> listen_loopback() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), length) != 0 ||
      ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    throw std::runtime_error("listen_loopback: socket setup failed");
  }
  return {fd, ntohs(addr.sin_port)};
}

void make_wake_pipe(int (&fds)[2]) {
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
}

void stop_thread(int (&wake)[2], std::thread& thread) {
  const char byte = 1;
  [[maybe_unused]] const auto written = ::write(wake[1], &byte, 1);
  if (thread.joinable()) thread.join();
  ::close(wake[0]);
  ::close(wake[1]);
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

// ---- mute_manager ---------------------------------------------------------------------------

mute_manager::mute_manager(bool answer_login) : answer_login_(answer_login) {
  std::tie(listen_fd_, port_) = listen_loopback();
  make_wake_pipe(wake_);
  thread_ = std::thread([this] { run(); });
}

mute_manager::~mute_manager() {
  stop_thread(wake_, thread_);
  ::close(listen_fd_);
}

void mute_manager::run() {
  struct client {
    int fd;
    ami::parser parser{ami::parser_options{false}};
  };
  std::vector<client> clients;
  for (;;) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& c : clients)
      fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 || fds[0].revents != 0) break;
    if (fds[1].revents != 0) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        clients.push_back({fd});
        if (answer_login_) write_all(fd, "Asterisk Call Manager/11.0.0\r\n");
      }
    }
    for (std::size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto& c = clients[i - 2];
      char buffer[4096];
      const auto n = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      if (!answer_login_) continue;
      const auto fed = c.parser.feed(
          std::string_view(buffer, static_cast<std::size_t>(n)), [](std::string_view) {},
          [&](ami::message&& m) {
            const auto action = m.get("Action").value_or("");
            const auto id = std::string(m.action_id().value_or(""));
            if (ami::iequals(action, "Login")) {
              ++logins_;
              write_all(c.fd, "Response: Success\r\nActionID: " + id +
                                  "\r\nMessage: Authentication accepted\r\n\r\n");
            } else if (ami::iequals(action, "CoreShowChannels")) {
              std::string list = "Response: Success\r\nActionID: " + id;
              list += "\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n";
              list += "Event: CoreShowChannelsComplete\r\nActionID: " + id;
              list += "\r\nEventList: Complete\r\nListItems: 0\r\n\r\n";
              write_all(c.fd, list);
            }
          });
      if (!fed) {
        ::close(c.fd);
        c.fd = -1;
      }
    }
    std::vector<client> open;
    for (auto& c : clients) {
      if (c.fd >= 0) open.push_back(std::move(c));
    }
    clients = std::move(open);
  }
  for (const auto& c : clients)
    ::close(c.fd);
}

// ---- tls_relay ------------------------------------------------------------------------------

tls_relay::tls_relay(std::uint16_t target_port, std::string cert_file)
    : target_port_(target_port), cert_file_(std::move(cert_file)) {
  // The certificate goes where the test's client will look for its CA; the key stays beside it.
  const auto dir = std::filesystem::path(cert_file_).parent_path().string();
  const auto [cert_path, key_path] = make_self_signed_localhost(dir.empty() ? "." : dir);
  if (cert_path != cert_file_) std::filesystem::rename(cert_path, cert_file_);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  const bool ready = ctx != nullptr &&
                     SSL_CTX_use_certificate_file(ctx, cert_file_.c_str(), SSL_FILETYPE_PEM) == 1 &&
                     SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) == 1;
  if (!ready) {
    SSL_CTX_free(ctx);
    throw std::runtime_error("tls_relay: certificate setup failed");
  }
  ssl_ctx_ = ctx;
  std::tie(listen_fd_, port_) = listen_loopback();
  make_wake_pipe(wake_);
  thread_ = std::thread([this] { run(); });
}

tls_relay::~tls_relay() {
  stop_thread(wake_, thread_);
  ::close(listen_fd_);
  SSL_CTX_free(ssl_ctx_);
}

void tls_relay::run() {
  // A client that gave up mid-write must not kill the process with SIGPIPE (OpenSSL uses write()).
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  for (;;) {
    pollfd fds[2] = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 || fds[0].revents != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    relay(fd);
    ::close(fd);
    char byte = 0;
    if (::read(wake_[0], &byte, 1) == 1) return;  // stopped while relaying
  }
}

// Blocking sockets with a receive timeout keep the handshake bounded; after it, poll decides.
void tls_relay::relay(int client_fd) {
  timeval limit{2, 0};
  ::setsockopt(client_fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  SSL* ssl = SSL_new(ssl_ctx_);
  SSL_set_fd(ssl, client_fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  ++handshakes_;
  const int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(target_port_);
  if (target >= 0 && ::connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    char buffer[16384];
    for (bool open = true; open;) {
      pollfd fds[3] = {{wake_[0], POLLIN, 0}, {client_fd, POLLIN, 0}, {target, POLLIN, 0}};
      if (SSL_pending(ssl) == 0 && ::poll(fds, 3, -1) < 0) break;
      if (fds[0].revents != 0) break;
      if (SSL_pending(ssl) > 0 || fds[1].revents != 0) {
        const int n = SSL_read(ssl, buffer, sizeof buffer);
        open = n > 0 && write_all(target, std::string_view(buffer, static_cast<std::size_t>(n)));
      }
      if (open && fds[2].revents != 0) {
        const auto n = ::recv(target, buffer, sizeof buffer, 0);
        open = n > 0 && SSL_write(ssl, buffer, static_cast<int>(n)) == static_cast<int>(n);
      }
    }
  }
  if (target >= 0) ::close(target);
  ERR_clear_error();
  SSL_free(ssl);
}

}  // namespace cb::test
