// The control API under test: a real actor system, the real control_api actor and server on an
// ephemeral loopback port, and small fake services (registry, AMI client, call store, port
// allocator) that answer with canned values and record what they were asked.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "actors/control/control_api.hpp"
#include "test/control/api_client.hpp"

namespace cb::test {

// Marker strings for every secret: no answer or stream message may ever contain one.
inline constexpr std::string_view api_token = "TOKEN-MARKER-7f3a91";
inline constexpr std::string_view elevenlabs_key = "XI-KEY-MARKER-19bd44";
inline constexpr std::string_view ami_secret = "AMI-PASS-MARKER-c0de55";
inline constexpr std::string_view webhook_secret = "WEBHOOK-MARKER-a1b2c3";

// What the fakes were asked.
struct recorded {
  std::vector<std::pair<call_context, bool>> prepared;
  std::vector<originate_request> originated;
  std::vector<std::pair<std::string, call_context>> redirected;
  std::vector<std::pair<std::string, transfer_request>> transfers;
  std::vector<std::string> ended;
  std::vector<std::tuple<std::string, std::string, std::string>> said;
  std::vector<history_query> history_queries;
  std::vector<store_record> stored;
};

class recorder {
 public:
  template <class F>
  auto with(F&& f) {
    std::lock_guard<std::mutex> guard{mtx_};
    cv_.notify_all();
    return f(data_);
  }

  // For what a fake records after the API answered (messages without a reply): true once `done`
  // holds, false if it does not within io_timeout.
  template <class Predicate>
  bool wait_for(Predicate&& done) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, io_timeout, [&] { return done(data_); });
  }

 private:
  std::mutex mtx_;
  std::condition_variable cv_;
  recorded data_;
};

// An error as the bridge's actors answer with (category "callbridge", detail as context).
caf::error bridge_error(bridge_errc code, std::string detail);

struct fixture_options {
  bool with_ami = true;
  ami_link_state ami_state = ami_link_state::connected;
  bool with_store = true;
  bool with_ports = true;
  // The AMI client, store and port allocator present but never answering (a stalled service).
  bool silent_services = false;
  bool with_token = true;
  bool shared_port = true;
  std::size_t max_body = 4096;
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::uint16_t> audiosocket_ports = {5050};
};

struct fixture {
  explicit fixture(fixture_options options = {});
  ~fixture();
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  [[nodiscard]] std::uint16_t port() const { return api.port; }
  [[nodiscard]] headers auth() const {
    return {{"Authorization", "Bearer " + std::string(api_token)}};
  }
  // An authenticated request.
  http_answer call(std::string_view method, std::string_view target, std::string_view body = {},
                   const headers& extra = {}) const;
  // A WebSocket client authenticated by header.
  std::unique_ptr<ws_client> websocket();

  caf::actor_system_config caf_config;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<recorder> record = std::make_shared<recorder>();
  std::shared_ptr<settings> config = std::make_shared<settings>();
  std::vector<caf::actor> fakes;
  running_control_api api;
  bool tls = false;
};

// The JSON text of the value at `path` (member names and array indexes) in `json`, or "<absent>"
// / "<invalid json>".
struct json_step {
  json_step(const char* member) : name(member) {}  // NOLINT: implicit by design
  json_step(int element) : index(element) {}       // NOLINT: implicit by design
  std::string_view name;
  int index = -1;
};
std::string json_at(const std::string& json, std::initializer_list<json_step> path);
// The member names of the object at `path`, in order.
std::vector<std::string> json_keys(const std::string& json, std::initializer_list<json_step> path);

}  // namespace cb::test
