// The protocol side every scenario shares: metadata, init data, pings, invalid input, closing.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "protocol/elevenlabs_client_messages.hpp"
#include "test_support.hpp"

namespace fe = cb::fake_elevenlabs;
namespace el = cb::elevenlabs;
using namespace cb::fake_elevenlabs::test;

namespace {

bool has_metadata(const std::vector<received_event>& events) {
  return has_event<el::conversation_initiation_metadata_event>(events);
}

const fe::conversation_record& only(const std::vector<fe::conversation_record>& records) {
  REQUIRE(records.size() == 1);
  return records[0];
}

}  // namespace

TEST_CASE("metadata answers the init message with a fresh id and the agent's formats") {
  running_server s;
  auto client = connect(s.port, agent_path("echo.pcm_16000.pcm_44100"));
  el::conversation_initiation_client_data init;
  init.dynamic_variables =
      el::dynamic_variable_map{{"user_name", std::string("Ada")}, {"tier", std::int64_t{3}}};
  init.user_id = "caller-17";
  el::config_override override;
  override.agent = el::agent_override{};
  override.agent->language = "de";
  init.conversation_config_override = override;
  std::string json;
  el::serialize(init, json);
  client->send(json);

  REQUIRE(client->wait_for(has_metadata, 2s));
  const auto events = client->events();
  REQUIRE(events[0].event);
  const auto& metadata = std::get<el::conversation_initiation_metadata_event>(*events[0].event);
  CHECK(metadata.conversation_id.rfind("conv_", 0) == 0);
  CHECK(metadata.conversation_id.size() > 20);
  CHECK(metadata.user_input_audio_format == "pcm_16000");
  CHECK(metadata.agent_output_audio_format == "pcm_44100");

  const auto record = only(s.agent.conversations());
  CHECK(record.conversation_id == metadata.conversation_id);
  CHECK_FALSE(record.metadata_after_init_timeout);
  REQUIRE(record.init);
  CHECK(*record.init == init);
  CHECK(record.init_json == json);
  CHECK(record.init_messages == 1);
  CHECK(record.errors.empty());
}

TEST_CASE("metadata goes out without an init message after the init timeout") {
  fe::server_options options;
  options.init_timeout = 300ms;
  running_server s(std::move(options));
  auto client = connect(s.port, agent_path("tone.ulaw_8000.ulaw_8000"));
  REQUIRE(client->wait_for(has_metadata, 2s));
  const auto metadata = events_of<el::conversation_initiation_metadata_event>(client->events());
  CHECK(metadata[0].user_input_audio_format == "ulaw_8000");
  const auto record = only(s.agent.conversations());
  CHECK(record.metadata_after_init_timeout);
  CHECK_FALSE(record.init);
  REQUIRE(record.metadata_sent_at);
  CHECK(*record.metadata_sent_at - record.connected_at >= 300ms);
}

TEST_CASE("pings carry increasing ids, null then measured ping_ms, and pongs are matched") {
  fe::server_options options;
  options.ping_interval = 100ms;
  running_server s(std::move(options));
  auto client = connect(s.port, agent_path("tone"));
  client->send(std::string(init_message));
  REQUIRE(
      client->wait_for([](const auto& e) { return events_of<el::ping_event>(e).size() >= 3; }, 3s));
  const auto pings = events_of<el::ping_event>(client->events());
  CHECK(pings[0].event_id == 1);
  CHECK(pings[1].event_id == 2);
  CHECK(pings[2].event_id == 3);
  CHECK_FALSE(pings[0].ping_ms);
  CHECK(pings[2].ping_ms);
  REQUIRE(s.agent.wait_for(
      [](const auto& r) { return r.size() == 1 && r[0].pings.pongs_matched >= 3; }, 2s));
  const auto record = only(s.agent.conversations());
  CHECK(record.pings.pongs_unmatched == 0);
  CHECK(record.pings.rtts.size() == record.pings.pongs_matched);
  CHECK(record.pings.rtts[0] < 100ms);
}

TEST_CASE("pongs with the wrong event_id are counted, and the pings as missing") {
  fe::server_options options;
  options.ping_interval = 100ms;
  running_server s(std::move(options));
  client_options c;
  c.port = s.port;
  c.path = agent_path("tone");
  c.pong_id_offset = 1000;
  ws_test_client client(c);
  REQUIRE(client.wait_connected(2s));
  client.send(std::string(init_message));
  REQUIRE(s.agent.wait_for(
      [](const auto& r) {
        return r.size() == 1 && r[0].pings.pongs_unmatched >= 2 && r[0].pings.pongs_missing >= 1;
      },
      3s));
  const auto record = only(s.agent.conversations());
  CHECK(record.pings.pongs_matched == 0);
  CHECK(record.errors[0] == "pong for unknown ping event_id 1001");
}

TEST_CASE("invalid JSON gets an invalid_message error and close 1008") {
  running_server s;
  auto client = connect(s.port, agent_path("tone"));
  client->send(std::string(init_message));
  client->send("{\"type\":");
  REQUIRE(client->wait_closed(3s));
  const auto errors = events_of<el::error_event>(client->events());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].shape == el::error_shape::nested);
  CHECK(errors[0].code == 1008);
  CHECK(errors[0].error_type == "invalid_message");
  const auto close = client->server_close();
  REQUIRE(close);
  CHECK(close->code == 1008);
  const auto record = only(s.agent.conversations());
  CHECK(record.state == fe::close_kind::server_close);
  REQUIRE(record.server_close);
  CHECK(record.server_close->code == 1008);
  CHECK(record.errors[0].rfind("invalid message: malformed_json", 0) == 0);
}

