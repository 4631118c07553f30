// The transcoder on a real scheduler, between stand-ins for its call, session and playout.
#include "actors/transcoder.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "actors/bridge.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

std::int64_t ns_ago(std::chrono::milliseconds age) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             (steady_clock::now() - age).time_since_epoch())
      .count();
}

cb::caller_audio frame_received(std::int64_t received_ns) {
  cb::caller_audio audio;
  audio.pcm_le.assign(640, 0);  // 20 ms at 16 kHz
  audio.rate_hz = 16000;
  audio.received_ns = received_ns;
  return audio;
}

// Counts what reaches the agent session; takes and drops what the call and playout get. (An actor
// spawned without arguments trips a null dereference in CAF 0.17 that UBSan reports.)
caf::behavior counting_sink(caf::event_based_actor* self, std::atomic<int>* uplinks) {
  self->set_default_handler(caf::drop);
  return {[uplinks](const cb::agent_uplink&) { ++*uplinks; }};
}

struct transcoder_fixture {
  transcoder_fixture() {
    config.add_message_types<caf::id_block::callbridge>();
    cb::tune_scheduler(config);
    system.emplace(config);
    sink = system->spawn(counting_sink, &uplinks);
    transcoder = system->spawn(cb::transcoder, caf::actor_cast<cb::call_actor>(sink), metrics,
                               caf::actor_cast<cb::playout_actor>(sink), 2000ms);
  }
  ~transcoder_fixture() {
    caf::anon_send_exit(transcoder, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    system->await_all_actors_done();
    system.reset();
  }
  transcoder_fixture(const transcoder_fixture&) = delete;
  transcoder_fixture& operator=(const transcoder_fixture&) = delete;

  void agent_ready() {
    caf::anon_send(transcoder, cb::atom::configure_v, std::string{"pcm_16000"},
                   std::string{"pcm_16000"});
    caf::anon_send(transcoder, cb::atom::attach_v, sink);
  }

  // Waits (bounded) until `count` uplinks arrived, then a little longer for any extra one.
  int uplinks_after_waiting_for(int count) {
    const auto deadline = steady_clock::now() + 5s;
    while (uplinks.load() < count && steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    return uplinks.load();
  }

  caf::actor_system_config config;
  std::optional<caf::actor_system> system;
  std::atomic<int> uplinks{0};
  std::shared_ptr<cb::metrics::call_metrics> metrics =
      cb::metrics::call_metrics::open("transcoder-test");
  caf::actor sink;
  cb::transcoder_actor transcoder;
};

}  // namespace

TEST_CASE("live caller audio that waited over a second for the transcoder is dropped") {
  transcoder_fixture f;
  f.agent_ready();
  caf::anon_send(f.transcoder, frame_received(ns_ago(1500ms)));
  caf::anon_send(f.transcoder, frame_received(ns_ago(0ms)));
  caf::anon_send(f.transcoder, frame_received(ns_ago(900ms)));
  CHECK(f.uplinks_after_waiting_for(2) == 2);
  CHECK(f.metrics->read().frames_in == 3);
  CHECK(f.metrics->read().frames_dropped == 1);
}

TEST_CASE("caller audio held until the agent was ready is sent whatever its age") {
  transcoder_fixture f;
  caf::anon_send(f.transcoder, frame_received(ns_ago(1800ms)));
  caf::anon_send(f.transcoder, frame_received(ns_ago(1200ms)));
  f.agent_ready();
  CHECK(f.uplinks_after_waiting_for(2) == 2);
  CHECK(f.metrics->read().frames_dropped == 0);
}
