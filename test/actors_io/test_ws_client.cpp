#include <libwebsockets.h>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "actors/ws_client.hpp"
#include "test/actors_io/test_servers.hpp"

namespace {

using namespace std::chrono_literals;
using cb::test::raw_tcp_server;
using cb::test::ws_test_server;

using event =
    std::variant<cb::ws_opened, cb::ws_text, cb::ws_closed, cb::ws_failed, cb::http_response>;

std::string describe(const event& e) {
  struct visitor {
    std::string operator()(const cb::ws_opened& x) const {
      return "ws_opened " + std::to_string(x.conn);
    }
    std::string operator()(const cb::ws_text& x) const {
      return "ws_text " + std::to_string(x.conn) + " " + x.text.substr(0, 80);
    }
    std::string operator()(const cb::ws_closed& x) const {
      return "ws_closed " + std::to_string(x.conn) + " " + std::to_string(x.code) + " " + x.reason;
    }
    std::string operator()(const cb::ws_failed& x) const {
      return "ws_failed " + std::to_string(x.conn) + " " + x.reason + " " +
             std::to_string(x.http_status);
    }
    std::string operator()(const cb::http_response& x) const {
      return "http_response " + std::to_string(x.request) + " " + std::to_string(x.status) + " " +
             x.error;
    }
  };
  return std::visit(visitor{}, e);
}

// A real actor system; the scoped actor is the owner of every connection and receives the events.
struct fixture {
  fixture() { lws_set_log_level(LLL_ERR, nullptr); }
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  caf::actor owner() { return caf::actor_cast<caf::actor>(self); }

  std::optional<event> next_event(std::chrono::milliseconds limit = 10s) const {
    std::optional<event> out;
    self->receive([&](cb::ws_opened& x) { out = x; }, [&](cb::ws_text& x) { out = std::move(x); },
                  [&](cb::ws_closed& x) { out = std::move(x); },
                  [&](cb::ws_failed& x) { out = std::move(x); },
                  [&](cb::http_response& x) { out = std::move(x); }, caf::after(limit) >> [] {});
    return out;
  }

  template <class T>
  T expect() {
    auto e = next_event();
    REQUIRE(e.has_value());
    INFO("got " << describe(*e));
    REQUIRE(std::holds_alternative<T>(*e));
    return std::get<T>(std::move(*e));
  }
};

std::string ws_url(std::uint16_t port, const std::string& path = "/") {
  return "ws://127.0.0.1:" + std::to_string(port) + path;
}

// Polls a counter the service thread updates; bounded.
template <class Predicate>
bool eventually(Predicate predicate) {
  for (int i = 0; i < 500; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return predicate();
}

struct temp_dir {
  temp_dir() {
    char pattern[] = "/tmp/ws_client_tests-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&&) = delete;
  temp_dir& operator=(temp_dir&&) = delete;
  std::string path;
};

}  // namespace

TEST_CASE("parse_url splits scheme, host, port and path") {
  auto u = cb::parse_url("wss://api.elevenlabs.io/v1/convai/conversation?agent_id=x#frag");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "api.elevenlabs.io");
  CHECK(u->port == 443);
  CHECK(u->path_and_query == "/v1/convai/conversation?agent_id=x");

  auto plain = cb::parse_url("HTTP://Example.com:8080");
  REQUIRE(plain);
  CHECK_FALSE(plain->tls);
  CHECK(plain->host == "Example.com");
  CHECK(plain->port == 8080);
  CHECK(plain->path_and_query == "/");

  auto query_only = cb::parse_url("ws://h?x=1");
  REQUIRE(query_only);
  CHECK(query_only->port == 80);
  CHECK(query_only->path_and_query == "/?x=1");

  auto v6 = cb::parse_url("https://[::1]:8443/a");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8443);
  CHECK(v6->path_and_query == "/a");
  auto v6_default = cb::parse_url("ws://[fe80::1]/");
  REQUIRE(v6_default);
  CHECK(v6_default->host == "fe80::1");
  CHECK(v6_default->port == 80);
}

