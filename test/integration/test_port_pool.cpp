// The legacy port pool: prepared calls get distinct ports, a full pool refuses, ports come back.
#include <catch2/catch.hpp>

#include <caf/scoped_actor.hpp>

#include <cmath>
#include <set>
#include <thread>

#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
namespace callsim = cb::callsim;

namespace {

// Each test case has its own range (ctest runs them in parallel), below Linux's ephemeral
// range (32768-60999) so outgoing connections never hold them.
constexpr std::uint16_t pool_size = 4;

cb::expected<cb::prepared_call, std::string> prepare(harness& h, const std::string& agent) {
  caf::scoped_actor self{*h.system};
  cb::call_context context;
  context.agent_id = agent;
  cb::expected<cb::prepared_call, std::string> result = cb::unexpected<std::string>{"no answer"};
  self->request(h.bridge_->registry(), 5s, cb::atom::prepare_v, context, true)
      .receive([&](cb::prepared_call& call) { result = std::move(call); },
               [&](caf::error& err) { result = cb::unexpected<std::string>{cb::describe(err)}; });
  return result;
}

std::pair<std::uint32_t, std::uint32_t> pool_usage(harness& h) {
  caf::scoped_actor self{*h.system};
  std::pair<std::uint32_t, std::uint32_t> usage{0, 0};
  self->request(h.bridge_->ports(), 5s, cb::atom::stats_v)
      .receive(
          [&](std::uint32_t leased, std::uint32_t total) {
            usage = {leased, total};
          },
          [](caf::error&) {});
  return usage;
}

bool wait_for_leases(harness& h, std::uint32_t leased) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pool_usage(h).first == leased) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

cb::test::harness_options pool_options(std::uint16_t first) {
  cb::test::harness_options options;
  options.pool_first = first;
  options.pool_last = static_cast<std::uint16_t>(first + pool_size - 1);
  options.prepared_call_timeout = 1000ms;
  return options;
}

}  // namespace

TEST_CASE("prepared calls get distinct pool ports and a full pool refuses clearly") {
  constexpr std::uint16_t pool_first = 27052;
  harness h(pool_options(pool_first));
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 4; ++i) {
    const auto call = prepare(h, "tone.pcm_16000.pcm_16000");
    REQUIRE(call.has_value());
    CHECK(call->port >= pool_first);
    CHECK(call->port < pool_first + pool_size);
    ports.insert(call->port);
  }
  CHECK(ports.size() == 4);
  const auto refused = prepare(h, "tone.pcm_16000.pcm_16000");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().find("pool") != std::string::npos);
  // Asterisk never connected: every lease expires.
  CHECK(wait_for_leases(h, 0));
  CHECK(prepare(h, "tone.pcm_16000.pcm_16000").has_value());
}

TEST_CASE("a prepared call on its pool port runs with its own agent and frees the port") {
  harness h(pool_options(27062));
  const auto prepared = prepare(h, "tone.pcm_16000.pcm_16000");
  REQUIRE(prepared.has_value());
  auto spec = h.call(600.0, 1500ms);
  spec.port = prepared->port;
  spec.id = prepared->uuid;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].agent_id == "tone.pcm_16000.pcm_16000");
  CHECK(wait_for_leases(h, 0));
}

TEST_CASE("pool ports come back after the agent fails or ends the call") {
  harness h(pool_options(27072));
  for (const std::string agent : {"end_call.pcm_16000.pcm_16000", "error_1011", "refuse"}) {
    const auto prepared = prepare(h, agent);
    REQUIRE(prepared.has_value());
    auto spec = h.call(0.0, 300ms);
    spec.source = callsim::silence_source{};
    spec.end = callsim::end_mode::wait_for_server;
    spec.max_time = 10s;
    spec.port = prepared->port;
    spec.id = prepared->uuid;
    auto handle = h.sim.start_call(spec);
    REQUIRE(handle.has_value());
    const auto report = h.sim.wait(*handle, 15s);
    REQUIRE(report.has_value());
    CHECK(report->server_sent_hangup);
  }
  CHECK(wait_for_leases(h, 0));
}

TEST_CASE("calls on a port bound to an agent each get their own tree with the seat's settings") {
  auto options = pool_options(27082);
  cb::port_binding seat;
  seat.port = 27083;
  seat.agent_id = "tone.ulaw_8000.ulaw_8000";
  seat.dynamic_variables["seat"] = std::string("ai-3");
  seat.dynamic_variables["campaign"] = std::int64_t{42};
  options.port_bindings.push_back(seat);
  harness h(options);
  std::vector<callsim::call_handle> handles;
  for (const double hz : {500.0, 1300.0}) {
    auto spec = h.call(hz, 1500ms);
    spec.port = seat.port;
    auto handle = h.sim.start_call(spec);
    REQUIRE(handle.has_value());
    handles.push_back(*handle);
  }
  for (const auto handle : handles) {
    const auto report = h.sim.wait(handle, 10s);
    REQUIRE(report.has_value());
    CHECK(report->end == callsim::call_end::caller_hangup);
  }
  const auto conversations = cb::test::closed_conversations(h, 2);
  REQUIRE(conversations.size() == 2);
  std::set<long> heard;
  for (const auto& conversation : conversations) {
    CHECK(conversation.agent_id == seat.agent_id);
    REQUIRE(conversation.init.has_value());
    REQUIRE(conversation.init->dynamic_variables.has_value());
    CHECK(*conversation.init->dynamic_variables == seat.dynamic_variables);
    heard.insert(std::lround(conversation.user_audio.dominant_frequency_hz() / 100.0) * 100);
  }
  CHECK(heard == std::set<long>{500, 1300});
}
