#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "apps/fake_ami/fake_ami.hpp"
#include "test/peers/fake_ami/ami_test_client.hpp"

namespace {

using namespace std::chrono_literals;
using cb::fake_ami::test::ami_test_client;
namespace ami = cb::ami;

constexpr const char* secret = "s3cr3t-Value";
constexpr const char* uuid = "0c9d3f7e-5a2b-4c1d-9e8f-123456789abc";

// A started server whose log lines are kept for the no-secret check.
// The server is declared last so that it stops, logging, before the log it writes to goes away.
struct fixture {
  std::mutex log_mutex;
  std::vector<std::string> log_lines;
  cb::fake_ami::server server;
  std::uint16_t port = 0;

  explicit fixture(std::chrono::milliseconds originate_delay = 50ms,
                   cb::fake_ami::originate_outcome outcome = {}) {
    cb::fake_ami::options opts;
    opts.username = "bridge";
    opts.secret = secret;
    opts.originate_delay = originate_delay;
    opts.originate_result = outcome;
    opts.log = [this](std::string_view line) {
      const std::lock_guard<std::mutex> lock(log_mutex);
      log_lines.emplace_back(line);
    };
    port = server.start(std::move(opts));
  }

  std::vector<std::string> logs() {
    const std::lock_guard<std::mutex> lock(log_mutex);
    return log_lines;
  }
};

std::string value(const std::optional<ami::message>& m, std::string_view key) {
  if (!m) return "<no message>";
  return std::string(m->get(key).value_or("<absent>"));
}

cb::fake_ami::channel_spec named(std::string name) {
  cb::fake_ami::channel_spec spec;
  spec.name = std::move(name);
  return spec;
}

void logged_in(ami_test_client& client) {
  REQUIRE(client.connected());
  const auto response = client.login("bridge", secret);
  REQUIRE(value(response, "Response") == "Success");
  REQUIRE(client.next_event("FullyBooted", 2s));
}

}  // namespace

TEST_CASE("a client is greeted by the Asterisk 22 banner") {
  fixture f;
  ami_test_client client(f.port);
  REQUIRE(client.connected());
  CHECK(client.banner(2s) == std::optional<std::string>("11.0.0"));
}

TEST_CASE("the right secret logs in and FullyBooted follows") {
  fixture f;
  ami_test_client client(f.port);
  const auto response = client.login("bridge", secret, "42");
  CHECK(value(response, "Response") == "Success");
  CHECK(value(response, "Message") == "Authentication accepted");
  CHECK(value(response, "ActionID") == "42");
  const auto booted = client.next(2s);
  REQUIRE(booted);
  CHECK(booted->is_event("FullyBooted"));
  const auto logins = f.server.logins();
  REQUIRE(logins.size() == 1);
  CHECK(logins[0].success);
  CHECK(logins[0].username == "bridge");
}

TEST_CASE("a wrong secret is refused and the server closes the connection") {
  fixture f;
  ami_test_client client(f.port);
  const auto response = client.login("bridge", "wrong", "7");
  CHECK(value(response, "Response") == "Error");
  CHECK(value(response, "Message") == "Authentication failed");
  CHECK(value(response, "ActionID") == "7");
  CHECK(client.closed_by_server(2s));
  const auto logins = f.server.logins();
  REQUIRE(logins.size() == 1);
  CHECK_FALSE(logins[0].success);
}

TEST_CASE("actions before login are denied") {
  fixture f;
  ami_test_client client(f.port);
  client.send(ami::ping("p1"));
  const auto response = client.response_to("p1", 2s);
  CHECK(value(response, "Response") == "Error");
  CHECK(value(response, "Message") == "Permission denied");
}

TEST_CASE("Ping answers Pong with a timestamp and echoes the ActionID") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  client.send(ami::ping("ping-1"));
  const auto response = client.response_to("ping-1", 2s);
  CHECK(value(response, "Response") == "Success");
  CHECK(value(response, "Ping") == "Pong");
  CHECK(value(response, "Timestamp").find('.') != std::string::npos);
}

