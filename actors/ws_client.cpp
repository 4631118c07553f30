#include "actors/ws_client.hpp"

#include <libwebsockets.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <caf/send.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "actors/lws_service_thread.hpp"
#include "actors/metrics/service_metrics.hpp"
#include "protocol/websocket_frame.hpp"

namespace cb {

namespace {

// ws_client contexts alive in the process; which of them does lws's OpenSSL global init depends
// on it (see ws_client::start).
std::mutex live_contexts_mtx;
int live_contexts = 0;

constexpr char protocol_name[] = "cb-ws-client";
constexpr std::size_t max_close_reason_bytes = 123;  // RFC 6455: 125-byte payload minus the code
constexpr std::size_t http_read_chunk = 4096;

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool has_control_or_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

expected<std::uint16_t, std::string> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return unexpected{std::string{"invalid port"}};
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return unexpected{std::string{"invalid port"}};
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return unexpected{std::string{"invalid port"}};
  return static_cast<std::uint16_t>(value);
}

}  // namespace

expected<parsed_url, std::string> parse_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return unexpected{std::string{"missing scheme"}};
  auto scheme = lowercase(url.substr(0, scheme_end));
  parsed_url out;
  if (scheme == "ws" || scheme == "http") {
    out.port = 80;
  } else if (scheme == "wss" || scheme == "https") {
    out.tls = true;
    out.port = 443;
  } else {
    return unexpected{"unsupported scheme '" + scheme + "'"};
  }
  auto rest = url.substr(scheme_end + 3);
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return unexpected{std::string{"user-info in URLs is not supported"}};
  }
  std::string_view host;
  std::string_view port_text;
  bool explicit_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto bracket = authority.find(']');
    if (bracket == std::string_view::npos) {
      return unexpected{std::string{"unterminated IPv6 literal"}};
    }
    host = authority.substr(1, bracket - 1);
    auto after = authority.substr(bracket + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected{std::string{"junk after IPv6 literal"}};
      port_text = after.substr(1);
      explicit_port = true;
    }
    if (host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return unexpected{std::string{"invalid IPv6 literal"}};
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      explicit_port = true;
    }
    if (host.find_first_of("[]") != std::string_view::npos) {
      return unexpected{std::string{"invalid host"}};
    }
  }
  if (host.empty()) return unexpected{std::string{"empty host"}};
  if (has_control_or_space(host)) return unexpected{std::string{"invalid host"}};
  if (explicit_port) {
    auto port = parse_port(port_text);
    if (!port) return unexpected{port.error()};
    out.port = *port;
  }
  out.host = std::string(host);
  tail = tail.substr(0, tail.find('#'));
  if (has_control_or_space(tail)) return unexpected{std::string{"invalid character in path"}};
  if (tail.empty() || tail.front() == '?') out.path_and_query = "/";
  out.path_and_query += tail;
  return out;
}

std::string websocket_url_from_base(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/')
    base_url.remove_suffix(1);
  auto scheme_end = base_url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(base_url);
  auto scheme = lowercase(base_url.substr(0, scheme_end));
  std::string out;
  if (scheme == "https") {
    out = "wss";
  } else if (scheme == "http") {
    out = "ws";
  } else {
    out = std::string(base_url.substr(0, scheme_end));
  }
  out += base_url.substr(scheme_end);
  return out;
}

struct ws_client::impl {
  enum class kind : std::uint8_t { websocket, http };
  enum class op : std::uint8_t { connect, http_get, send, close, stop };

  struct command {
    op what = op::send;
    std::uint64_t id = 0;
    std::string text;     // message to send, or close reason
    bool stream = false;  // a real-time message: droppable when too late
    std::uint16_t code = 0;
    parsed_url url;
    http_headers headers;
    caf::actor owner;
  };

  // Standard layout with the sul first, so the sul pointer lws hands back converts to it.
  struct deadline_timer {
    lws_sorted_usec_list_t sul;
    impl* self;
    std::uint64_t id;
  };

