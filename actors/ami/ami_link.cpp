#include "actors/ami/ami_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace cb {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::size_t read_chunk = 16384;

struct address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

std::string errno_text(int error) {
  return std::system_category().message(error);
}

// The oldest queued OpenSSL error, and the queue emptied.
std::string ssl_error_text() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

void signal_fd(int fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = ::write(fd, &one, sizeof one);
}

void drain_fd(int fd) {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto got = ::read(fd, &count, sizeof count);
}

std::vector<address> to_addresses(const addrinfo* list) {
  std::vector<address> out;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    address a;
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.length = static_cast<socklen_t>(ai->ai_addrlen);
    out.push_back(a);
  }
  return out;
}

addrinfo stream_hints(int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  return hints;
}

// A host name is looked up on a detached thread of its own: getaddrinfo cannot be interrupted and
// may wait on a dead resolver for as long as it likes, while the link must be able to stop at
// once. The lookup leaves its answer here and signals fd; whichever side lets go last frees it.
struct resolution {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::mutex mutex;
  bool done = false;           // guarded by mutex
  std::vector<address> found;  // guarded by mutex
  std::string error;           // guarded by mutex

  resolution() = default;
  resolution(const resolution&) = delete;
  resolution& operator=(const resolution&) = delete;
  ~resolution() {
    if (fd >= 0) ::close(fd);
  }
};

void resolve(const std::shared_ptr<resolution>& r, const std::string& host, std::uint16_t port) {
  const auto hints = stream_hints(0);
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  std::lock_guard<std::mutex> lock(r->mutex);
  if (rc != 0) {
    r->error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
  } else {
    r->found = to_addresses(list);
    ::freeaddrinfo(list);
    if (r->found.empty()) r->error = "cannot resolve " + host + ": no address";
  }
  r->done = true;
  signal_fd(r->fd);
}

bool is_ip_literal(const std::string& host) {
  in6_addr buffer{};
  return ::inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

}  // namespace