TEST_CASE("parse_url rejects what it cannot connect to") {
  for (const char* bad : {"ftp://h/", "h/path", "ws:///path", "ws://h:0/", "ws://h:65536/",
                          "ws://h:12a/", "ws://h:/", "ws://[::1/", "ws://[::1]x/", "ws://user@h/",
                          "ws://h/a b", "ws://h/\r\n", "ws://[zz::1]/"}) {
    INFO(bad);
    CHECK_FALSE(cb::parse_url(bad));
  }
}

TEST_CASE("websocket_url_from_base maps the REST scheme to the WebSocket scheme") {
  CHECK(cb::websocket_url_from_base("https://api.elevenlabs.io") == "wss://api.elevenlabs.io");
  CHECK(cb::websocket_url_from_base("http://127.0.0.1:9000/prefix/") ==
        "ws://127.0.0.1:9000/prefix");
  CHECK(cb::websocket_url_from_base("HTTPS://h") == "wss://h");
  CHECK(cb::websocket_url_from_base("wss://h/") == "wss://h");
}

TEST_CASE("text flows both ways and 1000 messages keep their order") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  CHECK(f.expect<cb::ws_opened>().conn == id);
  for (int i = 0; i < 1000; ++i)
    client.send_text(id, "message " + std::to_string(i));
  for (int i = 0; i < 1000; ++i) {
    auto text = f.expect<cb::ws_text>();
    REQUIRE(text.conn == id);
    REQUIRE(text.text == "message " + std::to_string(i));
  }
  auto s = client.snapshot();
  CHECK(s.open_connections == 1);
  CHECK(s.messages_sent == 1000);
  CHECK(s.messages_received == 1000);
  CHECK(s.bytes_queued == 0);
  CHECK(s.connect_failures == 0);
}

TEST_CASE("a 200 KiB message sent in fragments arrives whole") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  client.send_text(id, "big:204800");
  auto text = f.expect<cb::ws_text>();
  REQUIRE(text.text.size() == 204800);
  bool pattern_intact = true;
  for (std::size_t i = 0; i < text.text.size(); ++i) {
    pattern_intact = pattern_intact && text.text[i] == static_cast<char>('a' + i % 26);
  }
  CHECK(pattern_intact);
  client.send_text(id, "after");
  CHECK(f.expect<cb::ws_text>().text == "after");
}

TEST_CASE("the peer's close code and reason reach the owner") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  client.send_text(id, "close:1002:reason");
  auto closed = f.expect<cb::ws_closed>();
  CHECK(closed.conn == id);
  CHECK(closed.code == 1002);
  CHECK(closed.reason == "reason");
  CHECK(closed.clean);
  CHECK(eventually([&] { return client.snapshot().open_connections == 0; }));
}

TEST_CASE("a local close flushes the queue, sends code and reason, and reports nothing") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  client.send_text(id, "quiet 1");
  client.send_text(id, "quiet 2");
  client.close(id, 1000, "User ended conversation");
  client.send_text(id, "quiet after close is dropped");
  REQUIRE(server.wait_for_closes(1));
  auto closes = server.closes();
  CHECK(closes[0].code == 1000);
  CHECK(closes[0].reason == "User ended conversation");
  CHECK(server.messages_received() == 2);
  REQUIRE(eventually([&] { return client.snapshot().open_connections == 0; }));
  auto late = f.next_event(100ms);
  CHECK_FALSE(late.has_value());
}

TEST_CASE("connecting to a closed port fails") {
  fixture f;
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(cb::test::closed_port()), {}, f.owner());
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == id);
  CHECK_FALSE(failed.reason.empty());
  CHECK(failed.http_status == 0);
  CHECK(client.snapshot().connect_failures == 1);
}

TEST_CASE("an HTTP 403 answer to the upgrade fails with the status") {
  fixture f;
  raw_tcp_server forbidding{
      "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
      "Connection: close\r\n\r\nforbidden"};
  cb::ws_client client;
  client.start();
  auto id = client.connect(ws_url(forbidding.port()), {{"xi-api-key", "sekrit"}}, f.owner());
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == id);
  INFO(failed.reason);
  CHECK(failed.http_status == 403);
}