  struct connection {
    std::uint64_t id = 0;
    kind type = kind::websocket;
    caf::actor owner;
    lws* wsi = nullptr;
    parsed_url url;
    std::string host_header;
    http_headers headers;  // names carry their trailing ':' as lws wants them
    bool established = false;
    bool silent = false;  // the owner has its terminal event (or asked to close): tell it nothing
    bool closing = false;
    bool writable_requested = false;
    std::uint64_t direct_write_pass = 0;  // the service pass of the last write outside POLLOUT
    bool peer_closed = false;
    std::uint16_t close_code = 0;
    std::string close_reason;
    struct outgoing {
      std::string text;
      bool stream = false;
    };
    std::deque<outgoing> tx;
    std::size_t tx_bytes = 0;
    std::size_t stream_bytes = 0;       // of tx, in stream messages
    std::vector<unsigned char> tx_buf;  // LWS_PRE + the largest message so far, reused
    std::string rx;
    int http_status = 0;
    deadline_timer deadline{};
  };

  explicit impl(ws_client_options opts) : options(std::move(opts)) {
    protocols[0].name = protocol_name;
    protocols[0].callback = &impl::callback;
  }

  ws_client_options options;
  lws_protocols protocols[2] = {};
  lws_context* context = nullptr;
  std::thread thread;

  std::mutex mtx;
  std::vector<command> pending;  // guarded by mtx
  bool accepting = false;        // guarded by mtx; lws_cancel_service is only called under mtx

  // Service thread only.
  std::vector<command> batch;
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> conns;
  bool stopping = false;
  bool exit_loop = false;
  std::uint32_t callbacks_this_pass = 0;
  std::uint32_t writes_armed_this_pass = 0;
  std::uint64_t service_pass = 0;
  bool extra_ca_failed = false;
  std::array<std::uint8_t, 1024> mask_pool{};
  std::size_t mask_pool_used = mask_pool.size();
  deadline_timer stop_timer{};  // id 0: the stop() grace period

  std::atomic<std::uint64_t> next_id{0};
  std::atomic<std::uint64_t> open_connections{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> bytes_queued{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> stream_messages_dropped{0};

  // --- any thread ---------------------------------------------------------------------------

  // Moves cmd into the queue; leaves it untouched (and returns false) once stop() has begun.
  bool post(command& cmd) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!accepting) return false;
    bool wake = pending.empty();
    pending.push_back(std::move(cmd));
    if (wake) lws_cancel_service(context);
    return true;
  }

  static void reject(kind type, std::uint64_t id, const caf::actor& owner, std::string why) {
    if (type == kind::http) {
      caf::anon_send(owner, http_response{id, 0, {}, std::move(why)});
    } else {
      caf::anon_send(owner, ws_failed{id, std::move(why), 0});
    }
  }

  std::uint64_t open(kind type, std::string_view url, http_headers headers, caf::actor owner) {
    auto id = ++next_id;
    auto parsed = parse_url(url);
    if (!parsed) {
      reject(type, id, owner, "invalid url: " + parsed.error());
      return id;
    }
    for (auto& header : headers) {
      if (header.first.empty() || has_control_or_space(header.first) ||
          header.first.find(':') != std::string::npos || has_line_break(header.second)) {
        reject(type, id, owner, "invalid header");
        return id;
      }
      header.first += ':';
    }
    command cmd;
    cmd.what = type == kind::http ? op::http_get : op::connect;
    cmd.id = id;
    cmd.url = std::move(*parsed);
    cmd.headers = std::move(headers);
    cmd.owner = std::move(owner);
    if (!post(cmd)) reject(type, id, cmd.owner, "client stopped");
    return id;
  }

