// Every way a call ends: each ends its own call only, closes both sockets, frees everything.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "apps/callsim/call_analysis.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
namespace callsim = cb::callsim;
namespace fake = cb::fake_elevenlabs;

namespace {

// Waits for the call to end on the caller's side (the bridge hangs up).
callsim::call_report run_waiting_call(harness& h, const std::string& agent_id,
                                      std::chrono::milliseconds max_time = 10s) {
  h.config->elevenlabs_agent_id = agent_id;
  auto spec = h.call(0.0, 500ms);
  spec.source = callsim::silence_source{};
  spec.end = callsim::end_mode::wait_for_server;
  spec.max_time = max_time;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  auto report = h.sim.wait(*handle, max_time + 5s);
  REQUIRE(report.has_value());
  return *report;
}

}  // namespace

TEST_CASE("caller hangs up: the agent sees a close frame 1000") {
  harness h;
  auto handle = h.sim.start_call(h.call(700.0, 1000ms));
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].state == fake::close_kind::client_close);
  REQUIRE(conversations[0].client_close.has_value());
  CHECK(conversations[0].client_close->code == 1000);
}

TEST_CASE("agent ends the call: its last words play, then the bridge hangs up") {
  harness h;
  const auto report = run_waiting_call(h, "end_call.pcm_16000.pcm_16000");
  CHECK(report.server_sent_hangup);
  CHECK(report.protocol_violations == 0);
  // The greeting (2 s of 440 Hz) was sent before the end_call; it plays out whole.
  CHECK(callsim::non_silent_ms(report) == Approx(2000.0).margin(60.0));
}

TEST_CASE("the agent service failing ends the call cleanly") {
  for (const std::string agent :
       {"error_1002", "error_1008", "error_1011", "error_quota", "refuse", "stall"}) {
    DYNAMIC_SECTION(agent) {
      cb::test::harness_options options;
      options.metadata_timeout = 1000ms;
      harness h(options);
      const auto started = std::chrono::steady_clock::now();
      const auto report = run_waiting_call(h, agent);
      CHECK(report.server_sent_hangup);
      CHECK(report.protocol_violations == 0);
      // Within the metadata timeout (stall), or at once.
      CHECK(std::chrono::steady_clock::now() - started < 5s);
    }
  }
}

TEST_CASE("a private agent is reached through a signed URL fetched with the API key") {
  cb::test::harness_options options;
  options.agent_api_key = "sk_test_0123456789";
  harness h(options);
  auto handle = h.sim.start_call(h.call(1200.0, 1500ms));
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].signature.has_value());
  CHECK(conversations[0].user_audio.dominant_frequency_hz() == Approx(1200.0).margin(10.0));
}

TEST_CASE("a malformed AudioSocket frame ends that call only") {
  harness h;
  // A healthy call runs alongside.
  auto healthy = h.sim.start_call(h.call(900.0, 2500ms));
  REQUIRE(healthy.has_value());

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(h.shared_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const auto id = cb::audiosocket::make_call_id("6a2b8c1e-0f3d-4e5a-9b7c-1d2e3f4a5b6c");
  const auto uuid = cb::audiosocket::uuid_frame(*id);
  REQUIRE(::send(fd, uuid.data(), uuid.size(), 0) == static_cast<ssize_t>(uuid.size()));
  std::this_thread::sleep_for(200ms);
  const std::uint8_t bad[] = {0x02, 0x00, 0x01, 0x00};  // kind 0x02 does not exist
  REQUIRE(::send(fd, bad, sizeof bad, 0) == static_cast<ssize_t>(sizeof bad));
  // The bridge closes this connection: reads run into EOF (after any frames already sent).
  std::uint8_t buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool closed = false;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }
  ::close(fd);
  CHECK(closed);

  const auto report = h.sim.wait(*healthy, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  const auto conversations = cb::test::closed_conversations(h, 2);
  bool healthy_heard = false;
  for (const auto& conversation : conversations) {
    if (conversation.user_audio.dominant_frequency_hz() > 850.0) {
      healthy_heard = conversation.user_audio.received_ms > 2300.0;
    }
  }
  CHECK(healthy_heard);
}

TEST_CASE("stopping the bridge ends live calls cleanly on both sides") {
  harness h;
  auto spec = h.call(650.0, 10000ms);
  spec.end = callsim::end_mode::after_duration;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  // Wait until the conversation is up, then stop the bridge as SIGTERM does.
  REQUIRE(h.agent.wait_for(
      [](const std::vector<fake::conversation_record>& xs) {
        return !xs.empty() && xs[0].metadata_sent_at.has_value();
      },
      5s));
  std::this_thread::sleep_for(300ms);
  h.bridge_->stop();
  const auto report = h.sim.wait(*handle, 5s);
  REQUIRE(report.has_value());
  CHECK(report->server_sent_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].client_close.has_value());
  CHECK(conversations[0].client_close->code == 1000);
}
