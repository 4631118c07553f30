// Calls with AMI: the bridge between the call simulator, the fake agent and the fake Asterisk
// manager, all on loopback. The simulator plays the AudioSocket side of the channels fake-ami
// announces, as Asterisk's dialplan would.
#include <catch2/catch.hpp>

#include <caf/scoped_actor.hpp>

#include <mutex>
#include <thread>

#include "actors/log.hpp"
#include "apps/fake_elevenlabs/agent_profile.hpp"
#include "test/integration/harness.hpp"

using namespace std::chrono_literals;
using cb::test::harness;
using cb::test::harness_options;
namespace callsim = cb::callsim;
namespace fake = cb::fake_elevenlabs;

namespace {

constexpr const char* uuid_a = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f";

harness_options ami_options() {
  harness_options options;
  options.ami = true;
  return options;
}

// An Asterisk channel running AudioSocket(<uuid>,<bridge>) with the dialplan's variables set.
std::string add_ai_channel(harness& h, const std::string& uuid,
                           std::map<std::string, std::string> variables = {}) {
  cb::fake_ami::channel_spec channel;
  channel.name = "PJSIP/trunk-00000001";
  channel.caller_id_num = "+4930555123";
  channel.exten = "800";
  channel.context = "from-pstn";
  channel.variables = std::move(variables);
  channel.variables["CALL_UUID"] = uuid;
  channel.audiosocket_uuid = uuid;
  channel.audiosocket_address = "127.0.0.1:" + std::to_string(h.shared_port());
  h.ami.add_channel(channel);
  return channel.name;
}

bool ami_connected(harness& h) {
  caf::scoped_actor self{*h.system};
  bool connected = false;
  self->request(h.bridge_->ami(), 2s, cb::atom::status_v)
      .receive(
          [&](const cb::ami_status& s) { connected = s.state == cb::ami_link_state::connected; },
          [](caf::error&) {});
  return connected;
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

std::vector<cb::fake_ami::recorded_action> wait_for_action(harness& h, const std::string& name,
                                                           std::size_t count = 1) {
  h.ami.wait_for([&] { return h.ami.actions_named(name).size() >= count; }, 10s);
  return h.ami.actions_named(name);
}

fake::agent_profile tool_agent(const std::string& id, const std::string& tool,
                               const std::string& parameters) {
  auto profile = fake::make_profile(id, fake::scenario_kind::client_tool);
  profile.tool_name = tool;
  auto parsed = cb::elevenlabs::json_object::parse(parameters);
  REQUIRE(parsed);
  profile.tool_parameters = *parsed;
  return profile;
}

}  // namespace

TEST_CASE("AMI links a call to its channel and the agent gets the channel's variables") {
  auto options = ami_options();
  options.configure = [](cb::settings& s) {
    s.ami_channel_variables = {{"lead_id", "lead_id"}, {"FIRST_NAME", "first_name"}};
  };
  harness h(options);
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  add_ai_channel(h, uuid_a, {{"lead_id", "1042"}, {"FIRST_NAME", "Ann"}});
  auto spec = h.call(700.0, 1500ms);
  spec.id = uuid_a;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].init.has_value());
  REQUIRE(conversations[0].init->dynamic_variables.has_value());
  const auto& variables = *conversations[0].init->dynamic_variables;
  CHECK(std::get<std::string>(variables.at("lead_id")) == "1042");
  CHECK(std::get<std::string>(variables.at("first_name")) == "Ann");
  CHECK(std::get<std::string>(variables.at("caller_id")) == "+4930555123");
  CHECK(std::get<std::string>(variables.at("called_number")) == "800");
  // The caller hung up (AudioSocket EOF): the bridge leaves the channel alone.
  std::this_thread::sleep_for(200ms);
  CHECK(h.ami.actions_named("Hangup").empty());
}

TEST_CASE("the channel hanging up in Asterisk ends the call") {
  harness h(ami_options());
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  const auto channel = add_ai_channel(h, uuid_a);
  auto spec = h.call(700.0, 20s);
  spec.id = uuid_a;
  spec.end = callsim::end_mode::wait_for_server;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  std::this_thread::sleep_for(800ms);
  REQUIRE(h.ami.hangup_channel(channel, 16));
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::server_hangup);
  CHECK(report->ended_ns - report->connecting_ns < 5'000'000'000);
  CHECK(h.ami.actions_named("Hangup").empty());
}

TEST_CASE("the agent ending the call hangs the channel up with cause 16") {
  harness h(ami_options());
  h.config->elevenlabs_agent_id = "end_call.pcm_16000.pcm_16000";
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  const auto channel = add_ai_channel(h, uuid_a);
  auto spec = h.call(0.0, 20s);
  spec.source = callsim::silence_source{};
  spec.id = uuid_a;
  spec.end = callsim::end_mode::wait_for_server;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto hangups = wait_for_action(h, "Hangup");
  REQUIRE(hangups.size() == 1);
  CHECK(hangups[0].message.get("Channel") == std::optional<std::string_view>(channel));
  CHECK(hangups[0].message.get("Cause") == std::optional<std::string_view>("16"));
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
}