TEST_CASE("a server that never answers the handshake times out") {
  fixture f;
  raw_tcp_server silent{{}, true};
  cb::ws_client_options options;
  options.connect_timeout = 300ms;
  cb::ws_client client{options};
  client.start();
  auto id = client.connect(ws_url(silent.port()), {}, f.owner());
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == id);
  CHECK(failed.reason == "connect timeout");
  auto request =
      client.http_get("http://127.0.0.1:" + std::to_string(silent.port()) + "/x", {}, f.owner());
  auto response = f.expect<cb::http_response>();
  CHECK(response.request == request);
  CHECK(response.error == "request timeout");
}

TEST_CASE("http_get returns status and body and sends the custom headers") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  auto base = "http://127.0.0.1:" + std::to_string(server.port());
  auto ok_id =
      client.http_get(base + "/signed-url?agent_id=a", {{"xi-api-key", "sekrit"}}, f.owner());
  auto ok = f.expect<cb::http_response>();
  CHECK(ok.request == ok_id);
  CHECK(ok.status == 200);
  CHECK(ok.error.empty());
  CHECK(ok.body == R"({"signed_url":"wss://example.test/v1/convai/conversation?agent_id=a"})");

  client.http_get(base + "/signed-url", {{"xi-api-key", "wrong"}}, f.owner());
  auto denied = f.expect<cb::http_response>();
  CHECK(denied.status == 401);
  CHECK(denied.body == "unauthorized");
  CHECK(denied.error.empty());
  CHECK(server.api_keys_seen() == std::vector<std::string>{"sekrit", "wrong"});

  client.http_get("http://127.0.0.1:" + std::to_string(cb::test::closed_port()) + "/", {},
                  f.owner());
  auto refused = f.expect<cb::http_response>();
  CHECK_FALSE(refused.error.empty());
}

TEST_CASE("bad URLs and headers fail at once") {
  fixture f;
  cb::ws_client client;
  client.start();
  auto id = client.connect("ftp://127.0.0.1/", {}, f.owner());
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == id);
  CHECK(failed.reason.rfind("invalid url", 0) == 0);
  client.connect("ws://127.0.0.1:1/", {{"x-evil", "a\r\nInjected: yes"}}, f.owner());
  CHECK(f.expect<cb::ws_failed>().reason == "invalid header");
  client.http_get("http://127.0.0.1:1/", {{"bad name", "v"}}, f.owner());
  CHECK(f.expect<cb::http_response>().error == "invalid header");
}

