// What the ws_client service thread tells the actor that owns a connection or an HTTP request.
// Delivered with caf::anon_send; each has a CAF 0.17 inspect so actors/types.hpp can register it.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace cb {

// The WebSocket handshake completed (HTTP 101); send_text may follow.
struct ws_opened {
  std::uint64_t conn = 0;
};

// One whole message from the peer, fragments already reassembled.
struct ws_text {
  std::uint64_t conn = 0;
  std::string text;
};

// The connection ended after it had opened. clean: the peer sent a close frame and code/reason
// are its own (1005 when its frame carried no code). Otherwise the link was lost (code 1006) or
// the client is stopping (code 1001).
struct ws_closed {
  std::uint64_t conn = 0;
  std::uint16_t code = 1006;
  std::string reason;
  bool clean = false;
};

// The connection never opened (DNS, refused, TLS verification, timeout, a non-101 answer to the
// upgrade with http_status set when known), or it was dropped because the peer stopped reading
// ("send queue overflow") or sent an oversized message ("message too large").
struct ws_failed {
  std::uint64_t conn = 0;
  std::string reason;
  int http_status = 0;
};

// The outcome of http_get. error is non-empty when there is no complete response (transport
// failure, timeout, body over the limit); status and body are then whatever had arrived.
struct http_response {
  std::uint64_t request = 0;
  int status = 0;
  std::string body;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_opened& x) {
  return f(caf::meta::type_name("ws_opened"), x.conn);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_text& x) {
  return f(caf::meta::type_name("ws_text"), x.conn, x.text);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_closed& x) {
  return f(caf::meta::type_name("ws_closed"), x.conn, x.code, x.reason, x.clean);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_failed& x) {
  return f(caf::meta::type_name("ws_failed"), x.conn, x.reason, x.http_status);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response& x) {
  return f(caf::meta::type_name("http_response"), x.request, x.status, x.body, x.error);
}

}  // namespace cb
