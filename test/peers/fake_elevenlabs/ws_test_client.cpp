#include "ws_test_client.hpp"

#include <cstring>

#include "protocol/elevenlabs_client_messages.hpp"

namespace cb::fake_elevenlabs::test {
namespace {

bool is_ping(const received_event& e, std::int64_t& id) {
  if (!e.event) return false;
  const auto* ping = std::get_if<elevenlabs::ping_event>(&*e.event);
  if (ping == nullptr) return false;
  id = ping->event_id;
  return true;
}

}  // namespace

ws_test_client::ws_test_client(client_options options) : options_(std::move(options)) {
  protocols_[0] = {"test-client", &ws_test_client::callback, 0, 8192, 0, nullptr, 0};
  protocols_[1] = {nullptr, nullptr, 0, 0, 0, nullptr, 0};
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols_.data();
  info.gid = -1;
  info.uid = -1;
  info.user = this;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) {
    failed_ = true;
    closed_ = true;
    return;
  }
  thread_ = std::thread([this] { run(); });
}

ws_test_client::~ws_test_client() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    lws_cancel_service(context_);
  }
  thread_.join();
}

void ws_test_client::run() {
  const std::string host = "127.0.0.1:" + std::to_string(options_.port);
  lws_client_connect_info ci;
  std::memset(&ci, 0, sizeof ci);
  ci.context = context_;
  ci.address = "127.0.0.1";
  ci.port = options_.port;
  ci.path = options_.path.c_str();
  ci.host = host.c_str();
  ci.origin = host.c_str();
  ci.protocol = options_.subprotocol.empty() ? nullptr : options_.subprotocol.c_str();
  ci.local_protocol_name = protocols_[0].name;
  ci.pwsi = &wsi_;
  if (lws_client_connect_via_info(&ci) == nullptr) {
    const std::lock_guard<std::mutex> lock(mutex_);
    failed_ = true;
    closed_ = true;
    changed_.notify_all();
  }
  while (!stopping_.load()) {
    if (lws_service(context_, 0) < 0) break;
  }
  { const std::lock_guard<std::mutex> lock(mutex_); }
  lws_context_destroy(context_);
}

int ws_test_client::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                             std::size_t len) {
  auto* self = static_cast<ws_test_client*>(lws_context_user(lws_get_context(wsi)));
  return self->on_event(wsi, reason, user, in, len);
}

int ws_test_client::on_event(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                             std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
      auto** p = static_cast<unsigned char**>(in);
      unsigned char* end = *p + len;
      for (const auto& [name, value] : options_.headers) {
        const std::string field = name + ":";
        if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(field.c_str()),
                                        reinterpret_cast<const unsigned char*>(value.data()),
                                        static_cast<int>(value.size()), p, end) != 0) {
          return -1;
        }
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED: {
      const std::lock_guard<std::mutex> lock(mutex_);
      connected_ = true;
      changed_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      const std::lock_guard<std::mutex> lock(mutex_);
      failed_ = true;
      closed_ = true;
      wsi_ = nullptr;
      changed_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE: {
      rx_.append(static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) == 0 || lws_remaining_packet_payload(wsi) != 0) return 0;
      received_event e{rx_, clock::now(), std::nullopt};
      rx_.clear();
      if (auto parsed = elevenlabs::parse_server_event(e.json)) e.event = std::move(*parsed);
      std::int64_t ping_id = 0;
      const std::lock_guard<std::mutex> lock(mutex_);
      if (options_.answer_pings && is_ping(e, ping_id)) {
        std::string pong;
        elevenlabs::serialize(elevenlabs::pong{ping_id + options_.pong_id_offset}, pong);
        outgoing_.emplace_back(false, std::move(pong));
        lws_callback_on_writable(wsi);
      }
      events_.push_back(std::move(e));
      changed_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      std::pair<bool, std::string> item;
      bool more = false;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (outgoing_.empty()) return 0;
        item = std::move(outgoing_.front());
        outgoing_.pop_front();
        more = !outgoing_.empty();
      }
      if (item.first) {
        lws_close_reason(wsi, static_cast<lws_close_status>(close_code_),
                         reinterpret_cast<unsigned char*>(item.second.data()), item.second.size());
        return -1;
      }
      std::string frame(LWS_PRE, '\0');
      frame += item.second;
      auto* data = reinterpret_cast<unsigned char*>(frame.data()) + LWS_PRE;
      if (lws_write(wsi, data, item.second.size(), LWS_WRITE_TEXT) < 0) return -1;
      if (more) lws_callback_on_writable(wsi);
      return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
      const auto* bytes = static_cast<const unsigned char*>(in);
      close_frame frame;
      frame.code = len >= 2 ? (bytes[0] << 8U) | bytes[1] : 1005;
      if (len > 2) frame.reason.assign(reinterpret_cast<const char*>(bytes + 2), len - 2);
      const std::lock_guard<std::mutex> lock(mutex_);
      server_close_ = frame;
      changed_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED: {
      const std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      wsi_ = nullptr;
      changed_.notify_all();
      return 0;
    }
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (wsi_ != nullptr && !outgoing_.empty()) lws_callback_on_writable(wsi_);
      return 0;
    }
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

bool ws_test_client::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return connected_ || failed_; });
  return connected_;
}

void ws_test_client::send(std::string text) {
  const std::lock_guard<std::mutex> lock(mutex_);
  outgoing_.emplace_back(false, std::move(text));
  lws_cancel_service(context_);
}

void ws_test_client::close(int code, std::string reason) {
  const std::lock_guard<std::mutex> lock(mutex_);
  close_code_ = code;
  outgoing_.emplace_back(true, std::move(reason));
  lws_cancel_service(context_);
}

std::vector<received_event> ws_test_client::events() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return events_;
}

bool ws_test_client::wait_for(const std::function<bool(const std::vector<received_event>&)>& done,
                              std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return done(events_); });
}

bool ws_test_client::wait_closed(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return closed_; });
}

std::optional<close_frame> ws_test_client::server_close() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return server_close_;
}

}  // namespace cb::fake_elevenlabs::test
