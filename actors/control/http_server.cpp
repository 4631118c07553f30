#include "actors/control/http_server.hpp"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <caf/send.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "actors/lws_service_thread.hpp"

namespace cb::control {

namespace {

constexpr char protocol_name[] = "cb-control-api";
constexpr char webhook_path[] = "/webhooks/elevenlabs";
constexpr std::size_t http_chunk = 16384;
constexpr std::size_t header_room = 4096;
constexpr int close_grace_s = 5;
constexpr std::size_t max_close_reason_bytes = 123;  // RFC 6455: 125-byte payload minus the code

using api::stream;
using shared_text = std::shared_ptr<const std::string>;

std::size_t index_of(stream s) {
  return static_cast<std::size_t>(s);
}

const char* method_name(int index) {
  switch (index) {
    case LWSHUMETH_GET:
      return "GET";
    case LWSHUMETH_POST:
      return "POST";
    case LWSHUMETH_OPTIONS:
      return "OPTIONS";
    case LWSHUMETH_PUT:
      return "PUT";
    case LWSHUMETH_PATCH:
      return "PATCH";
    case LWSHUMETH_DELETE:
      return "DELETE";
    case LWSHUMETH_HEAD:
      return "HEAD";
    default:
      return "";
  }
}

std::string header(lws* wsi, lws_token_indexes token) {
  const int n = lws_hdr_total_length(wsi, token);
  if (n <= 0) return {};
  std::string value(static_cast<std::size_t>(n) + 1, '\0');
  const int copied = lws_hdr_copy(wsi, value.data(), n + 1, token);
  value.resize(copied > 0 ? static_cast<std::size_t>(copied) : 0);
  return value;
}

std::string custom_header(lws* wsi, const char* name) {
  const int name_len = static_cast<int>(std::strlen(name));
  const int n = lws_hdr_custom_length(wsi, name, name_len);
  if (n <= 0) return {};
  std::string value(static_cast<std::size_t>(n) + 1, '\0');
  const int copied = lws_hdr_custom_copy(wsi, value.data(), n + 1, name, name_len);
  value.resize(copied > 0 ? static_cast<std::size_t>(copied) : 0);
  return value;
}

std::string peer_of(lws* wsi) {
  char name[128] = {};
  const char* peer = lws_get_peer_simple(wsi, name, sizeof(name));
  return peer == nullptr ? std::string{} : std::string(peer);
}

// lws hands each query argument over as one decoded "name=value" fragment.
api::field_list query_of(lws* wsi) {
  api::field_list out;
  for (int i = 0;; ++i) {
    const int n = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n <= 0) break;
    std::string fragment(static_cast<std::size_t>(n) + 1, '\0');
    const int copied =
        lws_hdr_copy_fragment(wsi, fragment.data(), n + 1, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (copied < 0) break;
    fragment.resize(static_cast<std::size_t>(copied));
    const auto eq = fragment.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(std::move(fragment), std::string{});
    } else {
      out.emplace_back(fragment.substr(0, eq), fragment.substr(eq + 1));
    }
  }
  return out;
}

std::optional<std::size_t> content_length(lws* wsi) {
  const auto text = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (text.empty()) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::size_t>(c - '0');
    if (value > (SIZE_MAX - digit) / 10) return SIZE_MAX;
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace

struct http_server::impl {
  enum class op : std::uint8_t { respond, send, close, subscribe, publish, stop };

  struct command {
    op what = op::send;
    std::uint64_t id = 0;
    http_reply reply;
    shared_text text;
    std::uint16_t code = 0;
    subscription sub;
    stream target = stream::events;
    std::string call;
  };

  struct log_entry {
    log_level level = log_level::info;
    std::string call;
    shared_text text;
  };

  struct connection {
    std::uint64_t id = 0;
    lws* wsi = nullptr;
    bool websocket = false;
    bool writable_requested = false;
    std::vector<unsigned char> buf;  // LWS_PRE + the largest write so far, reused

    // HTTP
    http_request building;
    std::size_t body_limit = 0;
    bool reading_body = false;
    bool rejected = false;      // answered 413 while the body was still arriving
    std::uint64_t request = 0;  // awaiting the owner's answer
    std::optional<http_reply> reply;
    bool head_sent = false;
    std::size_t body_sent = 0;
    bool close_after = false;

    // WebSocket
    subscription sub;
    std::deque<shared_text> tx;
    std::size_t tx_bytes = 0;
    std::uint64_t dropped = 0;  // stream messages not queued since the last notice
    std::string rx;
    bool rx_overflow = false;
    bool closing = false;
    std::uint16_t close_code = 0;
    std::string close_reason;
    bool owner_told = false;  // ws_connected sent, ws_disconnected not yet
  };

  explicit impl(http_server_options opts) : options(std::move(opts)) {
    protocols[0].name = protocol_name;
    protocols[0].callback = &impl::callback;
  }

  http_server_options options;
  lws_protocols protocols[2] = {};
  lws_context* context = nullptr;
  std::thread thread;
  caf::actor owner;
  std::uint16_t bound_port = 0;
  SSL_CTX* client_ssl_ctx = nullptr;  // an empty one for the TLS vhost (see start())
  log::sink_id sink = 0;
  bool sink_installed = false;

  std::mutex mtx;
  std::vector<command> pending;  // guarded by mtx
  std::deque<log_entry> logs;    // guarded by mtx
  bool accepting = false;        // guarded by mtx; lws_cancel_service is only called under mtx

  // Service thread only.
  std::vector<command> batch;
  std::deque<log_entry> log_batch;
  std::unordered_map<std::uint64_t, std::unique_ptr<connection>> conns;
  std::unordered_map<std::uint64_t, std::uint64_t> request_conn;  // request id -> connection id
  std::uint64_t next_conn = 0;
  std::uint64_t next_request = 0;
  bool exit_loop = false;

  std::array<std::atomic<std::uint64_t>, api::stream_count> subscribers{};
  // The lowest level any logs subscriber wants; records below it are not even formatted.
  std::atomic<std::uint8_t> lowest_log_level{static_cast<std::uint8_t>(log_level::error)};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> websocket_clients{0};
  std::atomic<std::uint64_t> stream_messages_dropped{0};
  std::atomic<std::uint64_t> log_records_dropped{0};
  std::atomic<std::uint64_t> clients_dropped{0};

  void destroy_context() {
    if (context != nullptr) lws_context_destroy(context);
    context = nullptr;
    SSL_CTX_free(client_ssl_ctx);  // after the context: lws does not free an SSL_CTX it was given
    client_ssl_ctx = nullptr;
  }

  // --- any thread ---------------------------------------------------------------------------

  void post(command&& cmd) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!accepting) return;
    const bool wake = pending.empty() && logs.empty();
    pending.push_back(std::move(cmd));
    if (wake) lws_cancel_service(context);
  }