TEST_CASE("wss verifies the server certificate against the system store plus ca_file") {
  fixture f;
  temp_dir dir;
  auto [cert, key] = cb::test::make_self_signed_localhost(dir.path);
  cb::test::tls_test_server server{cert, key};
  auto url = "wss://localhost:" + std::to_string(server.port()) + "/";
  {
    cb::ws_client untrusting;
    untrusting.start();
    untrusting.connect(url, {}, f.owner());
    auto failed = f.expect<cb::ws_failed>();
    INFO(failed.reason);
    CHECK(untrusting.snapshot().connect_failures == 1);
  }
  cb::ws_client_options options;
  options.ca_file = cert;
  cb::ws_client trusting{options};
  trusting.start();
  auto id = trusting.connect(url, {}, f.owner());
  CHECK(f.expect<cb::ws_opened>().conn == id);
  auto greeting = f.expect<cb::ws_text>();
  CHECK(greeting.conn == id);
  CHECK(greeting.text == "hello over tls");
  // The server's own frame reader checks the client's framing and masking through TLS, with
  // the 7-, 16- and 64-bit length forms.
  const std::string large(70000, 'x');
  for (const std::string& text : {std::string("over tls"), std::string(300, 'm'), large}) {
    trusting.send_text(id, text);
    auto echo = f.expect<cb::ws_text>();
    CHECK(echo.text.size() == text.size());
    CHECK(echo.text == text);
  }
  trusting.http_get("https://localhost:" + std::to_string(server.port()) + "/signed-url",
                    {{"xi-api-key", "sekrit"}}, f.owner());
  auto response = f.expect<cb::http_response>();
  CHECK(response.status == 200);
  CHECK(response.error.empty());
  CHECK(response.body == R"({"signed_url":"wss://example.test/tls"})");
  trusting.close(id, 1000, "User ended conversation");
  CHECK(eventually([&] { return trusting.snapshot().open_connections == 0; }));
}

TEST_CASE("a peer that stops reading fails the connection once the queue limit is passed") {
  fixture f;
  ws_test_server server;
  cb::ws_client_options options;
  options.max_queued_bytes = std::size_t{256} * 1024;
  cb::ws_client client{options};
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  // Bursts below the limit: a reading peer drains them, so the queue never overflows...
  const std::string chunk = "quiet" + std::string(std::size_t{64} * 1024, 'q');
  for (int burst = 0; burst < 20; ++burst) {
    for (int i = 0; i < 2; ++i)
      client.send_text(id, chunk);
    REQUIRE_FALSE(f.next_event(10ms).has_value());
  }
  // ...until the peer stops reading and the socket buffers fill.
  client.send_text(id, "stall");
  std::optional<event> outcome;
  int bursts = 0;
  while (bursts < 2000 && !outcome) {
    for (int i = 0; i < 2; ++i)
      client.send_text(id, chunk);
    ++bursts;
    outcome = f.next_event(5ms);
  }
  REQUIRE(outcome.has_value());
  INFO(describe(*outcome));
  REQUIRE(std::holds_alternative<cb::ws_failed>(*outcome));
  CHECK(std::get<cb::ws_failed>(*outcome).reason == "send queue overflow");
  // More than the limit went out before the peer's buffers were full.
  CHECK(static_cast<std::size_t>(bursts) * 2 * chunk.size() > options.max_queued_bytes);
  CHECK(eventually([&] { return client.snapshot().bytes_queued == 0; }));
  CHECK(eventually([&] { return client.snapshot().open_connections == 0; }));
}

TEST_CASE("live messages to a peer that stops reading are dropped oldest first, not queued") {
  fixture f;
  ws_test_server server;
  cb::ws_client_options options;
  options.max_queued_bytes = std::size_t{256} * 1024;
  options.max_stream_bytes = std::size_t{16} * 1024;
  options.close_timeout = 300ms;  // the stalled peer never answers the close
  cb::ws_client client{options};
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  client.send_text(id, "stall");
  // Live audio until the socket buffers are full and the queue has stayed at its limit a while.
  const std::string chunk = "audio" + std::string(std::size_t{1000}, 'a');
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int full_for = 0;
  while (full_for < 20 && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 50; ++i)
      client.send_stream(id, chunk);
    std::this_thread::sleep_for(10ms);
    full_for = client.snapshot().bytes_queued > options.max_stream_bytes / 2 ? full_for + 1 : 0;
  }
  REQUIRE(full_for >= 20);
  CHECK(client.snapshot().stream_messages_dropped > 0);
  // The connection lives on, and the backlog stays within the stream limit.
  CHECK_FALSE(f.next_event(100ms).has_value());
  CHECK(client.snapshot().bytes_queued <= options.max_stream_bytes);
  CHECK(client.snapshot().open_connections == 1);
  client.close(id, 1000, "done");
  CHECK(eventually([&] { return client.snapshot().open_connections == 0; }));
}

