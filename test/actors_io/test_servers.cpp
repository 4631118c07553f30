#include "test/actors_io/test_servers.hpp"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace cb::test {

struct ws_test_server::session {
  std::deque<std::string> tx;
  std::string rx;
  std::string big;  // a message being sent in fragments
  std::size_t big_sent = 0;
  std::string http_body;
  std::vector<unsigned char> buf;
};

namespace {

int server_callback(lws* wsi, lws_callback_reasons reason, void* /*user*/, void* in,
                    std::size_t len) {
  auto* server = static_cast<ws_test_server*>(lws_context_user(lws_get_context(wsi)));
  return server->on_event(wsi, static_cast<int>(reason), in, len);
}

int write_from(std::vector<unsigned char>& buf, lws* wsi, const char* data, std::size_t n,
               int flags) {
  if (buf.size() < LWS_PRE + n) buf.resize(LWS_PRE + n);
  std::memcpy(buf.data() + LWS_PRE, data, n);
  return lws_write(wsi, buf.data() + LWS_PRE, n, static_cast<lws_write_protocol>(flags));
}

constexpr std::size_t big_fragments = 4;

}  // namespace

ws_test_server::ws_test_server() {
  static lws_protocols protocols[2] = {};
  protocols[0].name = "test";
  protocols[0].callback = &server_callback;
  lws_context_creation_info info{};
  info.port = 0;
  info.protocols = protocols;
  info.user = this;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) throw std::runtime_error("test server: lws_create_context failed");
  port_ = static_cast<std::uint16_t>(
      lws_get_vhost_listen_port(lws_get_vhost_by_name(context_, "default")));
  thread_ = std::thread([this] { run(); });
}

ws_test_server::~ws_test_server() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_requested_ = true;
  }
  lws_cancel_service(context_);
  thread_.join();
}

void ws_test_server::run() {
  while (!stop_) {
    if (lws_service(context_, 0) < 0) break;
  }
  lws_context_destroy(context_);
  for (auto& entry : sessions_)
    delete entry.second;
  sessions_.clear();
}

bool ws_test_server::wait_for_closes(std::size_t n, std::chrono::seconds limit) {
  std::unique_lock<std::mutex> lock{mtx_};
  return cv_.wait_for(lock, limit, [&] { return closes_.size() >= n; });
}

std::vector<ws_test_server::peer_close> ws_test_server::closes() {
  std::lock_guard<std::mutex> guard{mtx_};
  return closes_;
}

std::vector<std::string> ws_test_server::api_keys_seen() {
  std::lock_guard<std::mutex> guard{mtx_};
  return api_keys_;
}

std::size_t ws_test_server::messages_received() {
  std::lock_guard<std::mutex> guard{mtx_};
  return received_;
}