  // Called by the logger on whatever thread logs; it must never wait for the service thread.
  void on_log(const log::record& r) {
    if (subscribers[index_of(stream::logs)].load(std::memory_order_relaxed) == 0 ||
        static_cast<std::uint8_t>(r.level) < lowest_log_level.load(std::memory_order_relaxed)) {
      return;
    }
    auto line = log::format_line(log_format::json, r);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    line.insert(1, R"("type":"log",)");
    std::lock_guard<std::mutex> guard{mtx};
    if (!accepting) return;
    if (logs.size() >= options.max_pending_logs) {
      ++log_records_dropped;
      return;
    }
    const bool wake = pending.empty() && logs.empty();
    logs.push_back(
        {r.level, std::string(r.call_id), std::make_shared<const std::string>(std::move(line))});
    if (wake) lws_cancel_service(context);
  }

  // --- service thread -----------------------------------------------------------------------

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                      std::size_t len) noexcept;
  int dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

  connection* find(std::uint64_t id) {
    auto it = conns.find(id);
    return it == conns.end() ? nullptr : it->second.get();
  }

  connection* find(lws* wsi) {
    const auto id =
        static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(lws_get_opaque_user_data(wsi)));
    return id == 0 ? nullptr : find(id);
  }

  connection& attach(lws* wsi) {
    if (auto* c = find(wsi)) return *c;
    auto owned = std::make_unique<connection>();
    owned->id = ++next_conn;
    owned->wsi = wsi;
    // lws carries the id as its opaque pointer.
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    lws_set_opaque_user_data(wsi, reinterpret_cast<void*>(static_cast<std::uintptr_t>(owned->id)));
    auto& c = *owned;
    conns.emplace(c.id, std::move(owned));
    return c;
  }

  void run() {
    pthread_setname_np(pthread_self(), "cb-control-api");
    while (!exit_loop) {
      if (lws_service(context, 0) < 0) break;
    }
    {
      std::lock_guard<std::mutex> guard{mtx};
      accepting = false;
      pending.clear();
      logs.clear();
    }
    destroy_context();
    conns.clear();
    request_conn.clear();
    for (auto& count : subscribers)
      count = 0;
    websocket_clients = 0;
  }

  void drain() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      batch.swap(pending);
      log_batch.swap(logs);
    }
    for (auto& cmd : batch) {
      switch (cmd.what) {
        case op::respond:
          on_respond(cmd.id, std::move(cmd.reply));
          break;
        case op::send:
          if (auto* c = find(cmd.id)) enqueue_answer(*c, std::move(cmd.text));
          break;
        case op::close:
          if (auto* c = find(cmd.id); c != nullptr && c->websocket) {
            begin_close(*c, cmd.code, *cmd.text);
          }
          break;
        case op::subscribe:
          if (auto* c = find(cmd.id); c != nullptr && c->websocket && !c->closing) {
            set_subscription(*c, std::move(cmd.sub));
          }
          break;
        case op::publish:
          fan_out(cmd.target, cmd.call, cmd.text, log_level::error);
          break;
        case op::stop:
          exit_loop = true;
          break;
      }
    }
    batch.clear();
    for (auto& entry : log_batch)
      fan_out(stream::logs, entry.call, entry.text, entry.level);
    log_batch.clear();
  }

  static void request_writable(connection& c) {
    if (c.writable_requested) return;
    c.writable_requested = true;
    lws_callback_on_writable(c.wsi);
  }

  // --- HTTP ---

  void begin_request(connection& c, lws* wsi) {
    c.building = http_request{};
    c.reading_body = false;
    c.rejected = false;
    c.reply.reset();
    c.head_sent = false;
    c.body_sent = 0;
    c.close_after = false;
    char* uri = nullptr;
    int uri_len = 0;
    const int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    c.building.method = method_name(method);
    if (uri != nullptr && uri_len > 0)
      c.building.path.assign(uri, static_cast<std::size_t>(uri_len));
    c.building.query = query_of(wsi);
    c.building.content_type = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
    c.building.authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    c.building.signature = custom_header(wsi, "elevenlabs-signature:");
    c.building.peer = peer_of(wsi);
    c.body_limit = c.building.path == webhook_path ? options.max_webhook_body : options.max_body;
  }

  // Answers on the service thread without the owner (transport limits).
  static void reject(connection& c, int status, std::string_view code, std::string_view message) {
    c.rejected = true;
    c.close_after = true;
    c.reply = http_reply{status, "application/json", api::error_body(code, message), {}};
    request_writable(c);
  }

  void reject_too_large(connection& c) {
    reject(c, 413, "payload_too_large",
           "the body exceeds " + std::to_string(c.body_limit) + " bytes");
  }

  void hand_over(connection& c, lws* wsi) {
    const auto id = ++next_request;
    c.building.id = id;
    c.request = id;
    request_conn[id] = c.id;
    ++http_requests;
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK,
                    static_cast<int>(options.request_timeout.count()));
    caf::anon_send(owner, std::move(c.building));
    c.building = http_request{};
  }

  int on_http(connection& c, lws* wsi) {
    begin_request(c, wsi);
    const auto length = content_length(wsi);
    if (length && *length > c.body_limit) {
      reject_too_large(c);
      return 0;
    }
    // lws 4.1 does not decode chunked request bodies: such a request would never complete.
    if (!length && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
      reject(c, 411, "length_required", "send the body with a Content-Length");
      return 0;
    }
    const bool body_follows = length && *length > 0;
    c.reading_body = body_follows;
    if (!body_follows) hand_over(c, wsi);
    return 0;
  }

  void on_http_body(connection& c, const char* data, std::size_t len) {
    if (!c.reading_body || c.rejected) return;
    if (c.building.body.size() + len > c.body_limit) {
      c.building.body = std::string{};
      reject_too_large(c);
      return;
    }
    c.building.body.append(data, len);
  }

  void on_respond(std::uint64_t request, http_reply&& reply) {
    auto it = request_conn.find(request);
    if (it == request_conn.end()) return;
    auto* c = find(it->second);
    request_conn.erase(it);
    if (c == nullptr || c->request != request) return;
    c->request = 0;
    c->reply = std::move(reply);
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    request_writable(*c);
  }

  int on_http_writeable(connection& c, lws* wsi) {
    c.writable_requested = false;
    if (!c.reply) return 0;
    auto& reply = *c.reply;
    if (!c.head_sent) {
      std::size_t room = LWS_PRE + header_room;
      for (const auto& [name, value] : reply.headers)
        room += name.size() + value.size() + 4;
      if (c.buf.size() < room) c.buf.resize(room);
      unsigned char* start = c.buf.data() + LWS_PRE;
      unsigned char* p = start;
      unsigned char* end = c.buf.data() + c.buf.size() - 1;
      if (lws_add_http_common_headers(wsi, static_cast<unsigned int>(reply.status),
                                      reply.content_type.c_str(), reply.body.size(), &p,
                                      end) != 0) {
        return -1;
      }
      const auto add = [&](const std::string& name, const std::string& value) {
        const std::string lws_name = name + ":";
        return lws_add_http_header_by_name(wsi,
                                           reinterpret_cast<const unsigned char*>(lws_name.c_str()),
                                           reinterpret_cast<const unsigned char*>(value.data()),
                                           static_cast<int>(value.size()), &p, end) == 0;
      };
      bool ok = add("cache-control", "no-store") && add("x-content-type-options", "nosniff");
      for (const auto& [name, value] : reply.headers)
        ok = ok && add(name, value);
      if (c.close_after) ok = ok && add("connection", "close");
      if (!ok || lws_finalize_write_http_header(wsi, start, &p, end) != 0) return -1;
      c.head_sent = true;
      if (!reply.body.empty()) {
        request_writable(c);
        return 0;
      }
      return finish_reply(c, wsi);
    }
    const std::size_t n = std::min(http_chunk, reply.body.size() - c.body_sent);
    if (c.buf.size() < LWS_PRE + n) c.buf.resize(LWS_PRE + n);
    std::memcpy(c.buf.data() + LWS_PRE, reply.body.data() + c.body_sent, n);
    const bool last = c.body_sent + n == reply.body.size();
    if (lws_write(wsi, c.buf.data() + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
        static_cast<int>(n)) {
      return -1;
    }
    c.body_sent += n;
    if (!last) {
      request_writable(c);
      return 0;
    }
    return finish_reply(c, wsi);
  }

  static int finish_reply(connection& c, lws* wsi) {
    c.reply.reset();
    if (c.close_after) return -1;
    return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
  }

  // --- WebSocket ---

  void set_subscription(connection& c, subscription sub) {
    for (std::size_t i = 0; i < api::stream_count; ++i) {
      if (c.sub.streams[i] != sub.streams[i]) {
        if (sub.streams[i]) {
          ++subscribers[i];
        } else {
          --subscribers[i];
        }
      }
    }
    c.sub = std::move(sub);
    update_lowest_log_level();
  }

  void update_lowest_log_level() {
    auto lowest = static_cast<std::uint8_t>(log_level::error);
    for (const auto& entry : conns) {
      const auto& c = *entry.second;
      if (c.websocket && c.sub.streams[index_of(stream::logs)]) {
        lowest = std::min(lowest, static_cast<std::uint8_t>(c.sub.min_level));
      }
    }
    lowest_log_level = lowest;
  }

  void fan_out(stream s, const std::string& call, const shared_text& text, log_level level) {
    const auto i = index_of(s);
    if (subscribers[i] == 0) return;
    for (auto& entry : conns) {
      auto& c = *entry.second;
      if (!c.websocket || c.closing || !c.sub.streams[i]) continue;
      if (s == stream::logs && level < c.sub.min_level) continue;
      if (s != stream::metrics && !c.sub.call.empty() && c.sub.call != call) continue;
      enqueue_stream(c, text);
    }
  }

  void push(connection& c, shared_text text) {
    c.tx_bytes += text->size();
    c.tx.push_back(std::move(text));
    request_writable(c);
  }

  // Stream messages that do not fit are dropped for this client alone; it learns how many with
  // the next one that fits.
  void enqueue_stream(connection& c, const shared_text& text) {
    if (c.dropped != 0) {
      auto notice = std::make_shared<const std::string>(R"({"type":"dropped","count":)" +
                                                        std::to_string(c.dropped) + "}");
      if (c.tx_bytes + notice->size() + text->size() > options.max_client_queue) {
        ++c.dropped;
        ++stream_messages_dropped;
        return;
      }
      c.dropped = 0;
      push(c, std::move(notice));
    } else if (c.tx_bytes + text->size() > options.max_client_queue) {
      ++c.dropped;
      ++stream_messages_dropped;
      return;
    }
    push(c, text);
  }

  // Answers may exceed the stream budget (so a busy stream never costs a client its answers), but
  // a client that lets twice the budget pile up is not reading and is closed.
  void enqueue_answer(connection& c, shared_text text) {
    if (!c.websocket || c.closing) return;
    if (c.tx_bytes + text->size() > 2 * options.max_client_queue) {
      ++clients_dropped;
      log::warn("control_api", "", "WebSocket client {} closed: it is not reading its messages",
                c.id);
      c.tx.clear();
      c.tx_bytes = 0;
      begin_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "client too slow");
      return;
    }
    push(c, std::move(text));
  }

  void begin_close(connection& c, std::uint16_t code, const std::string& reason) {
    if (c.closing) return;
    c.closing = true;
    c.close_code = code;
    c.close_reason = reason.substr(0, max_close_reason_bytes);
    lws_set_timeout(c.wsi, PENDING_TIMEOUT_USER_OK, close_grace_s);
    request_writable(c);
  }

  int on_ws_writeable(connection& c) {
    c.writable_requested = false;
    if (!c.tx.empty()) {
      const auto text = std::move(c.tx.front());
      c.tx.pop_front();
      const auto n = text->size();
      c.tx_bytes -= n;
      if (c.buf.size() < LWS_PRE + n) c.buf.resize(LWS_PRE + n);
      std::memcpy(c.buf.data() + LWS_PRE, text->data(), n);
      if (lws_write(c.wsi, c.buf.data() + LWS_PRE, n, LWS_WRITE_TEXT) < static_cast<int>(n)) {
        return -1;
      }
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

  void on_established(connection& c, lws* wsi) {
    c.websocket = true;
    c.owner_told = true;
    ++websocket_clients;
    caf::anon_send(owner,
                   ws_connected{c.id, header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION), peer_of(wsi)});
  }

  void on_receive(connection& c, lws* wsi, const char* data, std::size_t len) {
    if (c.closing || c.rx_overflow) return;
    if (lws_frame_is_binary(wsi) != 0) {
      c.rx_overflow = true;
      begin_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text messages only");
      return;
    }
    const auto frame_rest = lws_remaining_packet_payload(wsi);
    if (c.rx.size() + len + frame_rest > options.max_ws_message) {
      c.rx_overflow = true;
      c.rx = std::string{};
      c.tx.clear();
      c.tx_bytes = 0;
      begin_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                  "message exceeds " + std::to_string(options.max_ws_message) + " bytes");
      return;
    }
    c.rx.append(data, len);
    if (lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0) {
      caf::anon_send(owner, ws_received{c.id, std::move(c.rx)});
      c.rx = std::string{};
    }
  }

  void on_ws_closed(connection& c) {
    if (!c.owner_told) return;
    c.owner_told = false;
    --websocket_clients;
    set_subscription(c, subscription{});
    caf::anon_send(owner, ws_disconnected{c.id});
  }

  void forget(connection& c) {
    if (c.websocket) on_ws_closed(c);
    if (c.request != 0) request_conn.erase(c.request);
    conns.erase(c.id);
  }
};