  // --- service thread -----------------------------------------------------------------------

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                      std::size_t len) noexcept;
  int dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

  connection* find(std::uint64_t id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }

  void run() {
    pthread_setname_np(pthread_self(), "cb-ws-client");
    // Callbacks in one pass from which the loop counts as busy: a few calls' chunks.
    constexpr std::uint32_t busy_pass_callbacks = 16;
    while (!exit_loop) {
      callbacks_this_pass = 0;
      writes_armed_this_pass = 0;
      ++service_pass;
      if (lws_service(context, 0) < 0) break;
      // Writes armed in this pass go out in the next one, at once: pausing first would hold every
      // queued audio chunk back by the whole pause.
      if (callbacks_this_pass >= busy_pass_callbacks && writes_armed_this_pass == 0 &&
          options.busy_pause.count() > 0) {
        std::this_thread::sleep_for(options.busy_pause);
      }
    }
    {
      std::lock_guard<std::mutex> guard{mtx};
      accepting = false;
      batch.swap(pending);
    }
    for (auto& cmd : batch) {
      if (cmd.what == op::connect) reject(kind::websocket, cmd.id, cmd.owner, "client stopped");
      if (cmd.what == op::http_get) reject(kind::http, cmd.id, cmd.owner, "client stopped");
    }
    batch.clear();
    for (auto& entry : conns) {
      notify_stopped(*entry.second);
      lws_sul_cancel(&entry.second->deadline.sul);
    }
    conns.clear();
    bytes_queued = 0;
    open_connections = 0;
    lws_sul_cancel(&stop_timer.sul);
    {
      const std::lock_guard<std::mutex> live_guard{live_contexts_mtx};
      lws_context_destroy(context);
      --live_contexts;
    }
    context = nullptr;
  }

  void drain_commands() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      batch.swap(pending);
    }
    for (auto& cmd : batch) {
      switch (cmd.what) {
        case op::connect:
          start_connection(cmd, kind::websocket);
          break;
        case op::http_get:
          start_connection(cmd, kind::http);
          break;
        case op::send:
          enqueue(cmd.id, std::move(cmd.text), cmd.stream);
          break;
        case op::close:
          close_locally(cmd.id, cmd.code, cmd.text);
          break;
        case op::stop:
          begin_stop();
          break;
      }
    }
    batch.clear();
  }

  void start_connection(command& cmd, kind type) {
    auto owned = std::make_unique<connection>();
    auto& c = *owned;
    c.id = cmd.id;
    c.type = type;
    c.owner = std::move(cmd.owner);
    c.url = std::move(cmd.url);
    c.headers = std::move(cmd.headers);
    bool default_port = c.url.port == (c.url.tls ? 443 : 80);
    bool ipv6 = c.url.host.find(':') != std::string::npos;
    c.host_header = ipv6 ? "[" + c.url.host + "]" : c.url.host;
    if (!default_port) c.host_header += ":" + std::to_string(c.url.port);
    c.deadline.self = this;
    c.deadline.id = c.id;
    if (stopping) {
      reject(type, c.id, c.owner, "client stopped");
      return;
    }
    conns.emplace(c.id, std::move(owned));

    lws_client_connect_info ci{};
    ci.context = context;
    ci.address = c.url.host.c_str();
    ci.port = c.url.port;
    ci.path = c.url.path_and_query.c_str();
    ci.host = c.host_header.c_str();
    ci.local_protocol_name = protocol_name;
    ci.alpn = "http/1.1";
    // lws carries the id as its opaque pointer.
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    ci.opaque_user_data = reinterpret_cast<void*>(static_cast<std::uintptr_t>(c.id));
    if (c.url.tls) {
      ci.ssl_connection = LCCSCF_USE_SSL;
      if (options.allow_self_signed) {
        ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
      }
    }
    if (type == kind::http) {
      ci.method = "GET";
      // A redirect would carry the API key to wherever the server points.
      ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    }
    schedule_deadline(c, options.connect_timeout);
    auto id = c.id;
    lws* wsi = lws_client_connect_via_info(&ci);
    auto* still = find(id);
    if (still == nullptr) return;  // already failed inside the call and was reported
    if (wsi == nullptr) {
      fail_connecting(*still, "connect failed");
      erase(id);
      return;
    }
    still->wsi = wsi;
  }

  void schedule_deadline(connection& c, std::chrono::milliseconds after) const {
    lws_sul_cancel(&c.deadline.sul);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(after).count();
    lws_sul_schedule(context, 0, &c.deadline.sul, &impl::on_deadline, static_cast<lws_usec_t>(us));
  }

  static void on_deadline(lws_sorted_usec_list_t* sul) {
    auto* timer = reinterpret_cast<deadline_timer*>(sul);
    if (timer->id == 0) {
      timer->self->exit_loop = true;
      return;
    }
    auto* c = timer->self->find(timer->id);
    if (c == nullptr) return;
    if (!c->silent) {
      timer->self->fail_connecting(*c,
                                   c->type == kind::http ? "request timeout" : "connect timeout");
    }
    kill(*c);
  }

  static void kill(connection& c) {
    c.silent = true;
    if (c.wsi != nullptr) lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }

  void drop_queue(connection& c) {
    bytes_queued -= c.tx_bytes;
    c.tx_bytes = 0;
    c.stream_bytes = 0;
    c.tx.clear();
  }

  void erase(std::uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    auto& c = *it->second;
    lws_sul_cancel(&c.deadline.sul);
    drop_queue(c);
    if (c.established) --open_connections;
    conns.erase(it);
    if (stopping && conns.empty()) exit_loop = true;
  }

  // The terminal event of a connection that did not complete: ws_failed or an http_response.
  void fail_connecting(connection& c, std::string why, int status = 0) {
    c.silent = true;
    if (c.type == kind::http) {
      caf::anon_send(c.owner, http_response{c.id, c.http_status, std::move(c.rx), std::move(why)});
      return;
    }
    ++connect_failures;
    caf::anon_send(c.owner, ws_failed{c.id, std::move(why), status});
  }

  static void fail_open(connection& c, std::string why) {
    c.silent = true;
    caf::anon_send(c.owner, ws_failed{c.id, std::move(why), 0});
  }

  void notify_stopped(connection& c) {
    if (c.silent) return;
    if (c.type == kind::websocket && c.established) {
      c.silent = true;
      caf::anon_send(c.owner, ws_closed{c.id, 1001, "client stopped", false});
    } else {
      fail_connecting(c, "client stopped");
    }
  }

  void request_writable(connection& c) {
    if (c.writable_requested || c.wsi == nullptr) return;
    c.writable_requested = true;
    ++writes_armed_this_pass;
    lws_callback_on_writable(c.wsi);
  }

  // Drops the oldest waiting stream messages until `incoming` more bytes of them fit.
  void make_room_for_stream(connection& c, std::size_t incoming) {
    for (auto it = c.tx.begin();
         c.stream_bytes + incoming > options.max_stream_bytes && it != c.tx.end();) {
      if (!it->stream) {
        ++it;
        continue;
      }
      const auto n = it->text.size();
      c.stream_bytes -= n;
      c.tx_bytes -= n;
      bytes_queued -= n;
      ++stream_messages_dropped;
      metrics::service_metrics::process().elevenlabs_audio_dropped();
      it = c.tx.erase(it);
    }
  }

  void enqueue(std::uint64_t id, std::string&& text, bool stream) {
    auto* c = find(id);
    if (c == nullptr || c->silent || c->type != kind::websocket) return;
    if (stream) make_room_for_stream(*c, text.size());
    if (c->tx_bytes + text.size() > options.max_queued_bytes) {
      fail_open(*c, "send queue overflow");
      drop_queue(*c);
      kill(*c);
      return;
    }
    c->tx_bytes += text.size();
    if (stream) c->stream_bytes += text.size();
    bytes_queued += text.size();
    c->tx.push_back({std::move(text), stream});
    if (!c->established) return;
    // A socket with nothing waiting takes the message now: arming POLLOUT first would cost another
    // service pass, and the message would wait for it.
    // Once per pass, like a writable callback, so a burst still queues (and sheds) as before.
    if (c->tx.size() == 1 && !c->writable_requested && !c->closing &&
        c->direct_write_pass != service_pass && lws_partial_buffered(c->wsi) == 0) {
      c->direct_write_pass = service_pass;
      if (!write_front(*c)) lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      return;
    }
    request_writable(*c);
  }

  void close_locally(std::uint64_t id, std::uint16_t code, const std::string& reason) {
    auto* c = find(id);
    if (c == nullptr || c->silent) return;
    c->silent = true;
    if (!c->established) {
      kill(*c);
      return;
    }
    begin_close(*c, code, reason);
  }

  void begin_close(connection& c, std::uint16_t code, const std::string& reason) {
    c.closing = true;
    c.close_code = code;
    c.close_reason = reason.substr(0, max_close_reason_bytes);
    schedule_deadline(c, options.close_timeout);
    request_writable(c);
  }

  void begin_stop() {
    stopping = true;
    for (auto& entry : conns) {
      auto& c = *entry.second;
      if (c.type == kind::websocket && c.established && !c.closing) {
        notify_stopped(c);
        begin_close(c, 1001, "going away");
      } else if (!c.closing) {
        notify_stopped(c);
        kill(c);
      }
    }
    if (conns.empty()) {
      exit_loop = true;
      return;
    }
    stop_timer.self = this;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(options.close_timeout).count();
    lws_sul_schedule(context, 0, &stop_timer.sul, &impl::on_deadline, static_cast<lws_usec_t>(us));
  }

  // A fresh masking key per frame (RFC 6455 section 5.3: unpredictable), from OpenSSL's DRBG in
  // batches rather than lws's one getrandom() system call per frame.
  bool next_masking_key(websocket::masking_key& key) {
    if (mask_pool_used + key.size() > mask_pool.size()) {
      if (RAND_bytes(mask_pool.data(), static_cast<int>(mask_pool.size())) != 1) return false;
      mask_pool_used = 0;
    }
    std::memcpy(key.data(), mask_pool.data() + mask_pool_used, key.size());
    mask_pool_used += key.size();
    return true;
  }

  // Sends the oldest queued message as one complete frame. False when the connection is lost.
  bool write_front(connection& c) {
    const auto& front = c.tx.front();
    auto n = front.text.size();
    websocket::masking_key key{};
    if (!next_masking_key(key)) return false;
    auto frame_size = websocket::client_header_size(n) + n;
    if (c.tx_buf.size() < LWS_PRE + frame_size) c.tx_buf.resize(LWS_PRE + frame_size);
    websocket::write_client_frame(websocket::opcode::text, front.text, key,
                                  c.tx_buf.data() + LWS_PRE);
    if (front.stream) c.stream_bytes -= n;
    c.tx.pop_front();
    c.tx_bytes -= n;
    bytes_queued -= n;
    // The frame is complete, so lws must send it as it is: its ws role passes LWS_WRITE_HTTP
    // bytes through unframed, and like any write, buffers what the socket does not take and sends
    // that before anything else.
    if (lws_write(c.wsi, c.tx_buf.data() + LWS_PRE, frame_size, LWS_WRITE_HTTP) <
        static_cast<int>(frame_size)) {
      return false;
    }
    ++messages_sent;
    return true;
  }

  int on_writeable(connection& c) {
    c.writable_requested = false;
    if (!c.tx.empty()) {
      if (!write_front(c)) return -1;
      if (!c.tx.empty() || c.closing) request_writable(c);
      return 0;
    }
    if (c.closing) {
      lws_close_reason(c.wsi, static_cast<lws_close_status>(c.close_code),
                       reinterpret_cast<unsigned char*>(c.close_reason.data()),
                       c.close_reason.size());
      return -1;
    }
    return 0;
  }

  int on_receive(connection& c, const char* data, std::size_t len) {
    if (c.silent) return 0;
    // The rest of this frame comes anyway, so its announced length counts (and sizes the buffer).
    auto frame_rest = lws_remaining_packet_payload(c.wsi);
    if (c.rx.size() + len + frame_rest > options.max_message_bytes) {
      fail_open(c, "message too large");
      return -1;
    }
    if (c.rx.empty()) c.rx.reserve(len + frame_rest);
    c.rx.append(data, len);
    if (lws_is_final_fragment(c.wsi) != 0 && lws_remaining_packet_payload(c.wsi) == 0) {
      ++messages_received;
      caf::anon_send(c.owner, ws_text{c.id, std::move(c.rx)});
      c.rx = std::string{};
    }
    return 0;
  }

  static void on_peer_close(connection& c, const unsigned char* data, std::size_t len) {
    c.peer_closed = true;
    if (len >= 2) {
      c.close_code = static_cast<std::uint16_t>((data[0] << 8) | data[1]);
      c.close_reason.assign(reinterpret_cast<const char*>(data) + 2, len - 2);
    } else {
      c.close_code = 1005;  // RFC 6455 7.1.5: the close frame carried no status code
    }
  }

  void on_closed(connection& c) {
    if (!c.silent) {
      if (c.established) {
        c.silent = true;
        if (c.peer_closed) {
          caf::anon_send(c.owner, ws_closed{c.id, c.close_code, std::move(c.close_reason), true});
        } else {
          caf::anon_send(c.owner, ws_closed{c.id, 1006, {}, false});
        }
      } else {
        fail_connecting(c, "connection closed before the handshake completed");
      }
    }
    erase(c.id);
  }

  int on_http_body(connection& c, const char* data, std::size_t len) {
    if (c.silent) return 0;
    if (c.rx.size() + len > options.max_http_body_bytes) {
      fail_connecting(c, "response body too large");
      return -1;
    }
    c.rx.append(data, len);
    return 0;
  }

  void on_http_done(connection& c) {
    if (!c.silent) {
      c.silent = true;
      caf::anon_send(c.owner, http_response{c.id, c.http_status, std::move(c.rx), {}});
    }
    erase(c.id);
  }

  int load_extra_ca(void* ssl_ctx) {
    if (options.ca_file.empty()) return 0;
    if (SSL_CTX_load_verify_locations(static_cast<SSL_CTX*>(ssl_ctx), options.ca_file.c_str(),
                                      nullptr) != 1) {
      extra_ca_failed = true;
      return 1;
    }
    return 0;
  }
};