int ws_test_server::on_event(lws* wsi, int reason, void* in, std::size_t len) {
  auto session_of = [&]() -> session& {
    auto& s = sessions_[wsi];
    if (s == nullptr) s = new session;
    return *s;
  };
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = stop_requested_;
      return 0;
    }
    case LWS_CALLBACK_HTTP: {
      auto& s = session_of();
      std::string key;
      int key_len = lws_hdr_custom_length(wsi, "xi-api-key:", 11);
      if (key_len > 0) {
        key.resize(static_cast<std::size_t>(key_len) + 1);
        lws_hdr_custom_copy(wsi, key.data(), key_len + 1, "xi-api-key:", 11);
        key.resize(static_cast<std::size_t>(key_len));
      }
      {
        std::lock_guard<std::mutex> guard{mtx_};
        api_keys_.push_back(key);
      }
      std::string path = in != nullptr ? static_cast<const char*>(in) : "";
      unsigned int status = HTTP_STATUS_NOT_FOUND;
      s.http_body = "not found";
      if (path == "/signed-url" && key == "sekrit") {
        status = HTTP_STATUS_OK;
        s.http_body = R"({"signed_url":"wss://example.test/v1/convai/conversation?agent_id=a"})";
      } else if (path == "/signed-url") {
        status = HTTP_STATUS_UNAUTHORIZED;
        s.http_body = "unauthorized";
      }
      unsigned char head[LWS_PRE + 512];
      unsigned char* start = head + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = head + sizeof(head) - 1;
      if (lws_add_http_common_headers(wsi, status, "application/json", s.http_body.size(), &p,
                                      end) != 0 ||
          lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
        return 1;
      }
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      auto& s = session_of();
      if (write_from(s.buf, wsi, s.http_body.data(), s.http_body.size(), LWS_WRITE_HTTP_FINAL) <
          static_cast<int>(s.http_body.size())) {
        return 1;
      }
      return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
      session_of();
      return 0;
    case LWS_CALLBACK_RECEIVE: {
      auto& s = session_of();
      s.rx.append(static_cast<const char*>(in), len);
      if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return 0;
      std::string message = std::move(s.rx);
      s.rx.clear();
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ++received_;
      }
      if (message.rfind("big:", 0) == 0) {
        auto n = std::stoul(message.substr(4));
        s.big.resize(n);
        for (std::size_t i = 0; i < n; ++i)
          s.big[i] = static_cast<char>('a' + i % 26);
        s.big_sent = 0;
      } else if (message.rfind("close:", 0) == 0) {
        auto colon = message.find(':', 6);
        auto code = std::stoi(message.substr(6, colon - 6));
        auto reason_text = message.substr(colon + 1);
        lws_close_reason(wsi, static_cast<lws_close_status>(code),
                         reinterpret_cast<unsigned char*>(reason_text.data()), reason_text.size());
        return -1;
      } else if (message == "stall") {
        lws_rx_flow_control(wsi, 0);
        return 0;
      } else if (message.rfind("quiet", 0) == 0) {
        return 0;
      } else {
        s.tx.push_back(std::move(message));
      }
      lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      auto& s = session_of();
      if (!s.big.empty()) {
        auto fragment = (s.big.size() + big_fragments - 1) / big_fragments;
        auto n = std::min(fragment, s.big.size() - s.big_sent);
        bool first = s.big_sent == 0;
        bool last = s.big_sent + n == s.big.size();
        int flags = lws_write_ws_flags(LWS_WRITE_TEXT, first ? 1 : 0, last ? 1 : 0);
        if (write_from(s.buf, wsi, s.big.data() + s.big_sent, n, flags) < static_cast<int>(n)) {
          return -1;
        }
        s.big_sent += n;
        if (last) s.big.clear();
      } else if (!s.tx.empty()) {
        auto& front = s.tx.front();
        if (write_from(s.buf, wsi, front.data(), front.size(), LWS_WRITE_TEXT) <
            static_cast<int>(front.size())) {
          return -1;
        }
        s.tx.pop_front();
      }
      if (!s.big.empty() || !s.tx.empty()) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      peer_close record;
      const auto* bytes = static_cast<const unsigned char*>(in);
      if (len >= 2) {
        record.code = static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
        record.reason.assign(reinterpret_cast<const char*>(bytes) + 2, len - 2);
      }
      {
        std::lock_guard<std::mutex> guard{mtx_};
        closes_.push_back(std::move(record));
      }
      cv_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY: {
      auto it = sessions_.find(wsi);
      if (it != sessions_.end()) {
        delete it->second;
        sessions_.erase(it);
      }
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, static_cast<lws_callback_reasons>(reason), nullptr, in,
                                     len);
  }
}

tls_test_server::tls_test_server(const std::string& cert_file, const std::string& key_file)
    : ssl_ctx_(SSL_CTX_new(TLS_server_method())), listen_fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  if (ssl_ctx_ == nullptr ||
      SSL_CTX_use_certificate_file(ssl_ctx_, cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_use_PrivateKey_file(ssl_ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("tls_test_server: certificate setup failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    throw std::runtime_error("tls_test_server: socket setup failed");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] {
    for (;;) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_) {
        ::close(fd);
        return;
      }
      open_fds_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  });
}

tls_test_server::~tls_test_server() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  for (auto& worker : workers_)
    worker.join();
  ::close(listen_fd_);
  SSL_CTX_free(ssl_ctx_);
}

namespace {

struct client_frame {
  int opcode = 0;
  bool masked = false;
  std::string payload;  // unmasked
};

// The first whole frame in `pending` (RFC 6455 section 5.2), removed from it; nullopt until one
// has arrived.
std::optional<client_frame> take_client_frame(std::string& pending) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(pending[i]); };
  if (pending.size() < 2) return std::nullopt;
  std::size_t length = byte(1) & 0x7fU;
  std::size_t at = 2;
  if (length == 126) {
    if (pending.size() < 4) return std::nullopt;
    length = (std::size_t{byte(2)} << 8U) | byte(3);
    at = 4;
  } else if (length == 127) {
    if (pending.size() < 10) return std::nullopt;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length = (length << 8U) | byte(i);
    at = 10;
  }
  client_frame frame;
  frame.opcode = byte(0) & 0x0f;
  frame.masked = (byte(1) & 0x80U) != 0;
  const std::size_t key_size = frame.masked ? 4 : 0;
  if (pending.size() < at + key_size + length) return std::nullopt;
  frame.payload = pending.substr(at + key_size, length);
  for (std::size_t i = 0; i < length && frame.masked; ++i) {
    frame.payload[i] =
        static_cast<char>(static_cast<unsigned char>(frame.payload[i]) ^ byte(at + i % 4));
  }
  pending.erase(0, at + key_size + length);
  return frame;
}

