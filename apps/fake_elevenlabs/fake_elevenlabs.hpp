// fake-elevenlabs: a protocol-faithful ElevenLabs Conversational AI agent server for tests, the
// load benchmark and the offline demo (protocol: /work/shared/protocols/elevenlabs.md).
//
// One libwebsockets context serves, on one port:
//   GET /v1/convai/conversation/get-signed-url?agent_id=X   (also the legacy /get_signed_url)
//       header xi-api-key; 200 {"signed_url":"ws://<host>/v1/convai/conversation?agent_id=X&
//       conversation_signature=<sig>"}, signatures single-use and valid for signature_ttl.
//   WS  /v1/convai/conversation?agent_id=X[&conversation_signature=...]   (no subprotocol, or
//       "convai"), where the agent's scenario runs (see agent_profile.hpp).
// Everything runs in one service thread. Refusals happen before the upgrade completes, as HTTP
// 403: the real agent endpoint is an ASGI (Python) WebSocket route, and such a route that closes
// before accepting answers the handshake with 403 (a private agent without a valid signature, an
// unknown agent, the refuse scenario).
//
// Records of every conversation are readable from any thread while the server runs and after it
// stopped.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/fake_elevenlabs/agent_profile.hpp"
#include "apps/fake_elevenlabs/conversation_record.hpp"
#include "codecs/expected.hpp"

namespace cb::fake_elevenlabs {

struct server_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, see server::port()
  // Empty: no authentication at all. Otherwise get-signed-url needs it in xi-api-key, and private
  // agents need a signature (or the key in an xi-api-key header on the upgrade request).
  std::string api_key;
  std::vector<agent_profile> agents;  // looked up by agent_id before the id convention
  bool restrict_agents = false;       // true: only registered agents exist
  std::chrono::milliseconds ping_interval{2000};
  std::chrono::milliseconds init_timeout{1000};  // metadata goes out anyway after this
  std::chrono::seconds signature_ttl{15 * 60};
  // One human-readable line per event, called on the service thread; empty: silent. The API key
  // never appears in it.
  std::function<void(std::string_view)> log;
  bool verbose = false;  // also pings, pongs and every audio chunk
  // The agent's audio chunks are paced on this grid of the monotonic clock: each deadline is
  // rounded up to it, so the chunks of all conversations due in one grid step leave in one pass of
  // the service loop (see pacing_grid.hpp). Delays a chunk by less than this; 0: exact deadlines.
  std::chrono::microseconds pacing_grid{1000};
  // When one pass of the service loop handled 8 frames or more (read or written), wait this long
  // before polling again, so that the next poll() returns many ready sockets instead of a few (lws
  // polls every socket on each pass). Measured at 1,000 conversations x 50 chunks/s: 7.3 -> 3.8 us
  // of service-thread time per chunk. Adds at most this much delay to frames, and only under load;
  // 0 turns it off.
  std::chrono::microseconds poll_batching{1000};
};

struct server_counters {
  std::uint64_t connections = 0;  // conversations accepted
  std::uint64_t active = 0;       // conversations open now
  std::uint64_t refused_upgrades = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t signed_urls = 0;
  std::chrono::nanoseconds service_thread_cpu{0};  // CPU time used by the lws service thread
};

class server {
 public:
  server();
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  server(server&&) = delete;
  server& operator=(server&&) = delete;

  // Listens and starts the service thread; returns the port. A server starts once.
  [[nodiscard]] expected<std::uint16_t, std::string> start(server_options options);
  [[nodiscard]] std::uint16_t port() const;
  // Closes every connection (their records say server_stopped) and joins the service thread.
  void stop();

  [[nodiscard]] std::vector<conversation_record> conversations() const;
  // Polls predicate(conversations()) until it holds or the timeout passes.
  [[nodiscard]] bool wait_for(
      const std::function<bool(const std::vector<conversation_record>&)>& predicate,
      std::chrono::milliseconds timeout) const;
  [[nodiscard]] server_counters counters() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cb::fake_elevenlabs