TEST_CASE("a burst of live messages loses its oldest, never the messages around it") {
  fixture f;
  ws_test_server server;  // echoes every message
  cb::ws_client_options options;
  options.max_stream_bytes = std::size_t{8} * 1024;
  cb::ws_client client{options};
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  const std::string chunk = "audio" + std::string(std::size_t{1000}, 'a');
  constexpr int chunks = 2000;
  client.send_text(id, "first");
  for (int i = 0; i < chunks; ++i)
    client.send_stream(id, chunk);
  client.send_text(id, "last");
  std::vector<std::string> controls;
  int echoed_chunks = 0;
  while (controls.size() < 2) {
    auto e = f.next_event(5s);
    REQUIRE(e.has_value());
    REQUIRE(std::holds_alternative<cb::ws_text>(*e));
    auto& text = std::get<cb::ws_text>(*e).text;
    if (text == chunk) {
      ++echoed_chunks;
    } else {
      controls.push_back(text);
    }
  }
  CHECK(controls == std::vector<std::string>{"first", "last"});
  CHECK(client.snapshot().stream_messages_dropped > 0);
  CHECK(echoed_chunks + static_cast<int>(client.snapshot().stream_messages_dropped) == chunks);
  client.close(id, 1000, "done");
}

TEST_CASE("a message over max_message_bytes fails the connection") {
  fixture f;
  ws_test_server server;
  cb::ws_client_options options;
  options.max_message_bytes = 4096;
  cb::ws_client client{options};
  client.start();
  auto id = client.connect(ws_url(server.port()), {}, f.owner());
  f.expect<cb::ws_opened>();
  client.send_text(id, "big:4096");
  CHECK(f.expect<cb::ws_text>().text.size() == 4096);
  client.send_text(id, "big:4097");
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == id);
  CHECK(failed.reason == "message too large");
  CHECK(eventually([&] { return client.snapshot().open_connections == 0; }));
}

TEST_CASE("start fails on an unreadable ca_file") {
  cb::ws_client_options options;
  options.ca_file = "/nonexistent/ca.pem";
  cb::ws_client client{options};
  CHECK_THROWS_AS(client.start(), std::runtime_error);
}

TEST_CASE("stop closes open connections with 1001 and tells their owners") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  std::set<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.insert(client.connect(ws_url(server.port()), {}, f.owner()));
  for (int i = 0; i < 3; ++i)
    f.expect<cb::ws_opened>();
  client.stop();
  std::set<std::uint64_t> closed;
  for (int i = 0; i < 3; ++i) {
    auto c = f.expect<cb::ws_closed>();
    CHECK(c.code == 1001);
    CHECK_FALSE(c.clean);
    closed.insert(c.conn);
  }
  CHECK(closed == ids);
  REQUIRE(server.wait_for_closes(3));
  for (const auto& c : server.closes())
    CHECK(c.code == 1001);
  auto after = client.connect(ws_url(server.port()), {}, f.owner());
  auto failed = f.expect<cb::ws_failed>();
  CHECK(failed.conn == after);
  CHECK(failed.reason == "client stopped");
}

TEST_CASE("200 concurrent connections each exchange messages in order") {
  fixture f;
  ws_test_server server;
  cb::ws_client client;
  client.start();
  constexpr int connections = 200;
  constexpr int per_connection = 10;
  std::set<std::uint64_t> ids;
  for (int i = 0; i < connections; ++i) {
    ids.insert(client.connect(ws_url(server.port()), {}, f.owner()));
  }
  // Echoes of early connections interleave with the opening of later ones.
  std::map<std::uint64_t, int> next;
  int opened = 0;
  int texts = 0;
  while (opened < connections || texts < connections * per_connection) {
    auto e = f.next_event();
    REQUIRE(e.has_value());
    INFO("got " << describe(*e));
    if (auto* open = std::get_if<cb::ws_opened>(&*e)) {
      REQUIRE(ids.count(open->conn) == 1);
      ++opened;
      for (int k = 0; k < per_connection; ++k) {
        client.send_text(open->conn, std::to_string(open->conn) + ":" + std::to_string(k));
      }
    } else {
      auto* text = std::get_if<cb::ws_text>(&*e);
      REQUIRE(text != nullptr);
      auto& k = next[text->conn];
      REQUIRE(text->text == std::to_string(text->conn) + ":" + std::to_string(k));
      ++k;
      ++texts;
    }
  }
  CHECK(next.size() == static_cast<std::size_t>(connections));
  auto s = client.snapshot();
  CHECK(s.open_connections == static_cast<std::uint64_t>(connections));
  CHECK(s.messages_received == static_cast<std::uint64_t>(connections * per_connection));
}