TEST_CASE("transfer_call redirects the channel with the exact headers and ends the AI leg") {
  auto options = ami_options();
  options.agents = {tool_agent("transfer_agent", "transfer_call", R"({"destination":"2000"})")};
  harness h(options);
  h.config->elevenlabs_agent_id = "transfer_agent";
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  const auto channel = add_ai_channel(h, uuid_a);
  auto spec = h.call(0.0, 20s);
  spec.source = callsim::silence_source{};
  spec.id = uuid_a;
  spec.end = callsim::end_mode::wait_for_server;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto redirects = wait_for_action(h, "Redirect");
  REQUIRE(redirects.size() == 1);
  const auto& headers = redirects[0].message.headers;
  REQUIRE(headers.size() == 6);
  CHECK(headers[0] == std::pair<std::string, std::string>{"Action", "Redirect"});
  CHECK(headers[1].first == "ActionID");
  CHECK(headers[2] == std::pair<std::string, std::string>{"Channel", channel});
  CHECK(headers[3] == std::pair<std::string, std::string>{"Context", "from-internal"});
  CHECK(headers[4] == std::pair<std::string, std::string>{"Exten", "2000"});
  CHECK(headers[5] == std::pair<std::string, std::string>{"Priority", "1"});
  // The AI leg ends: the socket closes, and the channel is not hung up.
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::server_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].tool_results.size() == 1);
  CHECK_FALSE(conversations[0].tool_results[0].result.is_error);
  CHECK(conversations[0].tool_results[0].result.result.find("from-internal,2000,1") !=
        std::string::npos);
  CHECK(h.ami.actions_named("Hangup").empty());
}

TEST_CASE("a transfer target outside the dialplan's alphabet is refused, the call goes on") {
  auto options = ami_options();
  options.agents = {
      tool_agent("bad_transfer", "transfer_call", R"({"destination":"2000,1\r\nAction: Hangup"})")};
  harness h(options);
  h.config->elevenlabs_agent_id = "bad_transfer";
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  add_ai_channel(h, uuid_a);
  auto spec = h.call(0.0, 3s);
  spec.source = callsim::silence_source{};
  spec.id = uuid_a;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].tool_results.size() == 1);
  CHECK(conversations[0].tool_results[0].result.is_error);
  CHECK(conversations[0].tool_results[0].result.result.find("unsafe_value") != std::string::npos);
  CHECK(h.ami.actions_named("Redirect").empty());
}

TEST_CASE("send_dtmf plays each digit on the channel") {
  auto options = ami_options();
  options.agents = {tool_agent("dtmf_agent", "send_dtmf", R"({"digits":"12#"})")};
  harness h(options);
  h.config->elevenlabs_agent_id = "dtmf_agent";
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  const auto channel = add_ai_channel(h, uuid_a);
  auto spec = h.call(0.0, 3s);
  spec.source = callsim::silence_source{};
  spec.id = uuid_a;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto digits = wait_for_action(h, "PlayDTMF", 3);
  REQUIRE(digits.size() == 3);
  std::string played;
  for (const auto& action : digits) {
    CHECK(action.message.get("Channel") == std::optional<std::string_view>(channel));
    played += std::string(action.message.get("Digit").value_or("?"));
  }
  CHECK(played == "12#");
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].tool_results.size() == 1);
  CHECK_FALSE(conversations[0].tool_results[0].result.is_error);
}

TEST_CASE("tools that need AMI answer is_error when AMI is not configured") {
  harness_options options;
  options.agents = {tool_agent("no_ami_transfer", "transfer_call", R"({"destination":"2000"})")};
  harness h(options);
  h.config->elevenlabs_agent_id = "no_ami_transfer";
  auto spec = h.call(0.0, 2500ms);
  spec.source = callsim::silence_source{};
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  REQUIRE(conversations[0].tool_results.size() == 1);
  CHECK(conversations[0].tool_results[0].result.is_error);
  CHECK(conversations[0].tool_results[0].result.result.find("AMI") != std::string::npos);
}