TEST_CASE("an unknown client message type gets an invalid_message error and close 1008") {
  running_server s;
  auto client = connect(s.port, agent_path("tone"));
  client->send(R"({"type":"hello_agent"})");
  REQUIRE(client->wait_closed(3s));
  const auto errors = events_of<el::error_event>(client->events());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].error_type == "invalid_message");
  REQUIRE(errors[0].reason);
  CHECK(errors[0].reason->find("hello_agent") != std::string::npos);
  REQUIRE(client->server_close());
  CHECK(client->server_close()->code == 1008);
}

TEST_CASE("user_audio_chunk before metadata is recorded as a violation") {
  fe::server_options options;
  options.init_timeout = 5000ms;
  running_server s(std::move(options));
  auto client = connect(s.port, agent_path("tone"));
  send_audio(*client, tone(440, 100, 16000), pcm_16000);
  client->send(std::string(init_message));
  REQUIRE(client->wait_for(has_metadata, 2s));
  send_audio(*client, tone(440, 100, 16000), pcm_16000);
  REQUIRE(s.agent.wait_for(
      [](const auto& r) { return r.size() == 1 && r[0].user_audio.chunks == 10; }, 2s));
  const auto record = only(s.agent.conversations());
  CHECK(record.user_audio.chunks_before_metadata == 5);
  CHECK(record.errors ==
        std::vector<std::string>{"user_audio_chunk before conversation_initiation_metadata"});
}

TEST_CASE("texts, activity and other client messages are recorded") {
  running_server s;
  auto client = connect(s.port, agent_path("stall"));
  client->send(R"({"type":"user_message","text":"I would like to upgrade"})");
  client->send(
      R"({"type":"contextual_update","text":"User opened the pricing page","context_id":"page"})");
  client->send(R"({"type":"user_activity"})");
  client->send(R"({"type":"feedback","event_id":7,"score":"like"})");
  REQUIRE(s.agent.wait_for(
      [](const auto& r) { return r.size() == 1 && r[0].other_messages.size() == 1; }, 2s));
  const auto record = only(s.agent.conversations());
  CHECK(record.user_messages == std::vector<std::string>{"I would like to upgrade"});
  REQUIRE(record.contextual_updates.size() == 1);
  CHECK(record.contextual_updates[0].context_id == "page");
  CHECK(record.user_activities == 1);
  CHECK(record.other_messages[0] == "feedback");
}

TEST_CASE("the client's close code and reason are recorded exactly") {
  running_server s;
  auto client = connect(s.port, agent_path("tone"));
  client->send(std::string(init_message));
  REQUIRE(client->wait_for(has_metadata, 2s));
  client->close(1000, "User ended conversation");
  REQUIRE(client->wait_closed(2s));
  REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 1 && r[0].closed_at; }, 2s));
  const auto record = only(s.agent.conversations());
  CHECK(record.state == fe::close_kind::client_close);
  REQUIRE(record.client_close);
  CHECK(record.client_close->code == 1000);
  CHECK(record.client_close->reason == "User ended conversation");
  // The record closes before the service thread drops the connection from its count.
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (s.agent.counters().active != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(s.agent.counters().active == 0);
}

TEST_CASE("a TCP drop without a close frame is recorded as dropped") {
  running_server s;
  const int fd = raw_websocket(s.port, agent_path("tone"));
  REQUIRE(fd >= 0);
  REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 1; }, 2s));
  ::close(fd);
  REQUIRE(s.agent.wait_for([](const auto& r) { return r[0].closed_at.has_value(); }, 2s));
  const auto record = only(s.agent.conversations());
  CHECK(record.state == fe::close_kind::dropped);
  CHECK_FALSE(record.client_close);
}

TEST_CASE("stopping the server marks open conversations as server_stopped") {
  running_server s;
  auto client = connect(s.port, agent_path("tone"));
  REQUIRE(s.agent.wait_for([](const auto& r) { return r.size() == 1; }, 2s));
  s.agent.stop();
  const auto record = only(s.agent.conversations());
  CHECK(record.state == fe::close_kind::server_stopped);
  CHECK(client->wait_closed(2s));
}

TEST_CASE("required dynamic variables that are missing end the conversation with 1008") {
  fe::server_options options;
  auto agent = fe::make_profile("needs_name", fe::scenario_kind::tone);
  agent.required_dynamic_variables = {"user_name"};
  options.agents.push_back(agent);
  running_server s(std::move(options));
  auto client = connect(s.port, agent_path("needs_name"));
  client->send(std::string(init_message));
  REQUIRE(client->wait_closed(3s));
  const auto events = client->events();
  CHECK(has_metadata(events));
  const auto errors = events_of<el::error_event>(events);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].error_type == "missing_dynamic_variable");
  REQUIRE(client->server_close());
  CHECK(client->server_close()->code == 1008);
  CHECK(client->server_close()->reason ==
        "Missing required dynamic variables in first message: {'user_name'}");
}

TEST_CASE("the greeting follows the first_message override with dynamic variables filled in") {
  running_server s;
  auto client = connect(s.port, agent_path("tone"));
  client->send(
      R"({"type":"conversation_initiation_client_data","conversation_config_override":{"agent":{"first_message":"Hi {{user_name}}, calling about {{topic}}?"}},"dynamic_variables":{"user_name":"Ada"}})");
  REQUIRE(
      client->wait_for([](const auto& e) { return has_event<el::agent_response_event>(e); }, 2s));
  const auto responses = events_of<el::agent_response_event>(client->events());
  CHECK(responses[0].agent_response == "Hi Ada, calling about {{topic}}?");
  CHECK(responses[0].event_id == 1);
}
