#include <catch2/catch.hpp>

#include <unistd.h>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "actors/ami/ami_client.hpp"
#include "actors/log.hpp"
#include "apps/fake_ami/fake_ami.hpp"
#include "test/ami/ami_test_peers.hpp"

using namespace std::chrono_literals;

namespace {

using cb::ami_link_state;
namespace fake_ami = cb::fake_ami;
namespace ami = cb::ami;

constexpr auto wait_limit = 5s;
const std::string the_secret = "s3cret-never-logged-7f2a";
const std::string uuid_a = "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60";
const std::string uuid_b = "5b0d8c1e-7a51-4c3e-b1f0-9e8d7c6b5a40";
const std::string uuid_c = "9a1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d";

struct log_line {
  cb::log_level level;
  std::string component;
  std::string message;
};

// Every log record, at every level, with no secret configured for redaction: a secret that
// reached the logger would show here as it is.
class log_capture {
 public:
  log_capture() {
    cb::log::configure(cb::log_level::trace, cb::log_format::text, {});
    cb::log::set_output(nullptr);
    sink_ = cb::log::add_sink([this](const cb::log::record& r) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back({r.level, std::string(r.component), std::string(r.message)});
    });
  }
  ~log_capture() {
    cb::log::remove_sink(sink_);
    cb::log::set_output(stderr);
    cb::log::configure(cb::log_level::info, cb::log_format::text, {});
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  std::vector<log_line> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  std::size_t count(cb::log_level level, std::string_view part) const {
    std::size_t n = 0;
    for (const auto& line : lines()) {
      if (line.level == level && line.message.find(part) != std::string::npos) ++n;
    }
    return n;
  }
  bool mentions(std::string_view part) const {
    for (const auto& line : lines()) {
      if (line.message.find(part) != std::string::npos ||
          line.component.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<log_line> lines_;
  cb::log::sink_id sink_ = 0;
};

bool is(const caf::error& error, cb::bridge_errc code) {
  return error.category() == caf::atom("callbridge") &&
         error.code() == static_cast<std::uint8_t>(code);
}

struct outcome {
  std::optional<cb::ami_result> result;
  caf::error error;
};

using subscriber_message =
    std::variant<cb::ami_channel_linked, cb::ami_channel_event, cb::ami_channel_gone>;

struct fixture {
  log_capture logs;
  fake_ami::server asterisk;
  fake_ami::options asterisk_options;
  std::shared_ptr<cb::settings> config = std::make_shared<cb::settings>();
  caf::actor_system_config caf_config;
  caf::actor_system system{caf_config};
  caf::scoped_actor asker{system};
  caf::scoped_actor watcher{system};
  cb::ami_client_actor client;

  fixture() {
    asterisk_options.secret = the_secret;
    config->asterisk_host = "127.0.0.1";
    config->asterisk_user = "bridge";
    config->asterisk_pass = the_secret;
    config->ami_reconnect_min = 20ms;
    config->ami_reconnect_max = 200ms;
    config->ami_ping_interval = 1000ms;
    config->ami_action_timeout = 2000ms;
  }
  ~fixture() { stop_client(); }
  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  void start_asterisk() { config->asterisk_port = asterisk.start(asterisk_options); }

  // The manager comes back on the same port, with these options.
  void restart_asterisk(fake_ami::options options) {
    options.port = config->asterisk_port;
    asterisk.start(std::move(options));
  }

  void spawn_client() {
    client = system.spawn(cb::ami_client, std::shared_ptr<const cb::settings>(config));
  }

  // Ends the client and waits until it has (its connection thread joined).
  bool stop_client() {
    if (!client) return true;
    caf::scoped_actor observer{system};
    observer->monitor(client);
    observer->send_exit(client, caf::exit_reason::user_shutdown);
    client = nullptr;
    bool down = false;
    observer->receive([&](caf::down_msg&) { down = true; }, caf::after(wait_limit) >> [] {});
    return down;
  }

  cb::ami_status status() {
    cb::ami_status out;
    asker->request(client, wait_limit, cb::atom::status_v)
        .receive([&](cb::ami_status& s) { out = std::move(s); },
                 [&](caf::error& e) { FAIL("status failed: " << cb::describe(e)); });
    return out;
  }

  // Polls the client's status until it satisfies the predicate, for at most `limit`.
  bool eventually(const std::function<bool(const cb::ami_status&)>& predicate,
                  std::chrono::milliseconds limit = wait_limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (predicate(status())) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

  bool connected(std::uint64_t connects = 1) {
    return eventually([connects](const cb::ami_status& s) {
      return s.state == ami_link_state::connected && s.connects >= connects;
    });
  }

  outcome run(cb::ami_request request) {
    outcome out;
    asker->request(client, 2 * wait_limit, std::move(request))
        .receive([&](cb::ami_result& r) { out.result = std::move(r); },
                 [&](caf::error& e) { out.error = std::move(e); });
    return out;
  }

  // Once an action is answered, the client has read every event Asterisk sent before it.
  void sync() { REQUIRE(run({ami::ping(), {}, 2s}).result.has_value()); }

  void watch(const std::string& uuid) {
    watcher->send(client, cb::atom::watch_v, uuid,
                  caf::actor_cast<cb::ami_subscriber_actor>(watcher.ptr()));
  }

  std::optional<subscriber_message> next_message(std::chrono::milliseconds limit = wait_limit) {
    std::optional<subscriber_message> out;
    watcher->receive([&](cb::ami_channel_linked& m) { out = std::move(m); },
                     [&](cb::ami_channel_event& m) { out = std::move(m); },
                     [&](cb::ami_channel_gone& m) { out = std::move(m); },
                     caf::after(limit) >> [] {});
    return out;
  }

  template <class T>
  T expect_message() {
    auto message = next_message();
    REQUIRE(message.has_value());
    REQUIRE(std::holds_alternative<T>(*message));
    return std::get<T>(std::move(*message));
  }

  std::size_t actions_named(std::string_view name) const {
    return asterisk.actions_named(name).size();
  }
};

fake_ami::channel_spec channel_named(std::string name) {
  fake_ami::channel_spec spec;
  spec.name = std::move(name);
  spec.caller_id_num = "5551234";
  spec.exten = "18005550100";
  spec.context = "from-trunk";
  return spec;
}

}  // namespace

TEST_CASE("ami_client logs in, reports its status and keeps the secret out of every log line",
          "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());

  const auto status = f.status();
  CHECK(status.server == "127.0.0.1:" + std::to_string(f.config->asterisk_port));
  CHECK(status.banner_version == "11.0.0");
  CHECK(status.connects == 1);
  CHECK(status.failures == 0);
  CHECK(status.last_error.empty());
  CHECK(status.state_since_unix_ms > 0);
  const auto logins = f.asterisk.logins();
  REQUIRE(logins.size() == 1);
  CHECK(logins[0].success);
  CHECK(logins[0].username == "bridge");
  // After the login, the channel list is read.
  CHECK(f.asterisk.wait_for([&] { return f.actions_named("CoreShowChannels") == 1; }, wait_limit));
  CHECK(f.logs.count(cb::log_level::info, "connected to 127.0.0.1:") == 1);

  // A clean exit logs off.
  CHECK(f.stop_client());
  CHECK(f.asterisk.wait_for([&] { return f.actions_named("Logoff") == 1; }, wait_limit));
  CHECK_FALSE(f.logs.mentions(the_secret));
}

TEST_CASE("ami_client retries a refused login with backoff until the secret is right",
          "[ami_client]") {
  fixture f;
  const auto refusing = f.asterisk_options;
  f.asterisk_options.secret = "the-right-secret-1234";
  f.start_asterisk();
  f.spawn_client();

  REQUIRE(
      f.eventually([](const cb::ami_status& s) { return s.state == ami_link_state::auth_failed; }));
  auto status = f.status();
  CHECK(status.last_error == "login as 'bridge' refused: Authentication failed");
  CHECK(status.connects == 0);
  // It tries again, and again, without hammering.
  CHECK(f.asterisk.wait_for([&] { return f.asterisk.logins().size() >= 3; }, wait_limit));

  // The operator fixes the manager's secret.
  f.asterisk.stop();
  f.restart_asterisk(refusing);
  REQUIRE(f.connected());
  status = f.status();
  CHECK(status.connects == 1);

  std::size_t refused = 0;
  for (const auto& login : f.asterisk.logins())
    refused += login.success ? 0 : 1;
  CHECK(refused >= 3);
  CHECK(status.failures >= refused);
  // One warning per refused attempt.
  CHECK(f.logs.count(cb::log_level::warn, "refused: Authentication failed") == refused);
  CHECK_FALSE(f.logs.mentions(the_secret));
  CHECK(status.last_error.find(the_secret) == std::string::npos);
}

TEST_CASE("ami_client matches answers to actions by ActionID", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  auto spec = channel_named("PJSIP/trunk-00000001");
  spec.variables = {{"LEAD_ID", "8812"}, {"CAMPAIGN", "spring"}};
  f.asterisk.add_channel(spec);

  // Three actions in flight at once, answers collected in another order.
  auto lead = f.asker->request(f.client, wait_limit,
                               cb::ami_request{ami::getvar(spec.name, "LEAD_ID"), {}, 2s});
  auto ping = f.asker->request(f.client, wait_limit, cb::ami_request{ami::ping("mine"), {}, 2s});
  auto campaign = f.asker->request(f.client, wait_limit,
                                   cb::ami_request{ami::getvar(spec.name, "CAMPAIGN"), {}, 2s});
  std::vector<cb::ami_result> results(3);
  const auto keep = [&](std::size_t i) {
    return [&results, i](cb::ami_result& r) { results[i] = std::move(r); };
  };
  const auto fail = [](caf::error& e) { FAIL(cb::describe(e)); };
  campaign.receive(keep(2), fail);
  lead.receive(keep(0), fail);
  ping.receive(keep(1), fail);

  CHECK(results[0].response.get("Value") == "8812");
  CHECK(results[1].response.get("Ping") == "Pong");
  CHECK(results[2].response.get("Value") == "spring");
  // The client numbered them itself (replacing the caller's "mine"), each differently.
  const auto ids = {results[0].response.action_id(), results[1].response.action_id(),
                    results[2].response.action_id()};
  std::vector<std::string> seen;
  for (const auto& id : ids) {
    REQUIRE(id.has_value());
    CHECK(*id != "mine");
    seen.emplace_back(*id);
  }
  CHECK(seen[0] != seen[1]);
  CHECK(seen[1] != seen[2]);
  CHECK(seen[0] != seen[2]);
  CHECK(f.status().actions_sent >= 5);  // Login, CoreShowChannels and these three
}

TEST_CASE("ami_client collects an event list", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  f.asterisk.add_channel(channel_named("PJSIP/alice-00000001"));
  f.asterisk.add_channel(channel_named("PJSIP/bob-00000002"));

  const auto answer = f.run({ami::core_show_channels(), {}, 2s});
  REQUIRE(answer.result.has_value());
  CHECK(answer.result->response.get("EventList") == "start");
  const auto& events = answer.result->events;
  REQUIRE(events.size() == 3);
  CHECK(events[0].is_event("CoreShowChannel"));
  CHECK(events[0].get("Channel") == "PJSIP/alice-00000001");
  CHECK(events[1].get("Channel") == "PJSIP/bob-00000002");
  CHECK(events[2].is_event("CoreShowChannelsComplete"));
  CHECK(events[2].get("ListItems") == "2");
  CHECK(f.status().channels == 2);
}

TEST_CASE("ami_client completes an async Originate with its OriginateResponse", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  f.watch(uuid_a);

  ami::originate_fields fields;
  fields.channel = "Local/5551234@from-internal";
  fields.target = ami::dialplan_target{"callbridge-ai", "s", "1"};
  fields.variables = {{"CALL_UUID", uuid_a}};
  const auto answer = f.run({ami::originate(fields), "OriginateResponse", 3s});
  REQUIRE(answer.result.has_value());
  CHECK(answer.result->response.get("Message") == "Originate successfully queued");
  REQUIRE_FALSE(answer.result->events.empty());
  const auto& done = answer.result->events.back();
  CHECK(done.is_event("OriginateResponse"));
  CHECK(done.get("Response") == "Success");
  CHECK(done.get("Reason") == "4");
  CHECK(done.action_id() == answer.result->response.action_id());

  // The originated channel carries the call's UUID: the watcher learns which it is.
  const auto linked = f.expect_message<cb::ami_channel_linked>();
  CHECK(linked.uuid == uuid_a);
  CHECK(linked.channel.name == "Local/5551234@from-internal-00000001;1");
  CHECK(linked.channel.audiosocket_uuid == uuid_a);
}

TEST_CASE("ami_client turns Response: Error into ami_action_failed with Asterisk's message",
          "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  const auto answer = f.run({ami::hangup("PJSIP/nobody-00000009"), {}, 2s});
  REQUIRE_FALSE(answer.result.has_value());
  CHECK(is(answer.error, cb::bridge_errc::ami_action_failed));
  CHECK(cb::describe(answer.error) == "AMI action failed: No such channel");
}

TEST_CASE("ami_client refuses an action that cannot be built, naming the key only",
          "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  const auto answer = f.run({ami::hangup("PJSIP/x\r\nAction: Originate"), {}, 2s});
  REQUIRE_FALSE(answer.result.has_value());
  CHECK(is(answer.error, cb::bridge_errc::ami_bad_action));
  CHECK(cb::describe(answer.error) == "AMI action refused: bad_value in header Channel");
  CHECK(f.actions_named("Hangup") == 0);
  CHECK(f.actions_named("Originate") == 0);
}

TEST_CASE("ami_client times an action out and fails what waits when the link drops",
          "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());

  // Asterisk answers the Ping, but the event it should end with never comes.
  const auto late = f.run({ami::ping(), "NeverSent", 200ms});
  REQUIRE_FALSE(late.result.has_value());
  CHECK(is(late.error, cb::bridge_errc::ami_timeout));
  CHECK(cb::describe(late.error) == "AMI action timed out: no answer to Ping within 200 ms");
  // The client still works.
  CHECK(f.run({ami::ping(), {}, 2s}).result.has_value());

  const auto pings = f.actions_named("Ping");
  auto waiting =
      f.asker->request(f.client, wait_limit, cb::ami_request{ami::ping(), "NeverSent", 4s});
  REQUIRE(f.asterisk.wait_for([&] { return f.actions_named("Ping") > pings; }, wait_limit));
  f.asterisk.stop();
  caf::error lost;
  waiting.receive([](cb::ami_result&) { FAIL("answered after the link dropped"); },
                  [&](caf::error& e) { lost = std::move(e); });
  CHECK(is(lost, cb::bridge_errc::ami_not_connected));

  // While the link is down, actions fail at once.
  REQUIRE(
      f.eventually([](const cb::ami_status& s) { return s.state != ami_link_state::connected; }));
  const auto refused = f.run({ami::ping(), {}, 2s});
  CHECK(is(refused.error, cb::bridge_errc::ami_not_connected));
}

TEST_CASE("ami_client links a watched call however Asterisk shows the link", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());

  SECTION("watched before the VarSet of the UUID variable") {
    f.watch(uuid_a);
    auto spec = channel_named("PJSIP/trunk-00000001");
    spec.variables = {{"CALL_UUID", uuid_a}};
    const auto uniqueid = f.asterisk.add_channel(spec);
    const auto linked = f.expect_message<cb::ami_channel_linked>();
    CHECK(linked.uuid == uuid_a);
    CHECK(linked.channel.name == "PJSIP/trunk-00000001");
    CHECK(linked.channel.uniqueid == uniqueid);
    CHECK(linked.channel.caller_id_num == "5551234");
    CHECK(linked.channel.exten == "18005550100");
    CHECK(linked.channel.context == "from-trunk");
  }
  SECTION("watched after AudioSocket() named it in a Newexten") {
    auto spec = channel_named("PJSIP/trunk-00000002");
    spec.audiosocket_uuid = uuid_b;
    f.asterisk.add_channel(spec);
    f.sync();
    f.watch(uuid_b);
    const auto linked = f.expect_message<cb::ami_channel_linked>();
    CHECK(linked.uuid == uuid_b);
    CHECK(linked.channel.name == "PJSIP/trunk-00000002");
  }
  SECTION("watched after a chan_audiosocket channel named it") {
    const auto name = "AudioSocket/127.0.0.1:5050-" + uuid_c;
    f.asterisk.add_channel(channel_named(name));
    f.sync();
    f.watch(uuid_c);
    CHECK(f.expect_message<cb::ami_channel_linked>().channel.name == name);
  }
}

TEST_CASE("ami_client forwards a watched channel's events, then its hangup", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  auto spec = channel_named("PJSIP/trunk-00000003");
  spec.variables = {{"CALL_UUID", uuid_a}};
  const auto uniqueid = f.asterisk.add_channel(spec);
  auto other = channel_named("PJSIP/trunk-00000004");
  other.variables = {{"CALL_UUID", uuid_b}};
  f.asterisk.add_channel(other);
  f.sync();
  f.watch(uuid_a);
  f.watch(uuid_b);
  CHECK(f.expect_message<cb::ami_channel_linked>().uuid == uuid_a);
  CHECK(f.expect_message<cb::ami_channel_linked>().uuid == uuid_b);
  CHECK(f.status().watched == 2);

  f.asterisk.emit(
      "Event: DTMFEnd\r\nPrivilege: dtmf,all\r\nChannel: PJSIP/trunk-00000003\r\n"
      "Uniqueid: " +
      uniqueid + "\r\nDigit: 5\r\nDurationMs: 120\r\nDirection: Received\r\n");
  const auto dtmf = f.expect_message<cb::ami_channel_event>();
  CHECK(dtmf.uuid == uuid_a);
  CHECK(dtmf.event.is_event("DTMFEnd"));
  CHECK(dtmf.event.get("Digit") == "5");

  // An unwatched call's hangup says nothing; the watched one's says how it ended.
  f.watcher->send(f.client, cb::atom::unwatch_v, uuid_b);
  REQUIRE(f.asterisk.hangup_channel("PJSIP/trunk-00000004", 16));
  REQUIRE(f.asterisk.hangup_channel("PJSIP/trunk-00000003", 17));
  // SoftHangupRequest and HangupRequest come first, as events.
  CHECK(f.expect_message<cb::ami_channel_event>().event.is_event("SoftHangupRequest"));
  CHECK(f.expect_message<cb::ami_channel_event>().event.is_event("HangupRequest"));
  const auto gone = f.expect_message<cb::ami_channel_gone>();
  CHECK(gone.uuid == uuid_a);
  CHECK(gone.cause == 17);
  CHECK(gone.cause_text == "User busy");
  CHECK_FALSE(f.next_message(100ms).has_value());
  CHECK(f.eventually([](const cb::ami_status& s) { return s.watched == 0 && s.channels == 0; }));
}

TEST_CASE("ami_client drops the watches of a subscriber that died", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  {
    caf::scoped_actor short_lived{f.system};
    short_lived->send(f.client, cb::atom::watch_v, uuid_a,
                      caf::actor_cast<cb::ami_subscriber_actor>(short_lived.ptr()));
    short_lived->send(f.client, cb::atom::watch_v, uuid_b,
                      caf::actor_cast<cb::ami_subscriber_actor>(short_lived.ptr()));
    REQUIRE(f.eventually([](const cb::ami_status& s) { return s.watched == 2; }));
  }
  CHECK(f.eventually([](const cb::ami_status& s) { return s.watched == 0; }));
}

TEST_CASE("ami_client resynchronises after Asterisk's manager comes back", "[ami_client]") {
  fixture f;
  f.start_asterisk();
  f.spawn_client();
  REQUIRE(f.connected());
  auto alice = channel_named("PJSIP/alice-00000001");
  alice.variables = {{"CALL_UUID", uuid_a}};
  f.asterisk.add_channel(alice);
  auto bob = channel_named("PJSIP/bob-00000002");
  bob.audiosocket_uuid = uuid_b;
  f.asterisk.add_channel(bob);
  f.sync();
  f.watch(uuid_a);
  f.watch(uuid_b);
  CHECK(f.expect_message<cb::ami_channel_linked>().uuid == uuid_a);
  CHECK(f.expect_message<cb::ami_channel_linked>().uuid == uuid_b);

  f.asterisk.stop();
  REQUIRE(
      f.eventually([](const cb::ami_status& s) { return s.state != ami_link_state::connected; }));
  // Alice hangs up while nobody listens.
  REQUIRE(f.asterisk.hangup_channel("PJSIP/alice-00000001", 16));
  f.restart_asterisk(f.asterisk_options);
  REQUIRE(f.connected(2));

  const auto gone = f.expect_message<cb::ami_channel_gone>();
  CHECK(gone.uuid == uuid_a);
  CHECK(gone.cause == 0);
  CHECK(gone.cause_text == "Unknown (hung up while the AMI link was down)");
  CHECK(f.actions_named("CoreShowChannels") == 2);
  const auto status = f.status();
  CHECK(status.watched == 1);
  CHECK(status.channels == 1);
  CHECK(status.failures >= 1);
  CHECK(f.logs.count(cb::log_level::warn, "lost: Asterisk closed the connection") == 1);

  // Bob is still linked: his hangup reaches his watcher.
  REQUIRE(f.asterisk.hangup_channel("PJSIP/bob-00000002", 16));
  std::optional<cb::ami_channel_gone> bob_gone;
  while (!bob_gone) {
    auto message = f.next_message();
    REQUIRE(message.has_value());
    if (auto* g = std::get_if<cb::ami_channel_gone>(&*message)) bob_gone = *g;
  }
  CHECK(bob_gone->uuid == uuid_b);
  CHECK(bob_gone->cause == 16);
  CHECK(bob_gone->cause_text == "Normal Clearing");
}

TEST_CASE("ami_client keeps the link alive with Ping and drops it when Asterisk stops answering",
          "[ami_client]") {
  SECTION("pings a healthy manager") {
    fixture f;
    f.config->ami_ping_interval = 50ms;
    f.start_asterisk();
    f.spawn_client();
    REQUIRE(f.connected());
    CHECK(f.asterisk.wait_for([&] { return f.actions_named("Ping") >= 3; }, wait_limit));
    CHECK(f.status().connects == 1);
  }
  SECTION("a manager that stopped answering is left and reconnected") {
    cb::test::mute_manager hung(true);
    fixture f;
    f.config->asterisk_port = hung.port();
    f.config->ami_ping_interval = 50ms;
    f.config->ami_action_timeout = 300ms;
    f.spawn_client();
    REQUIRE(f.eventually([](const cb::ami_status& s) { return s.connects >= 2; }));
    const auto status = f.status();
    CHECK(status.last_error == "no answer to Ping within 300 ms");
    CHECK(status.failures >= 1);
    CHECK(f.logs.count(cb::log_level::warn, "lost: no answer to Ping within 300 ms") >= 1);
  }
}

TEST_CASE("ami_client backs off from a dead port and still stops at once", "[ami_client]") {
  fixture f;
  f.config->asterisk_port = cb::test::closed_port();
  f.config->ami_reconnect_min = 10ms;
  f.config->ami_reconnect_max = 40ms;
  f.spawn_client();
  REQUIRE(f.eventually([](const cb::ami_status& s) { return s.failures >= 4; }));
  const auto status = f.status();
  CHECK(
      (status.state == ami_link_state::disconnected || status.state == ami_link_state::connecting));
  CHECK(status.connects == 0);
  CHECK(status.last_error == "Connection refused");
  CHECK(f.logs.count(cb::log_level::warn,
                     "connect to 127.0.0.1:" + std::to_string(f.config->asterisk_port) +
                         " failed: Connection refused; retrying in") >= 4);
  CHECK(is(f.run({ami::ping(), {}, 2s}).error, cb::bridge_errc::ami_not_connected));
  CHECK(f.stop_client());
}

TEST_CASE("ami_client gives up on a port that never sends the banner, and stops meanwhile",
          "[ami_client]") {
  cb::test::mute_manager silent(false);
  fixture f;
  f.config->asterisk_port = silent.port();
  f.config->ami_action_timeout = 200ms;
  f.spawn_client();
  REQUIRE(f.eventually([](const cb::ami_status& s) { return s.failures >= 1; }));
  CHECK(f.status().last_error == "no banner within 200 ms");
  CHECK(f.logs.count(cb::log_level::warn, "connect to 127.0.0.1:" + std::to_string(silent.port()) +
                                              " failed: no banner within 200 ms; retrying in") >=
        1);
  // Stopping while a connection waits for its banner does not wait for it.
  REQUIRE(
      f.eventually([](const cb::ami_status& s) { return s.state == ami_link_state::connecting; }));
  CHECK(f.stop_client());
}

TEST_CASE("ami_client speaks TLS, verifying the manager's certificate", "[ami_client]") {
  const auto dir = std::filesystem::temp_directory_path();
  const auto ca = (dir / ("ami-client-test-ca-" + std::to_string(::getpid()) + ".pem")).string();
  fixture f;
  f.start_asterisk();
  cb::test::tls_relay relay(f.config->asterisk_port, ca);
  f.config->asterisk_host = "localhost";
  f.config->asterisk_port = relay.port();
  f.config->asterisk_tls = true;

  SECTION("an untrusted certificate is refused") {
    f.spawn_client();
    REQUIRE(f.eventually([](const cb::ami_status& s) { return s.failures >= 1; }));
    CHECK(f.status().last_error.find("certificate verify failed") != std::string::npos);
    CHECK(f.asterisk.logins().empty());
  }
  SECTION("the configured CA makes it trusted") {
    f.config->asterisk_ca_file = ca;
    f.spawn_client();
    REQUIRE(f.connected());
    CHECK(f.status().server == "localhost:" + std::to_string(relay.port()));
    const auto answer = f.run({ami::ping(), {}, 2s});
    REQUIRE(answer.result.has_value());
    CHECK(answer.result->response.get("Ping") == "Pong");
    CHECK(relay.handshakes() >= 1);
  }
  CHECK(f.stop_client());
  std::filesystem::remove(ca);
}

TEST_CASE("ami_client without ASTERISK_HOST is disabled", "[ami_client]") {
  fixture f;
  f.config->asterisk_host.clear();
  f.spawn_client();
  f.watch(uuid_a);
  const auto status = f.status();
  CHECK(status.state == ami_link_state::disabled);
  CHECK(status.server.empty());
  CHECK(status.watched == 0);
  const auto answer = f.run({ami::ping(), {}, 2s});
  CHECK(is(answer.error, cb::bridge_errc::ami_disabled));
  CHECK(f.stop_client());
}

TEST_CASE("ami_client reconnect delays double from the minimum to the cap, with jitter",
          "[ami_client]") {
  using ms = std::chrono::milliseconds;
  // unit 0.5 is a jitter factor of exactly 1.
  CHECK(cb::reconnect_delay(1, ms(500), ms(30000), 0.5) == ms(500));
  CHECK(cb::reconnect_delay(2, ms(500), ms(30000), 0.5) == ms(1000));
  CHECK(cb::reconnect_delay(4, ms(500), ms(30000), 0.5) == ms(4000));
  CHECK(cb::reconnect_delay(7, ms(500), ms(30000), 0.5) == ms(30000));
  CHECK(cb::reconnect_delay(1000, ms(500), ms(30000), 0.5) == ms(30000));
  // Jitter spreads a delay over [0.8, 1.2) of it, within [min, max].
  CHECK(cb::reconnect_delay(3, ms(500), ms(30000), 0.0) == ms(1600));
  CHECK(cb::reconnect_delay(3, ms(500), ms(30000), 0.999) == ms(2399));
  CHECK(cb::reconnect_delay(1, ms(500), ms(30000), 0.0) == ms(500));
  CHECK(cb::reconnect_delay(7, ms(500), ms(30000), 0.999) == ms(30000));
  CHECK(cb::reconnect_delay(7, ms(500), ms(30000), 0.0) == ms(24000));
  // A cap below the minimum is the minimum.
  CHECK(cb::reconnect_delay(5, ms(500), ms(100), 0.5) == ms(500));
}