TEST_CASE("unknown actions are an error and Logoff says Goodbye and closes") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  client.send(ami::action("Frobnicate", "u1"));
  const auto unknown = client.response_to("u1", 2s);
  CHECK(value(unknown, "Response") == "Error");
  CHECK(value(unknown, "Message") == "Invalid/unknown command");
  client.send(ami::logoff("bye"));
  CHECK(value(client.response_to("bye", 2s), "Response") == "Goodbye");
  CHECK(client.closed_by_server(2s));
}

TEST_CASE("Hangup of an added channel plays the hangup sequence with cause 16") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  auto spec = named("PJSIP/100-00000001");
  spec.uniqueid = "1700000000.1";
  spec.caller_id_num = "100";
  spec.caller_id_name = "Alice";
  f.server.add_channel(spec);
  const auto created = client.next_event("Newchannel", 2s);
  CHECK(value(created, "Channel") == "PJSIP/100-00000001");
  CHECK(value(created, "Uniqueid") == "1700000000.1");
  CHECK(value(created, "CallerIDNum") == "100");
  CHECK(value(created, "ChannelStateDesc") == "Down");
  CHECK(value(client.next_event("Newstate", 2s), "ChannelStateDesc") == "Up");

  client.send(ami::hangup("PJSIP/100-00000001", 16, "h1"));
  const auto response = client.response_to("h1", 2s);
  CHECK(value(response, "Response") == "Success");
  std::vector<std::string> sequence;
  for (int i = 0; i < 3; ++i) {
    const auto event = client.next(2s);
    REQUIRE(event);
    sequence.emplace_back(event->event().value_or(""));
    CHECK(value(event, "Channel") == "PJSIP/100-00000001");
    CHECK(value(event, "Cause") == "16");
    if (event->is_event("Hangup")) CHECK(value(event, "Cause-txt") == "Normal Clearing");
  }
  CHECK(sequence == std::vector<std::string>{"SoftHangupRequest", "HangupRequest", "Hangup"});
  CHECK(f.server.channels().empty());

  client.send(ami::hangup("PJSIP/100-00000001", {}, "h2"));
  const auto again = client.response_to("h2", 2s);
  CHECK(value(again, "Response") == "Error");
  CHECK(value(again, "Message") == "No such channel");
}

TEST_CASE("Hangup with a /regex/ lists and hangs up every matching channel") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  f.server.add_channel(named("PJSIP/100-00000001"));
  f.server.add_channel(named("PJSIP/101-00000002"));
  f.server.add_channel(named("IAX2/100-00000003"));
  client.send(ami::hangup("/^PJSIP/10[01]-/", 16, "hr"));
  const auto ack = client.response_to("hr", 2s);
  CHECK(value(ack, "EventList") == "start");
  const auto complete = client.next_event("ChannelsHungupListComplete", 2s);
  CHECK(value(complete, "ListItems") == "2");
  REQUIRE(f.server.wait_for([&] { return f.server.channels().size() == 1; }, 2s));
  CHECK(f.server.channels() == std::vector<std::string>{"IAX2/100-00000003"});
}

TEST_CASE("hangup_channel from the test emits the sequence with its cause") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  f.server.add_channel(named("PJSIP/200-00000002"));
  CHECK(f.server.hangup_channel("PJSIP/200-00000002", 17));
  const auto hangup = client.next_event("Hangup", 2s);
  CHECK(value(hangup, "Cause") == "17");
  CHECK(value(hangup, "Cause-txt") == "User busy");
  CHECK_FALSE(f.server.hangup_channel("PJSIP/200-00000002"));
}

TEST_CASE("Redirect is answered and recorded with its exact headers") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  f.server.add_channel(named("PJSIP/100-00000001"));
  ami::redirect_fields fields;
  fields.channel = "PJSIP/100-00000001";
  fields.context = "humans";
  fields.exten = "8001";
  fields.priority = "1";
  client.send(ami::redirect(fields, "r1"));
  const auto response = client.response_to("r1", 2s);
  CHECK(value(response, "Response") == "Success");
  CHECK(value(response, "Message") == "Redirect successful");

  const auto redirects = f.server.actions_named("Redirect");
  REQUIRE(redirects.size() == 1);
  const std::vector<std::pair<std::string, std::string>> expected{
      {"Action", "Redirect"}, {"ActionID", "r1"}, {"Channel", "PJSIP/100-00000001"},
      {"Context", "humans"},  {"Exten", "8001"},  {"Priority", "1"}};
  CHECK(redirects[0].message.headers == expected);

  fields.channel = "PJSIP/999-00000009";
  client.send(ami::redirect(fields, "r2"));
  CHECK(value(client.response_to("r2", 2s), "Response") == "Error");
}