std::string host_port(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

struct ami_link::impl {
  enum class command_kind : std::uint8_t { connect, send, close };
  struct command {
    command_kind what = command_kind::send;
    std::uint64_t generation = 0;
    std::string bytes;
  };

  enum class phase : std::uint8_t { resolving, connecting, handshaking, open };
  struct connection {
    std::uint64_t generation = 0;
    phase at = phase::resolving;
    std::shared_ptr<resolution> lookup;
    std::vector<address> addresses;
    std::size_t next_address = 0;
    std::string connect_error;  // why the last address failed
    int fd = -1;
    SSL* ssl = nullptr;
    bool tls_wants_write = false;  // the TLS step under way waits for the socket to take data
    steady::time_point deadline;   // for the banner
    bool banner = false;
    std::string out;
    ami::parser parser;
  };

  impl(ami_link_options opts, sink on_event_)
      : options(std::move(opts)), on_event(std::move(on_event_)) {}

  ~impl() {
    if (tls_context != nullptr) SSL_CTX_free(tls_context);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  const ami_link_options options;
  const sink on_event;
  int wake_fd = -1;
  std::thread thread;

  std::mutex mutex;
  std::vector<command> commands;  // guarded by mutex
  bool stopping = false;          // guarded by mutex

  // Connection thread only.
  std::unique_ptr<connection> conn;
  SSL_CTX* tls_context = nullptr;

  void post(command c) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      commands.push_back(std::move(c));
    }
    signal_fd(wake_fd);
  }

  void emit(std::uint64_t generation, ami_link_event::kind what, std::string text,
            std::vector<ami::message> messages = {}) {
    ami_link_event event;
    event.generation = generation;
    event.what = what;
    event.text = std::move(text);
    event.messages = std::move(messages);
    on_event(std::move(event));
  }

  void drop() {
    if (!conn) return;
    if (conn->ssl != nullptr) SSL_free(conn->ssl);
    if (conn->fd >= 0) ::close(conn->fd);
    conn.reset();
  }

  void fail(std::string why) {
    const auto generation = conn->generation;
    drop();
    emit(generation, ami_link_event::kind::down, std::move(why));
  }

  // ---- connecting -----------------------------------------------------------------------------

  void start(std::uint64_t generation) {
    drop();
    conn = std::make_unique<connection>();
    conn->generation = generation;
    conn->deadline = steady::now() + options.connect_timeout;
    // A literal address needs no lookup; AI_NUMERICHOST never touches the resolver.
    const auto hints = stream_hints(AI_NUMERICHOST);
    addrinfo* list = nullptr;
    if (::getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &list) ==
        0) {
      conn->addresses = to_addresses(list);
      ::freeaddrinfo(list);
      connect_next();
      return;
    }
    auto lookup = std::make_shared<resolution>();
    if (lookup->fd < 0) {
      fail("cannot look up " + options.host + ": " + errno_text(errno));
      return;
    }
    try {
      std::thread(resolve, lookup, options.host, options.port).detach();
    } catch (const std::system_error& e) {
      fail("cannot look up " + options.host + ": " + e.what());
      return;
    }
    conn->lookup = std::move(lookup);
    conn->at = phase::resolving;
  }

  void on_resolved() {
    drain_fd(conn->lookup->fd);
    std::vector<address> found;
    std::string error;
    {
      std::lock_guard<std::mutex> lock(conn->lookup->mutex);
      if (!conn->lookup->done) return;
      found = conn->lookup->found;
      error = conn->lookup->error;
    }
    conn->lookup = nullptr;
    if (!error.empty()) {
      fail(std::move(error));
      return;
    }
    conn->addresses = std::move(found);
    connect_next();
  }

  // Tries the addresses in turn until one connects or is under way.
  void connect_next() {
    while (conn->next_address < conn->addresses.size()) {
      const auto& a = conn->addresses[conn->next_address++];
      const int fd = ::socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        conn->connect_error = errno_text(errno);
        continue;
      }
      const int on = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) == 0) {
        conn->fd = fd;
        connected();
        return;
      }
      if (errno == EINPROGRESS) {
        conn->fd = fd;
        conn->at = phase::connecting;
        return;
      }
      conn->connect_error = errno_text(errno);
      ::close(fd);
    }
    fail(conn->connect_error.empty() ? std::string("no address to connect to")
                                     : conn->connect_error);
  }

  void on_connect_done() {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
      conn->connect_error = errno_text(error);
      ::close(conn->fd);
      conn->fd = -1;
      connect_next();
      return;
    }
    connected();
  }

  void connected() {
    if (!options.tls) {
      conn->at = phase::open;
      return;
    }
    if (auto why = start_tls()) {
      fail("TLS setup failed: " + *why);
      return;
    }
    conn->at = phase::handshaking;
    handshake();
  }

  std::optional<std::string> make_tls_context() {
    tls_context = SSL_CTX_new(TLS_client_method());
    if (tls_context == nullptr) return ssl_error_text();
    SSL_CTX_set_min_proto_version(tls_context, TLS1_2_VERSION);
    SSL_CTX_set_verify(tls_context, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_mode(tls_context,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_set_default_verify_paths(tls_context) != 1) ERR_clear_error();
    if (!options.ca_file.empty() &&
        SSL_CTX_load_verify_locations(tls_context, options.ca_file.c_str(), nullptr) != 1) {
      SSL_CTX_free(tls_context);
      tls_context = nullptr;
      ERR_clear_error();
      return "cannot load the CA file " + options.ca_file;
    }
    return std::nullopt;
  }

  std::optional<std::string> start_tls() {
    if (tls_context == nullptr) {
      if (auto why = make_tls_context()) return why;
    }
    conn->ssl = SSL_new(tls_context);
    if (conn->ssl == nullptr) return ssl_error_text();
    SSL_set_fd(conn->ssl, conn->fd);
    SSL_set_connect_state(conn->ssl);
    if (is_ip_literal(options.host)) {
      // No SNI for an address (RFC 6066); the certificate must name the address itself.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), options.host.c_str());
    } else {
      SSL_set_tlsext_host_name(conn->ssl, options.host.c_str());
      SSL_set1_host(conn->ssl, options.host.c_str());
    }
    return std::nullopt;
  }

  void handshake() {
    const int rc = SSL_connect(conn->ssl);
    if (rc == 1) {
      conn->tls_wants_write = false;
      conn->at = phase::open;
      return;
    }
    const int error = SSL_get_error(conn->ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      conn->tls_wants_write = error == SSL_ERROR_WANT_WRITE;
      return;
    }
    const long verify = SSL_get_verify_result(conn->ssl);
    const std::string why = verify != X509_V_OK ? std::string("certificate verify failed: ") +
                                                      X509_verify_cert_error_string(verify)
                            : error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
                                ? std::string("the peer closed the connection")
                                : ssl_error_text();
    ERR_clear_error();
    fail("TLS handshake failed: " + why);
  }

  // ---- reading and writing --------------------------------------------------------------------

  // Reads what the socket has; false when the connection failed (and was dropped).
  bool read_available() {
    char buffer[read_chunk];
    std::vector<ami::message> batch;
    std::optional<std::string> failure;
    const auto generation = conn->generation;
    for (;;) {
      std::size_t got = 0;
      if (conn->ssl != nullptr) {
        const int rc = SSL_read(conn->ssl, buffer, static_cast<int>(sizeof buffer));
        if (rc <= 0) {
          const int error = SSL_get_error(conn->ssl, rc);
          if (error == SSL_ERROR_WANT_READ) break;
          if (error == SSL_ERROR_WANT_WRITE) {
            conn->tls_wants_write = true;
            break;
          }
          failure = error == SSL_ERROR_ZERO_RETURN ||
                            (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                        ? std::string("Asterisk closed the connection")
                        : "read failed: " + ssl_error_text();
          break;
        }
        conn->tls_wants_write = false;
        got = static_cast<std::size_t>(rc);
      } else {
        const auto rc = ::recv(conn->fd, buffer, sizeof buffer, 0);
        if (rc == 0) {
          failure = "Asterisk closed the connection";
          break;
        }
        if (rc < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK) {
            failure = "read failed: " + errno_text(errno);
          }
          break;
        }
        got = static_cast<std::size_t>(rc);
      }
      const auto fed = conn->parser.feed(
          std::string_view(buffer, got),
          [&](std::string_view version) {
            conn->banner = true;
            emit(generation, ami_link_event::kind::up, std::string(version));
          },
          [&](ami::message&& m) { batch.push_back(std::move(m)); });
      if (!fed) {
        failure = fed.error().code == ami::parse_error_code::bad_banner
                      ? std::string("not an Asterisk manager (no banner)")
                      : "unreadable manager stream: " + ami::to_string(fed.error());
        break;
      }
    }
    if (!batch.empty()) emit(generation, ami_link_event::kind::messages, {}, std::move(batch));
    if (failure) {
      fail(std::move(*failure));
      return false;
    }
    return true;
  }

  // Writes what the socket takes; false when the connection failed (and was dropped).
  bool write_queued() {
    while (!conn->out.empty()) {
      if (conn->ssl != nullptr) {
        const int size = static_cast<int>(std::min<std::size_t>(conn->out.size(), INT_MAX));
        const int rc = SSL_write(conn->ssl, conn->out.data(), size);
        if (rc <= 0) {
          const int error = SSL_get_error(conn->ssl, rc);
          if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) return true;
          fail("write failed: " + ssl_error_text());
          return false;
        }
        conn->out.erase(0, static_cast<std::size_t>(rc));
      } else {
        const auto rc = ::send(conn->fd, conn->out.data(), conn->out.size(), MSG_NOSIGNAL);
        if (rc < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
          fail("write failed: " + errno_text(errno));
          return false;
        }
        conn->out.erase(0, static_cast<std::size_t>(rc));
      }
    }
    return true;
  }

  void queue(std::string bytes) {
    if (conn->out.size() + bytes.size() > options.max_queued_bytes) {
      fail("Asterisk is not reading: " + std::to_string(conn->out.size()) +
           " bytes are waiting to be written");
      return;
    }
    if (conn->out.empty()) {
      conn->out = std::move(bytes);
    } else {
      conn->out += bytes;
    }
    if (conn->at == phase::open) write_queued();
  }

  // ---- the loop -------------------------------------------------------------------------------

  short wanted_events() const {
    switch (conn->at) {
      case phase::resolving:
        return POLLIN;
      case phase::connecting:
        return POLLOUT;
      case phase::handshaking:
        return conn->tls_wants_write ? POLLOUT : POLLIN;
      case phase::open:
        return static_cast<short>(POLLIN |
                                  (!conn->out.empty() || conn->tls_wants_write ? POLLOUT : 0));
    }
    return POLLIN;
  }

  void service(short revents) {
    switch (conn->at) {
      case phase::resolving:
        on_resolved();
        return;
      case phase::connecting:
        on_connect_done();
        return;
      case phase::handshaking:
        handshake();
        // The banner may have come with the handshake's last flight.
        if (!conn || conn->at != phase::open || !read_available()) return;
        break;
      case phase::open:
        if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 || conn->tls_wants_write) {
          if (!read_available()) return;
        }
        break;
    }
    write_queued();
  }

  // Applies the queued commands; false once the link is stopping.
  bool take_commands() {
    std::vector<command> taken;
    bool stop = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      taken.swap(commands);
      stop = stopping;
    }
    drain_fd(wake_fd);
    for (auto& c : taken) {
      switch (c.what) {
        case command_kind::connect:
          if (!stop) start(c.generation);
          break;
        case command_kind::send:
          if (conn && conn->generation == c.generation) queue(std::move(c.bytes));
          break;
        case command_kind::close:
          if (conn && conn->generation == c.generation) drop();
          break;
      }
    }
    return !stop;
  }

  void run() {
    // A write to a socket Asterisk has reset raises SIGPIPE in the writing thread (OpenSSL writes
    // with plain write()); blocked here, the write fails with EPIPE instead.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

    pollfd fds[2];
    for (;;) {
      nfds_t count = 1;
      fds[0] = {wake_fd, POLLIN, 0};
      int timeout = -1;
      std::uint64_t polled = 0;
      if (conn) {
        polled = conn->generation;
        const int fd = conn->at == phase::resolving ? conn->lookup->fd : conn->fd;
        fds[1] = {fd, wanted_events(), 0};
        count = 2;
        if (!conn->banner) {
          const auto left =
              std::chrono::ceil<std::chrono::milliseconds>(conn->deadline - steady::now());
          timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, INT_MAX));
        }
      }
      if (::poll(fds, count, timeout) < 0 && errno != EINTR) break;
      if (!take_commands()) break;
      if (conn && count == 2 && conn->generation == polled && fds[1].revents != 0) {
        service(fds[1].revents);
      }
      if (conn && !conn->banner && steady::now() >= conn->deadline) {
        const auto limit = std::to_string(options.connect_timeout.count()) + " ms";
        fail(conn->at == phase::open ? "no banner within " + limit : "timed out after " + limit);
      }
    }
    // Last words (a Logoff) go out if the socket takes them now; nobody waits for more.
    if (conn && conn->at == phase::open && conn->banner) {
      write_queued();
      if (conn && conn->ssl != nullptr) SSL_shutdown(conn->ssl);
    }
    drop();
  }
};

ami_link::ami_link(ami_link_options options, sink on_event)
    : impl_(std::make_unique<impl>(std::move(options), std::move(on_event))) {
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wake_fd < 0) throw std::system_error(errno, std::system_category(), "eventfd");
  impl_->thread = std::thread([this] { impl_->run(); });
}

ami_link::~ami_link() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  signal_fd(impl_->wake_fd);
  impl_->thread.join();
}

void ami_link::connect(std::uint64_t generation) {
  impl_->post({impl::command_kind::connect, generation, {}});
}

void ami_link::send(std::uint64_t generation, std::string bytes) {
  impl_->post({impl::command_kind::send, generation, std::move(bytes)});
}

void ami_link::close(std::uint64_t generation) {
  impl_->post({impl::command_kind::close, generation, {}});
}

}  // namespace cb