int http_server::impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                                std::size_t len) noexcept {
  // Nothing may unwind through libwebsockets' C frames; an allocation failure drops the connection.
  try {
    auto* self = static_cast<impl*>(lws_context_user(lws_get_context(wsi)));
    return self->dispatch(wsi, reason, user, in, len);
  } catch (...) {
    return -1;
  }
}

int http_server::impl::dispatch(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                                std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      drain();
      return 0;

    case LWS_CALLBACK_HTTP:
      return on_http(attach(wsi), wsi);
    case LWS_CALLBACK_HTTP_BODY:
      if (auto* c = find(wsi)) on_http_body(*c, static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      // lws reports completion for an empty body too, which was handed over at once.
      if (auto* c = find(wsi); c != nullptr && c->reading_body && !c->rejected) {
        c->reading_body = false;
        hand_over(*c, wsi);
      }
      return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
      if (auto* c = find(wsi)) return on_http_writeable(*c, wsi);
      return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      const auto path = header(wsi, WSI_TOKEN_GET_URI);
      return path == "/ws" || path == "/" ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED:
      on_established(attach(wsi), wsi);
      return 0;
    case LWS_CALLBACK_RECEIVE:
      if (auto* c = find(wsi)) on_receive(*c, wsi, static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (auto* c = find(wsi)) return on_ws_writeable(*c);
      return 0;
    case LWS_CALLBACK_CLOSED:
      if (auto* c = find(wsi)) on_ws_closed(*c);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      if (auto* c = find(wsi)) forget(*c);
      lws_set_opaque_user_data(wsi, nullptr);
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

http_server::http_server(http_server_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

http_server::~http_server() {
  stop();
}

expected<std::uint16_t, std::string> http_server::start(caf::actor owner) {
  if (impl_->thread.joinable()) return impl_->bound_port;
  const auto& o = impl_->options;
  const bool use_tls = !o.tls_cert.empty() && !o.tls_key.empty();
  // lws notices go to stderr and would interleave with the bridge's own log lines.
  lws_set_log_level(LLL_ERR | LLL_WARN, nullptr);
  lws_context_creation_info info{};
  info.port = o.port;
  info.iface = o.bind.empty() || o.bind == "0.0.0.0" ? nullptr : o.bind.c_str();
  info.protocols = impl_->protocols;
  info.user = impl_.get();
  info.max_http_header_data = 8192;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (o.bind == "0.0.0.0") info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  // The listening vhost is created on its own: when lws_create_context itself fails to create it
  // (port in use, bad certificate), lws leaks part of it. Only the vhost asks for TLS, and it gets
  // an empty client SSL_CTX: a context with LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT overwrites lws'
  // process-wide SSL_CTX ex-data index, and a TLS vhost otherwise builds a client SSL_CTX with
  // the whole system CA store, which that index is needed to free; with the ws_client context in
  // the same process one of the two stores leaked at exit. OpenSSL 3 initialises itself.
  lws_context_creation_info vhost_info = info;
  if (use_tls) {
    vhost_info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    vhost_info.ssl_cert_filepath = o.tls_cert.c_str();
    vhost_info.ssl_private_key_filepath = o.tls_key.c_str();
    // HTTP/2 would need RFC 8441 for WebSockets; dashboards and curl speak HTTP/1.1 fine.
    vhost_info.alpn = "http/1.1";
    impl_->client_ssl_ctx = SSL_CTX_new(TLS_client_method());
    vhost_info.provided_client_ssl_ctx = impl_->client_ssl_ctx;
  }
  impl_->owner = std::move(owner);
  impl_->exit_loop = false;
  impl_->context = lws_create_context(&info);
  lws_vhost* vhost =
      impl_->context == nullptr ? nullptr : lws_create_vhost(impl_->context, &vhost_info);
  if (vhost == nullptr) {
    impl_->destroy_context();
    impl_->owner = caf::actor{};
    return unexpected{std::string(use_tls ? "cannot listen with TLS on " : "cannot listen on ") +
                      (o.bind.empty() ? "*" : o.bind) + ":" + std::to_string(o.port) +
                      (use_tls ? " (address in use, or unreadable certificate or key)"
                               : " (address in use or not available)")};
  }
  impl_->bound_port = static_cast<std::uint16_t>(lws_get_vhost_listen_port(vhost));
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->accepting = true;
  }
  impl_->sink = log::add_sink([self = impl_.get()](const log::record& r) { self->on_log(r); });
  impl_->sink_installed = true;
  impl_->thread = std::thread([self = impl_.get()] { self->run(); });
  return impl_->bound_port;
}

void http_server::stop() {
  if (impl_->sink_installed) {
    log::remove_sink(impl_->sink);
    impl_->sink_installed = false;
  }
  if (!impl_->thread.joinable()) return;
  stop_service_thread(*impl_);
  impl_->owner = caf::actor{};
}

std::uint16_t http_server::port() const {
  return impl_->bound_port;
}

bool http_server::tls() const {
  return !impl_->options.tls_cert.empty() && !impl_->options.tls_key.empty();
}

void http_server::respond(std::uint64_t request, http_reply reply) {
  impl::command cmd;
  cmd.what = impl::op::respond;
  cmd.id = request;
  cmd.reply = std::move(reply);
  impl_->post(std::move(cmd));
}

void http_server::send(std::uint64_t conn, std::string text) {
  impl::command cmd;
  cmd.what = impl::op::send;
  cmd.id = conn;
  cmd.text = std::make_shared<const std::string>(std::move(text));
  impl_->post(std::move(cmd));
}

void http_server::close(std::uint64_t conn, std::uint16_t code, std::string reason) {
  impl::command cmd;
  cmd.what = impl::op::close;
  cmd.id = conn;
  cmd.code = code;
  cmd.text = std::make_shared<const std::string>(std::move(reason));
  impl_->post(std::move(cmd));
}

void http_server::subscribe(std::uint64_t conn, subscription sub) {
  impl::command cmd;
  cmd.what = impl::op::subscribe;
  cmd.id = conn;
  cmd.sub = std::move(sub);
  impl_->post(std::move(cmd));
}

void http_server::publish(api::stream s, std::string call_id, std::string text) {
  impl::command cmd;
  cmd.what = impl::op::publish;
  cmd.target = s;
  cmd.call = std::move(call_id);
  cmd.text = std::make_shared<const std::string>(std::move(text));
  impl_->post(std::move(cmd));
}

bool http_server::has_subscribers(api::stream s) const {
  return impl_->subscribers[static_cast<std::size_t>(s)].load(std::memory_order_relaxed) != 0;
}

http_server::stats http_server::snapshot() const {
  stats s;
  s.http_requests = impl_->http_requests.load(std::memory_order_relaxed);
  s.websocket_clients = impl_->websocket_clients.load(std::memory_order_relaxed);
  s.stream_messages_dropped = impl_->stream_messages_dropped.load(std::memory_order_relaxed);
  s.log_records_dropped = impl_->log_records_dropped.load(std::memory_order_relaxed);
  s.clients_dropped = impl_->clients_dropped.load(std::memory_order_relaxed);
  return s;
}

}  // namespace cb::control
