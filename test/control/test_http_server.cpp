// The libwebsockets server alone, with a recording owner: bounded per-client queues.
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "actors/control/http_server.hpp"
#include "test/control/api_client.hpp"

using namespace cb::test;
using cb::control::http_server;

namespace {

// What the owner actor saw, for the test thread to wait on.
struct owner_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::uint64_t> connected;

  std::optional<std::uint64_t> wait_connected(std::size_t n) {
    std::unique_lock<std::mutex> lock{mtx};
    if (!cv.wait_for(lock, io_timeout, [&] { return connected.size() >= n; })) return std::nullopt;
    return connected[n - 1];
  }
};

caf::behavior owner(caf::event_based_actor*, std::shared_ptr<owner_log> seen) {
  return {
      [seen](const cb::control::ws_connected& event) {
        std::lock_guard<std::mutex> guard{seen->mtx};
        seen->connected.push_back(event.conn);
        seen->cv.notify_all();
      },
      [](const cb::control::ws_received&) {},
      [](const cb::control::ws_disconnected&) {},
  };
}

}  // namespace

TEST_CASE("a client that does not read loses stream messages, not the server's memory",
          "[control]") {
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto seen = std::make_shared<owner_log>();
  auto recorder = system.spawn(owner, seen);
  cb::control::http_server_options options;
  options.bind = "127.0.0.1";
  options.max_client_queue = 64 * 1024;
  http_server server(options);
  const auto port = server.start(caf::actor_cast<caf::actor>(recorder));
  REQUIRE(port.has_value());

  ws_client slow(*port);
  REQUIRE(slow.handshake_status() == 101);
  const auto conn = seen->wait_connected(1);
  REQUIRE(conn.has_value());
  cb::control::subscription events;
  events.streams[static_cast<std::size_t>(cb::api::stream::events)] = true;
  server.subscribe(*conn, events);
  // The subscription is applied once the service thread got to it: a reply queued after it
  // arrives after it.
  server.send(*conn, "subscribed");
  REQUIRE(slow.next() == "subscribed");
  CHECK(server.has_subscribers(cb::api::stream::events));

  // 64 MiB offered to a client that reads nothing: far beyond the socket buffers and the queue.
  const std::string chunk(16 * 1024, 'x');
  const std::size_t offered = 4096;
  for (std::size_t i = 0; i < offered; ++i)
    server.publish(cb::api::stream::events, "c1",
                   "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + chunk + "\"}");
  server.send(*conn, "after the flood");

  REQUIRE(slow.next_containing("after the flood", std::chrono::seconds(20)).has_value());
  // Drops since the last notice are reported with the next stream message that fits.
  server.publish(cb::api::stream::events, "c1", "{\"n\":\"last\"}");
  REQUIRE(slow.next_containing("{\"n\":\"last\"}").has_value());

  const auto stats = server.snapshot();
  CHECK(stats.stream_messages_dropped > 0);
  CHECK(stats.clients_dropped == 0);
  std::size_t delivered = 0;
  long previous = -1;
  bool in_order = true;
  std::uint64_t reported = 0;
  const std::string notice = "{\"type\":\"dropped\",\"count\":";
  for (const auto& message : slow.received()) {
    if (message.rfind("{\"n\":", 0) == 0 && message != "{\"n\":\"last\"}") {
      ++delivered;
      const long n = std::stol(message.substr(5));
      in_order = in_order && n > previous;
      previous = n;
    }
    if (message.rfind(notice, 0) == 0) reported += std::stoull(message.substr(notice.size()));
  }
  // Every message offered either reached the client, in order, or was reported as dropped.
  CHECK(in_order);
  CHECK(delivered < offered);
  CHECK(delivered + stats.stream_messages_dropped == offered);
  CHECK(reported == stats.stream_messages_dropped);

  server.stop();
  caf::anon_send_exit(recorder, caf::exit_reason::user_shutdown);
}