int ws_client::impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                              std::size_t len) noexcept {
  // Nothing may unwind through libwebsockets' C frames; an allocation failure drops the connection.
  try {
    return static_cast<impl*>(lws_context_user(lws_get_context(wsi)))
        ->dispatch(wsi, reason, user, in, len);
  } catch (...) {
    return -1;
  }
}

int ws_client::impl::dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                              std::size_t len) {
  ++callbacks_this_pass;
  if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
    drain_commands();
    return 0;
  }
  if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
    return load_extra_ca(user);
  }
  auto id =
      static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(lws_get_opaque_user_data(wsi)));
  auto* c = id == 0 ? nullptr : find(id);
  if (c == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  c->wsi = wsi;
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      auto** p = static_cast<unsigned char**>(in);
      auto* end = *p + len;
      for (const auto& header : c->headers) {
        if (lws_add_http_header_by_name(
                wsi, reinterpret_cast<const unsigned char*>(header.first.c_str()),
                reinterpret_cast<const unsigned char*>(header.second.data()),
                static_cast<int>(header.second.size()), p, end) != 0) {
          return -1;
        }
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      if (!c->silent) {
        std::string why = in == nullptr ? std::string{"connection failed"}
                                        : std::string(static_cast<const char*>(in),
                                                      strnlen(static_cast<const char*>(in), len));
        int status = static_cast<int>(lws_http_client_http_response(wsi));
        fail_connecting(*c, std::move(why), status);
      }
      erase(id);
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      lws_sul_cancel(&c->deadline.sul);
      c->established = true;
      ++open_connections;
      caf::anon_send(c->owner, ws_opened{id});
      if (!c->tx.empty()) request_writable(*c);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return on_receive(*c, static_cast<const char*>(in), len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return on_writeable(*c);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      on_peer_close(*c, static_cast<const unsigned char*>(in), len);
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      on_closed(*c);
      return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      c->http_status = static_cast<int>(lws_http_client_http_response(wsi));
      return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
      char buffer[LWS_PRE + http_read_chunk];
      char* start = buffer + LWS_PRE;
      int available = static_cast<int>(http_read_chunk);
      return lws_http_client_read(wsi, &start, &available) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
      return on_http_body(*c, static_cast<const char*>(in), len);
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
      on_http_done(*c);
      return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
      if (c->http_status == 0 && !c->silent) {
        fail_connecting(*c, "connection closed before the response");
      }
      on_http_done(*c);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      on_closed(*c);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

ws_client::ws_client(ws_client_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

ws_client::~ws_client() {
  stop();
}

void ws_client::start() {
  if (impl_->thread.joinable()) return;
  // lws notices go to stderr and would interleave with the bridge's own log lines.
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = impl_->protocols;
  // lws's OpenSSL global init (re)creates its process-wide SSL_CTX ex-data index: a second one
  // while another context lives orphans that context's client SSL_CTX and its CA store, and the
  // context that did it undoes it when destroyed. So only a context started while no other lives
  // does it, and it must be destroyed last (bridge::stop stops its clients in reverse order).
  const std::lock_guard<std::mutex> live_guard{live_contexts_mtx};
  if (live_contexts == 0) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = impl_.get();
  impl_->stopping = false;
  impl_->exit_loop = false;
  impl_->extra_ca_failed = false;
  impl_->context = lws_create_context(&info);
  if (impl_->context != nullptr) ++live_contexts;
  if (impl_->context == nullptr || impl_->extra_ca_failed) {
    if (impl_->context != nullptr) {
      lws_context_destroy(impl_->context);
      --live_contexts;
    }
    impl_->context = nullptr;
    throw std::runtime_error(impl_->extra_ca_failed ? "ws_client: cannot load ca_file"
                                                    : "ws_client: lws_create_context failed");
  }
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->accepting = true;
  }
  impl_->thread = std::thread([self = impl_.get()] { self->run(); });
}

void ws_client::stop() {
  stop_service_thread(*impl_);
}

std::uint64_t ws_client::connect(const std::string& url, http_headers headers, caf::actor owner) {
  return impl_->open(impl::kind::websocket, url, std::move(headers), std::move(owner));
}

std::uint64_t ws_client::http_get(const std::string& url, http_headers headers, caf::actor owner) {
  return impl_->open(impl::kind::http, url, std::move(headers), std::move(owner));
}

void ws_client::send_text(std::uint64_t conn, std::string text) {
  impl::command cmd;
  cmd.what = impl::op::send;
  cmd.id = conn;
  cmd.text = std::move(text);
  impl_->post(cmd);
}

void ws_client::send_stream(std::uint64_t conn, std::string text) {
  impl::command cmd;
  cmd.what = impl::op::send;
  cmd.id = conn;
  cmd.text = std::move(text);
  cmd.stream = true;
  impl_->post(cmd);
}

void ws_client::close(std::uint64_t conn, std::uint16_t code, std::string reason) {
  impl::command cmd;
  cmd.what = impl::op::close;
  cmd.id = conn;
  cmd.code = code;
  cmd.text = std::move(reason);
  impl_->post(cmd);
}

ws_client::stats ws_client::snapshot() const {
  stats s;
  s.open_connections = impl_->open_connections.load(std::memory_order_relaxed);
  s.messages_sent = impl_->messages_sent.load(std::memory_order_relaxed);
  s.messages_received = impl_->messages_received.load(std::memory_order_relaxed);
  s.bytes_queued = impl_->bytes_queued.load(std::memory_order_relaxed);
  s.connect_failures = impl_->connect_failures.load(std::memory_order_relaxed);
  s.stream_messages_dropped = impl_->stream_messages_dropped.load(std::memory_order_relaxed);
  return s;
}

}  // namespace cb