TEST_CASE("an async Originate is queued, then answered with the call's events") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  ami::originate_fields fields;
  fields.channel = "Local/5551234@outbound";
  fields.target = ami::dialplan_target{"ai-outbound", "s", "1"};
  fields.variables = {{"CALL_UUID", uuid}, {"AUDIOSOCKET_ADDRESS", "127.0.0.1:5099"}};
  fields.channel_id = "call-1";
  client.send(ami::originate(fields, "o1"));

  const auto queued = client.next(2s);
  CHECK(value(queued, "Response") == "Success");
  CHECK(value(queued, "Message") == "Originate successfully queued");
  CHECK(value(queued, "ActionID") == "o1");

  std::vector<std::string> sequence;
  std::optional<ami::message> response;
  std::optional<ami::message> newexten;
  while (!newexten) {
    auto event = client.next(2s);
    REQUIRE(event);
    sequence.emplace_back(event->event().value_or(""));
    if (event->is_event("OriginateResponse")) response = event;
    if (event->is_event("Newexten")) newexten = event;
  }
  CHECK(sequence == std::vector<std::string>{"Newchannel", "Newchannel", "VarSet", "VarSet",
                                             "DialBegin", "Newstate", "Newstate",
                                             "OriginateResponse", "DialEnd", "Newexten"});
  CHECK(value(response, "ActionID") == "o1");
  CHECK(value(response, "Response") == "Success");
  CHECK(value(response, "Reason") == "4");
  CHECK(value(response, "Uniqueid") == "call-1");
  CHECK(value(newexten, "Application") == "AudioSocket");
  CHECK(value(newexten, "AppData") == std::string(uuid) + ",127.0.0.1:5099");
  CHECK(value(newexten, "Uniqueid") == "call-1");
  CHECK(f.server.channels().size() == 2);
}

TEST_CASE("a failing Originate reports Failure with the configured reason") {
  fixture f(20ms, {false, 5});
  ami_test_client client(f.port);
  logged_in(client);
  ami::originate_fields fields;
  fields.channel = "PJSIP/5551234@trunk";
  fields.target = ami::application_target{"AudioSocket", std::string(uuid) + ",127.0.0.1:5052"};
  fields.channel_id = "call-2";
  client.send(ami::originate(fields, "o2"));
  const auto response = client.next_event("OriginateResponse", 2s);
  CHECK(value(response, "Response") == "Failure");
  CHECK(value(response, "Reason") == "5");
  CHECK(value(response, "ActionID") == "o2");
  CHECK(f.server.channels().empty());
}

TEST_CASE("an added AudioSocket channel announces its uuid, and Getvar reads its variables") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  cb::fake_ami::channel_spec spec;
  spec.name = std::string("AudioSocket/127.0.0.1:5050-") + uuid;
  spec.variables = {{"LEAD_ID", "4711"}, {"CAMPAIGN", "spring"}};
  spec.audiosocket_uuid = uuid;
  spec.audiosocket_address = "127.0.0.1:5050";
  f.server.add_channel(spec);
  const auto varset = client.next_event("VarSet", 2s);
  CHECK(value(varset, "Variable") == "CAMPAIGN");
  const auto newexten = client.next_event("Newexten", 2s);
  CHECK(value(newexten, "AppData") == std::string(uuid) + ",127.0.0.1:5050");

  client.send(ami::getvar(spec.name, "LEAD_ID", "g1"));
  const auto response = client.response_to("g1", 2s);
  CHECK(value(response, "Response") == "Success");
  CHECK(value(response, "Variable") == "LEAD_ID");
  CHECK(value(response, "Value") == "4711");

  client.send(ami::setvar(spec.name, "OUTCOME", "sale", "s1"));
  CHECK(value(client.response_to("s1", 2s), "Response") == "Success");
  client.send(ami::getvar(spec.name, "OUTCOME", "g2"));
  CHECK(value(client.response_to("g2", 2s), "Value") == "sale");

  client.send(ami::getvar("PJSIP/nobody-00000000", "LEAD_ID", "g3"));
  CHECK(value(client.response_to("g3", 2s), "Message") == "No such channel");
}