// An unmasked, final text frame, as servers send.
std::string server_text_frame(const std::string& payload) {
  std::string frame(1, static_cast<char>(0x81));
  const auto size = payload.size();
  if (size < 126) {
    frame += static_cast<char>(size);
  } else if (size <= 0xffff) {
    frame += static_cast<char>(126);
    frame += static_cast<char>(size >> 8U);
    frame += static_cast<char>(size & 0xffU);
  } else {
    frame += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      frame += static_cast<char>((size >> shift) & 0xffU);
  }
  return frame + payload;
}

}  // namespace

void tls_test_server::serve(int fd) {
  SSL* ssl = SSL_new(ssl_ctx_);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      int n = SSL_read(ssl, buf, sizeof(buf));
      if (n <= 0) break;
      head.append(buf, static_cast<std::size_t>(n));
    }
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    constexpr std::string_view key_header = "sec-websocket-key:";
    auto key_at = lower.find(key_header);
    if (key_at != std::string::npos) {
      auto start = head.find_first_not_of(' ', key_at + key_header.size());
      auto key = head.substr(start, head.find("\r\n", start) - start);
      auto source = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 4.2.2
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_len = 0;
      EVP_Digest(source.data(), source.size(), digest, &digest_len, EVP_sha1(), nullptr);
      unsigned char accept[64];
      int accept_len = EVP_EncodeBlock(accept, digest, static_cast<int>(digest_len));
      std::string text = "hello over tls";
      std::string reply =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
          std::string(reinterpret_cast<char*>(accept), static_cast<std::size_t>(accept_len)) +
          "\r\n\r\n";
      reply += static_cast<char>(0x81);  // FIN + text; unmasked, as servers send
      reply += static_cast<char>(text.size());
      reply += text;
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      // Echo the client's text frames, which must be masked, until its close frame, which is
      // acknowledged. Parsed here rather than by lws, so the client's own framing is checked by
      // an independent reader.
      std::string pending;
      bool done = false;
      while (!done) {
        int n = SSL_read(ssl, buf, sizeof(buf));
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        while (auto frame = take_client_frame(pending)) {
          if (!frame->masked || frame->opcode == 0x08) {
            const char close_ack[2] = {static_cast<char>(0x88), 0};
            SSL_write(ssl, close_ack, sizeof(close_ack));
            done = true;
            break;
          }
          if (frame->opcode == 0x01) {
            const auto echo = server_text_frame(frame->payload);
            SSL_write(ssl, echo.data(), static_cast<int>(echo.size()));
          }
        }
      }
    } else {
      std::string body = R"({"signed_url":"wss://example.test/tls"})";
      std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  std::lock_guard<std::mutex> guard{mtx_};
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  ::close(fd);
}

raw_tcp_server::raw_tcp_server(std::string reply, bool listen_only)
    : listen_fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
      ::pipe(wake_) != 0) {
    throw std::runtime_error("raw_tcp_server: socket setup failed");
  }
  port_ = ntohs(addr.sin_port);
  if (listen_only) return;
  thread_ = std::thread([this, reply = std::move(reply)] {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN) != 0) return;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    std::string head;
    char chunk[1024];
    while (head.find("\r\n\r\n") == std::string::npos) {
      auto n = ::read(fd, chunk, sizeof(chunk));
      if (n <= 0) break;
      head.append(chunk, static_cast<std::size_t>(n));
    }
    if (!reply.empty()) {
      auto written = ::write(fd, reply.data(), reply.size());
      static_cast<void>(written);
    }
    pollfd wake{wake_[0], POLLIN, 0};
    ::poll(&wake, 1, -1);
    ::close(fd);
  });
}

raw_tcp_server::~raw_tcp_server() {
  auto written = ::write(wake_[1], "x", 1);
  static_cast<void>(written);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    throw std::runtime_error("closed_port: socket setup failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::pair<std::string, std::string> make_self_signed_localhost(const std::string& dir) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) throw std::runtime_error("openssl: allocation failed");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
      {NID_basic_constraints, "critical,CA:TRUE"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) throw std::runtime_error("openssl: extension failed");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("openssl: sign failed");
  std::string cert_path = dir + "/cert.pem";
  std::string key_path = dir + "/key.pem";
  FILE* cert_out = std::fopen(cert_path.c_str(), "w");
  FILE* key_out = std::fopen(key_path.c_str(), "w");
  bool ok = cert_out != nullptr && key_out != nullptr && PEM_write_X509(cert_out, cert) == 1 &&
            PEM_write_PrivateKey(key_out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  if (cert_out != nullptr) std::fclose(cert_out);
  if (key_out != nullptr) std::fclose(key_out);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("openssl: writing the certificate failed");
  return {cert_path, key_path};
}

}  // namespace cb::test