TEST_CASE("an originated call arrives on the UUID the bridge prepared, with its agent") {
  harness h(ami_options());
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  cb::originate_request request;
  request.number = "5551234";
  request.context.agent_id = "echo.pcm_16000.pcm_16000";
  request.context.dynamic_variables = {{"campaign", std::string("spring")}};
  caf::scoped_actor self{*h.system};
  std::optional<cb::prepared_call> prepared;
  self->request(h.bridge_->registry(), 10s, cb::atom::originate_v, request)
      .receive([&](cb::prepared_call& call) { prepared = call; },
               [](caf::error& e) { FAIL(cb::describe(e)); });
  REQUIRE(prepared.has_value());
  const auto originates = h.ami.actions_named("Originate");
  REQUIRE(originates.size() == 1);
  const auto& originate = originates[0].message;
  CHECK(originate.get("Channel") == std::optional<std::string_view>("Local/5551234@from-internal"));
  CHECK(originate.get("Context") == std::optional<std::string_view>("callbridge-ai"));
  CHECK(originate.get("Exten") == std::optional<std::string_view>("s"));
  CHECK(originate.get("Async") == std::optional<std::string_view>("true"));
  const auto variables = originate.get_all("Variable");
  const auto address = "127.0.0.1:" + std::to_string(h.shared_port());
  CHECK(std::find(variables.begin(), variables.end(), "CALL_UUID=" + prepared->uuid) !=
        variables.end());
  CHECK(std::find(variables.begin(), variables.end(), "AUDIOSOCKET_ADDRESS=" + address) !=
        variables.end());
  // Asterisk's dialplan now connects with that UUID: the prepared agent takes the call.
  auto spec = h.call(900.0, 1500ms);
  spec.id = prepared->uuid;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  REQUIRE(h.sim.wait(*handle, 10s).has_value());
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  CHECK(conversations[0].agent_id == "echo.pcm_16000.pcm_16000");
  REQUIRE(conversations[0].init.has_value());
  CHECK(std::get<std::string>(conversations[0].init->dynamic_variables->at("campaign")) ==
        "spring");
}

TEST_CASE("a failed originate is an error naming Asterisk's reason") {
  harness h(ami_options());
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  h.ami.stop();
  cb::fake_ami::options busy;
  busy.port = h.config->asterisk_port;
  busy.secret = "ami-secret-for-tests";
  busy.originate_delay = 50ms;
  busy.originate_result = {false, 5};
  REQUIRE(wait_until([&] { return !ami_connected(h); }, 5s));
  h.ami.start(busy);
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  cb::originate_request request;
  request.number = "5551234";
  caf::scoped_actor self{*h.system};
  std::string error;
  self->request(h.bridge_->registry(), 10s, cb::atom::originate_v, request)
      .receive([&](cb::prepared_call&) {}, [&](caf::error& e) { error = cb::describe(e); });
  INFO(error);
  CHECK(error.find("busy") != std::string::npos);
}

TEST_CASE("AMI restarting mid-call leaves the audio alone and the link comes back") {
  harness h(ami_options());
  REQUIRE(wait_until([&] { return ami_connected(h); }, 5s));
  add_ai_channel(h, uuid_a);
  auto spec = h.call(700.0, 3000ms);
  spec.id = uuid_a;
  auto handle = h.sim.start_call(spec);
  REQUIRE(handle.has_value());
  std::this_thread::sleep_for(500ms);
  h.ami.stop();
  REQUIRE(wait_until([&] { return !ami_connected(h); }, 5s));
  std::this_thread::sleep_for(300ms);
  h.ami.restart();
  CHECK(wait_until([&] { return ami_connected(h); }, 5s));
  const auto report = h.sim.wait(*handle, 10s);
  REQUIRE(report.has_value());
  CHECK(report->end == callsim::call_end::caller_hangup);
  const auto conversations = cb::test::closed_conversations(h, 1);
  REQUIRE(conversations.size() == 1);
  // Every caller frame reached the agent across the outage.
  CHECK(conversations[0].user_audio.received_ms == Approx(3000.0).margin(60.0));
  // The resynchronisation after the second login listed the channels.
  CHECK(wait_until([&] { return h.ami.actions_named("CoreShowChannels").size() >= 2; }, 5s));
}

TEST_CASE("the AMI secret appears in no log line, through a failed and a good login") {
  std::mutex mutex;
  std::vector<std::string> lines;
  const auto sink = cb::log::add_sink([&](const cb::log::record& r) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.emplace_back(r.message);
  });
  auto options = ami_options();
  options.configure = [](cb::settings& s) { s.asterisk_pass = "wrong-secret-value"; };
  options.redact_secrets = false;
  {
    harness h(options);
    REQUIRE(wait_until([&] { return !h.ami.logins().empty(); }, 5s));
    CHECK_FALSE(h.ami.logins().front().success);
    CHECK_FALSE(ami_connected(h));
  }
  cb::log::remove_sink(sink);
  std::lock_guard<std::mutex> lock(mutex);
  REQUIRE_FALSE(lines.empty());
  bool failure_logged = false;
  for (const auto& line : lines) {
    CHECK(line.find("wrong-secret-value") == std::string::npos);
    CHECK(line.find("ami-secret-for-tests") == std::string::npos);
    failure_logged = failure_logged || line.find("uthentication failed") != std::string::npos;
  }
  CHECK(failure_logged);
}