TEST_CASE("PlayDTMF is acknowledged and recorded") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  f.server.add_channel(named("PJSIP/100-00000001"));
  client.send(ami::play_dtmf("PJSIP/100-00000001", '5', 250ms, "d1"));
  const auto response = client.response_to("d1", 2s);
  CHECK(value(response, "Response") == "Success");
  const auto recorded = f.server.actions_named("PlayDTMF");
  REQUIRE(recorded.size() == 1);
  CHECK(recorded[0].message.get("Digit") == std::optional<std::string_view>("5"));
  CHECK(recorded[0].message.get("Duration") == std::optional<std::string_view>("250"));
}

TEST_CASE("CoreShowChannels lists every live channel") {
  fixture f;
  ami_test_client client(f.port);
  logged_in(client);
  f.server.add_channel(named("PJSIP/100-00000001"));
  f.server.add_channel(named("PJSIP/101-00000002"));
  client.send(ami::core_show_channels("c1"));
  const auto start = client.response_to("c1", 2s);
  CHECK(value(start, "EventList") == "start");
  std::vector<std::string> listed;
  for (;;) {
    const auto event = client.next_matching(
        [](const ami::message& m) {
          return m.action_id() == std::optional<std::string_view>("c1");
        },
        2s);
    REQUIRE(event);
    if (event->is_event("CoreShowChannelsComplete")) {
      CHECK(value(event, "EventList") == "Complete");
      CHECK(value(event, "ListItems") == "2");
      break;
    }
    CHECK(event->is_event("CoreShowChannel"));
    listed.push_back(value(event, "Channel"));
  }
  CHECK(listed == std::vector<std::string>{"PJSIP/100-00000001", "PJSIP/101-00000002"});
}

TEST_CASE("restart disconnects clients, which reconnect and log in again") {
  fixture f;
  ami_test_client first(f.port);
  logged_in(first);
  f.server.add_channel(named("PJSIP/100-00000001"));
  CHECK(f.server.restart() == f.port);
  CHECK(first.closed_by_server(2s));

  ami_test_client second(f.port);
  logged_in(second);
  CHECK(f.server.channels() == std::vector<std::string>{"PJSIP/100-00000001"});
  CHECK(f.server.logins().size() == 2);
}

TEST_CASE("every logged-in client receives the events") {
  fixture f;
  ami_test_client a(f.port);
  ami_test_client b(f.port);
  logged_in(a);
  logged_in(b);
  f.server.emit("Event: Shutdown\r\nShutdown: Cleanly\r\nRestart: False\r\n");
  CHECK(value(a.next_event("Shutdown", 2s), "Shutdown") == "Cleanly");
  CHECK(value(b.next_event("Shutdown", 2s), "Shutdown") == "Cleanly");
  REQUIRE(f.server.wait_for([&] { return f.server.stats().clients_connected == 2; }, 2s));
}

TEST_CASE("the secret appears in no recorded action and no log line") {
  fixture f;
  ami_test_client right(f.port);
  logged_in(right);
  ami_test_client wrong(f.port);
  wrong.login("bridge", std::string(secret) + "-not");
  CHECK(wrong.closed_by_server(2s));
  REQUIRE(f.server.wait_for([&] { return f.server.logins().size() == 2; }, 2s));

  const auto logins = f.server.actions_named("Login");
  REQUIRE(logins.size() == 2);
  for (const auto& recorded : logins) {
    CHECK(recorded.message.get("Secret") == std::optional<std::string_view>("***"));
    for (const auto& [key, header_value] : recorded.message.headers) {
      CHECK(header_value.find(secret) == std::string::npos);
    }
  }
  const auto lines = f.logs();
  CHECK_FALSE(lines.empty());
  for (const auto& line : lines)
    CHECK(line.find(secret) == std::string::npos);
}
