// What each scenario says, as the client hears it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "apps/callsim/audio_stamp.hpp"
#include "test_support.hpp"

namespace fe = cb::fake_elevenlabs;
namespace el = cb::elevenlabs;
using namespace cb::fake_elevenlabs::test;

namespace {

bool closed_by_server(const ws_test_client& client) {
  return client.wait_closed(4s) && client.server_close().has_value();
}

// Index of the first event matching pred, or events.size().
template <class Pred>
std::size_t index_of(const std::vector<received_event>& events, Pred pred) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].event && pred(*events[i].event)) return i;
  }
  return events.size();
}

std::unique_ptr<ws_test_client> start_conversation(const running_server& s,
                                                   std::string_view agent_id) {
  auto client = connect(s.port, agent_path(agent_id));
  client->send(std::string(init_message));
  return client;
}

fe::server_options with_agent(fe::agent_profile profile) {
  fe::server_options options;
  options.agents.push_back(std::move(profile));
  return options;
}

}  // namespace

TEST_CASE("tone: the greeting is a 440 Hz tone of 2 s sent faster than real time") {
  running_server s;
  constexpr cb::codecs::audio_format out{cb::codecs::encoding::pcm_s16le, 24000};
  auto client = start_conversation(s, "tone.pcm_16000.pcm_24000");
  REQUIRE(client->wait_for(
      [&](const auto& e) { return duration_ms(agent_audio(e, 1, out), 24000) >= 2000; }, 4s));
  const auto events = client->events();
  const auto audio = agent_audio(events, 1, out);
  CHECK(duration_ms(audio, 24000) == Approx(2000));
  CHECK(frequency_hz(audio, 24000) == Approx(440).margin(1));

  const auto response = index_of(events, [](const el::server_event& e) {
    return std::holds_alternative<el::agent_response_event>(e);
  });
  const auto first_audio = index_of(
      events, [](const el::server_event& e) { return std::holds_alternative<el::audio_event>(e); });
  CHECK(response < first_audio);
  CHECK(std::get<el::agent_response_event>(*events[response].event).event_id == 1);

  std::vector<fe::clock::time_point> arrivals;
  for (const auto& e : events) {
    if (e.event && std::holds_alternative<el::audio_event>(*e.event)) arrivals.push_back(e.at);
  }
  CHECK(arrivals.size() == 8);
  CHECK(arrivals.back() - arrivals.front() < 1500ms);
}

TEST_CASE("tone: a caller turn is transcribed and answered with a short tone") {
  auto agent = *fe::profile_from_agent_id("tone.ulaw_8000.ulaw_8000");
  agent.agent_id = "tone_quiet";
  agent.greeting.reset();
  running_server s(with_agent(agent));
  auto client = start_conversation(s, "tone_quiet");
  REQUIRE(client->wait_for(
      [](const auto& e) { return has_event<el::conversation_initiation_metadata_event>(e); }, 2s));
  send_audio(*client, concat(tone(600, 500, 8000), silence(600, 8000)), ulaw_8000);
  REQUIRE(client->wait_for(
      [](const auto& e) { return duration_ms(agent_audio(e, 2, ulaw_8000), 8000) >= 400; }, 3s));
  const auto events = client->events();
  const auto transcripts = events_of<el::user_transcript_event>(events);
  REQUIRE(transcripts.size() == 1);
  CHECK(transcripts[0].event_id == 1);
  CHECK(transcripts[0].user_transcript == "heard 500 ms at 600 Hz");
  CHECK(frequency_hz(agent_audio(events, 2, ulaw_8000), 8000) == Approx(880).margin(3));
  CHECK(events_of<el::interruption_event>(events).empty());
}

TEST_CASE("echo: the caller's tone comes back in the agent's output format") {
  auto agent = fe::make_profile("echo_quiet", fe::scenario_kind::echo);
  agent.greeting.reset();
  agent.output = ulaw_8000;
  running_server s(with_agent(agent));
  auto client = start_conversation(s, "echo_quiet");
  REQUIRE(client->wait_for(
      [](const auto& e) { return has_event<el::conversation_initiation_metadata_event>(e); }, 2s));
  send_audio(*client, concat(tone(523, 800, 16000), silence(700, 16000)), pcm_16000);
  REQUIRE(client->wait_for(
      [](const auto& e) { return duration_ms(agent_audio(e, 2, ulaw_8000), 8000) >= 780; }, 3s));
  const auto events = client->events();
  const auto transcripts = events_of<el::user_transcript_event>(events);
  REQUIRE(transcripts.size() == 1);
  CHECK(transcripts[0].event_id == 1);
  CHECK(transcripts[0].user_transcript == "heard 800 ms at 523 Hz");
  const auto echo = agent_audio(events, 2, ulaw_8000);
  CHECK(duration_ms(echo, 8000) == Approx(800).margin(25));
  CHECK(frequency_hz(echo, 8000) == Approx(523).margin(3));

  const auto record = s.agent.conversations().at(0);
  REQUIRE(record.user_turns.size() == 1);
  CHECK(record.user_turns[0].event_id == 1);
  CHECK(record.user_audio.voiced_ms_near(523, 5) == Approx(800).margin(20));
}

TEST_CASE("echo: speech while the agent talks interrupts it") {
  running_server s;
  auto client = start_conversation(s, "echo");
  REQUIRE(client->wait_for([](const auto& e) { return has_event<el::audio_event>(e); }, 2s));
  send_audio(*client, concat(tone(700, 600, 16000), silence(600, 16000)), pcm_16000);
  REQUIRE(
      client->wait_for([](const auto& e) { return has_event<el::user_transcript_event>(e); }, 3s));
  const auto events = client->events();
  const auto interruptions = events_of<el::interruption_event>(events);
  REQUIRE(interruptions.size() == 1);
  CHECK(interruptions[0].event_id == 2);
  CHECK(events_of<el::user_transcript_event>(events)[0].event_id == 2);
  const auto record = s.agent.conversations().at(0);
  REQUIRE_FALSE(record.agent_turns.empty());
  CHECK(record.agent_turns[0].interrupted);
}

TEST_CASE("interrupt: interruption, then stale chunks of the old turn, then the new turn") {
  auto agent = fe::make_profile("barge", fe::scenario_kind::interrupt);
  agent.interrupt_after_ms = 300;
  running_server s(with_agent(agent));
  auto client = start_conversation(s, "barge");
  REQUIRE(client->wait_for(
      [](const auto& e) { return duration_ms(agent_audio(e, 2, pcm_16000), 16000) >= 1000; }, 3s));
  const auto events = client->events();
  const auto interruption = index_of(events, [](const el::server_event& e) {
    return std::holds_alternative<el::interruption_event>(e);
  });
  REQUIRE(interruption < events.size());
  CHECK(std::get<el::interruption_event>(*events[interruption].event).event_id == 2);

  std::vector<std::int64_t> ids_after;
  for (std::size_t i = interruption + 1; i < events.size(); ++i) {
    if (const auto* a = std::get_if<el::audio_event>(&*events[i].event)) {
      ids_after.push_back(a->event_id);
    }
  }
  REQUIRE(ids_after.size() >= 4);
  CHECK(std::vector<std::int64_t>(ids_after.begin(), ids_after.begin() + 4) ==
        std::vector<std::int64_t>{1, 1, 1, 2});

  auto old_turn = agent_audio(events, 1, pcm_16000);
  CHECK(duration_ms(old_turn, 16000) == Approx(5000 + 3 * 250));
  CHECK(frequency_hz(old_turn, 16000) == Approx(440).margin(1));
  const auto new_turn = agent_audio(events, 2, pcm_16000);
  CHECK(frequency_hz(new_turn, 16000) == Approx(880).margin(2));

  const auto record = s.agent.conversations().at(0);
  CHECK(record.interruption_event_id == 2);
  REQUIRE(record.interruption_sent_at);
  CHECK(*record.interruption_sent_at <= events[interruption].at);
  CHECK(record.stale_chunks_sent == 3);
  REQUIRE(record.agent_turns.size() == 2);
  CHECK(record.agent_turns[0].interrupted);
}

TEST_CASE("end_call: agent_tool_response end_call, then close 1000") {
  auto agent = fe::make_profile("bye", fe::scenario_kind::end_call);
  agent.greeting->duration_ms = 500;
  agent.action_delay_ms = 50;
  running_server s(with_agent(agent));
  auto client = start_conversation(s, "bye");
  REQUIRE(closed_by_server(*client));
  const auto tools = events_of<el::agent_tool_response_event>(client->events());
  REQUIRE(tools.size() == 1);
  CHECK(tools[0].tool_name == "end_call");
  CHECK(tools[0].tool_type == "system");
  CHECK(tools[0].is_called);
  CHECK_FALSE(tools[0].is_error);
  CHECK(client->server_close()->code == 1000);
  const auto record = s.agent.conversations().at(0);
  CHECK(record.state == fe::close_kind::server_close);
  CHECK(record.server_close->code == 1000);
}

TEST_CASE("client_tool: the tool call's result is recorded and answered") {
  running_server s;
  auto client = start_conversation(s, "client_tool");
  REQUIRE(
      client->wait_for([](const auto& e) { return has_event<el::client_tool_call_event>(e); }, 3s));
  const auto call = events_of<el::client_tool_call_event>(client->events())[0];
  CHECK(call.tool_name == "lookup_order");
  CHECK(call.parameters.text() == R"({"order_id":"42"})");
  CHECK(call.event_id == 2);
  client->send(
      R"({"type":"client_tool_result","tool_call_id":"call_other","result":"?","is_error":true})");
  client->send(R"({"type":"client_tool_result","tool_call_id":")" + call.tool_call_id +
               R"(","result":"Tool not found","is_error":true})");
  REQUIRE(client->wait_for(
      [](const auto& e) { return events_of<el::agent_response_event>(e).size() >= 3; }, 3s));
  const auto record = s.agent.conversations().at(0);
  REQUIRE(record.tool_results.size() == 2);
  CHECK_FALSE(record.tool_results[0].matches_call);
  CHECK(record.tool_results[1].matches_call);
  CHECK(record.tool_results[1].result.result == "Tool not found");
  CHECK(record.tool_results[1].result.is_error);
  CHECK(record.tool_calls_sent == std::vector<std::string>{call.tool_call_id});
}

TEST_CASE("error: each error agent sends its error event and closes with its code") {
  const auto [agent_id, code, type] = GENERATE(table<std::string, int, std::string>({
      {"error_1002", 1002, "llm_timeout"},
      {"error_1008", 1008, "override_error"},
      {"error_1011", 1011, "unknown_websocket_crash"},
  }));
  INFO(agent_id);
  fe::server_options options;
  auto agent = *fe::profile_from_agent_id(agent_id);
  agent.greeting.reset();
  options.agents.push_back(agent);
  running_server s(std::move(options));
  auto client = start_conversation(s, agent_id);
  REQUIRE(closed_by_server(*client));
  const auto events = client->events();
  const auto errors = events_of<el::error_event>(events);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].shape == el::error_shape::nested);
  CHECK(errors[0].code == code);
  CHECK(errors[0].error_type == type);
  CHECK(events.back().json.find(R"({"type":"error","error_event":{"code":)") == 0);
  CHECK(client->server_close()->code == code);
}

TEST_CASE("error_quota: the flat error shape, then close 1002") {
  running_server s;
  auto client = start_conversation(s, "error_quota");
  REQUIRE(closed_by_server(*client));
  const auto events = client->events();
  const auto errors = events_of<el::error_event>(events);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].shape == el::error_shape::flat);
  CHECK(errors[0].message.find("exceeds your quota limit") != std::string::npos);
  CHECK(events.back().json.find(R"({"type":"error","message":)") == 0);
  CHECK(client->server_close()->code == 1002);
  CHECK(client->server_close()->reason == "This request exceeds your quota limit.");
}

TEST_CASE("stall: the socket stays open and nothing is ever sent") {
  fe::server_options options;
  options.init_timeout = 100ms;
  options.ping_interval = 100ms;
  running_server s(std::move(options));
  auto client = start_conversation(s, "stall");
  CHECK_FALSE(client->wait_for([](const auto& e) { return !e.empty(); }, 600ms));
  const auto record = s.agent.conversations().at(0);
  CHECK_FALSE(record.metadata_sent_at);
  CHECK(record.init_messages == 1);
  CHECK(record.state == fe::close_kind::open);
}

TEST_CASE("slow_reader: after metadata the agent reads nothing more") {
  running_server s;
  auto client = start_conversation(s, "slow_reader");
  REQUIRE(client->wait_for([](const auto& e) { return has_event<el::audio_event>(e); }, 2s));
  send_audio(*client, tone(440, 400, 16000), pcm_16000);
  client->send(R"({"type":"user_message","text":"are you there?"})");
  CHECK_FALSE(s.agent.wait_for(
      [](const auto& r) { return r[0].user_audio.chunks > 0 || !r[0].user_messages.empty(); },
      500ms));
}

TEST_CASE("transcript: a caller turn gets vad scores, transcripts, an aligned reply and noise") {
  auto agent = fe::make_profile("demo", fe::scenario_kind::transcript);
  agent.greeting.reset();
  running_server s(with_agent(agent));
  auto client = start_conversation(s, "demo");
  REQUIRE(client->wait_for(
      [](const auto& e) { return has_event<el::conversation_initiation_metadata_event>(e); }, 2s));
  send_audio(*client, concat(tone(300, 700, 16000), silence(600, 16000)), pcm_16000);
  REQUIRE(client->wait_for(
      [](const auto& e) {
        return std::any_of(e.begin(), e.end(), [](const received_event& r) {
          return r.json.find("agent_response_metadata") != std::string::npos;
        });
      },
      5s));
  const auto events = client->events();
  CHECK(events_of<el::vad_score_event>(events).size() == 2);
  CHECK(events_of<el::tentative_user_transcript_event>(events).size() == 1);
  const auto transcripts = events_of<el::user_transcript_event>(events);
  REQUIRE(transcripts.size() == 1);
  CHECK(transcripts[0].user_transcript == "Hi, I'd like to check on my order.");
  const auto responses = events_of<el::agent_response_event>(events);
  REQUIRE(responses.size() == 1);
  CHECK(responses[0].event_id == transcripts[0].event_id + 1);
  const auto audio = events_of<el::audio_event>(events);
  REQUIRE_FALSE(audio.empty());
  REQUIRE(audio[0].alignment);
  CHECK(audio[0].alignment->chars.front() == "S");
  CHECK(audio[0].alignment->chars.size() == audio[0].alignment->char_start_times_ms.size());
  const auto unknown = events_of<el::unknown_event>(events);
  REQUIRE(unknown.size() == 2);
  CHECK(unknown[0].type == "internal_turn_probability");
  CHECK(unknown[1].type == "agent_response_metadata");
}

TEST_CASE("stamped agent audio carries its send time at the start of every 20 ms") {
  auto agent = fe::make_profile("stamped", fe::scenario_kind::tone);
  agent.stamp_audio = true;
  agent.greeting->duration_ms = 600;
  agent.chunk_ms = 130;
  running_server s(with_agent(agent));
  const auto connected_at = fe::clock::now();
  auto client = start_conversation(s, "stamped");
  REQUIRE(client->wait_for(
      [](const auto& e) { return duration_ms(agent_audio(e, 1, pcm_16000), 16000) >= 600; }, 3s));
  const auto events = client->events();
  const auto audio = agent_audio(events, 1, pcm_16000);
  const auto to_ns = [](fe::clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  std::size_t stamps = 0;
  for (std::size_t frame = 0; frame < audio.size(); frame += 320) {
    const auto sent = cb::callsim::stamp::read(audio.data() + frame, audio.size() - frame);
    REQUIRE(sent);
    CHECK(*sent >= to_ns(connected_at));
    CHECK(*sent <= to_ns(events.back().at));
    ++stamps;
  }
  CHECK(stamps == 30);
  CHECK_FALSE(cb::callsim::stamp::read(audio.data() + 160, audio.size() - 160));
}

TEST_CASE("tone: stamped caller speech that interrupts the agent is named by its stamp") {
  auto agent = fe::parse_agent_spec("barge=tone,ms=5000,barge_in_ms=60,silence_ms=200");
  REQUIRE(agent);
  running_server s(with_agent(*agent));
  auto client = start_conversation(s, "barge");
  REQUIRE(client->wait_for([](const auto& e) { return has_event<el::audio_event>(e); }, 2s));
  auto speech = concat(tone(700, 300, 16000), silence(400, 16000));
  const std::int64_t first_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(fe::clock::now().time_since_epoch())
          .count();
  for (std::size_t frame = 0; frame * 320 < speech.size(); ++frame) {
    cb::callsim::stamp::write(speech.data() + frame * 320,
                              first_ns - static_cast<std::int64_t>(frame));
  }
  send_audio(*client, speech, pcm_16000);
  REQUIRE(client->wait_for([](const auto& e) { return has_event<el::interruption_event>(e); }, 3s));
  REQUIRE(s.agent.wait_for(
      [](const auto& records) {
        return !records.empty() && !records[0].interruptions.empty() &&
               records[0].interruptions[0].sent_at.has_value();
      },
      2s));

  const auto record = s.agent.conversations().at(0);
  REQUIRE(record.interruptions.size() == 1);
  const auto& interruption = record.interruptions[0];
  CHECK(interruption.event_id == events_of<el::interruption_event>(client->events())[0].event_id);
  CHECK(record.interruption_sent_at == interruption.sent_at);
  REQUIRE(interruption.caller_stamp_ns);
  // Three 20 ms windows of the tone (frames 0-14) make 60 ms of speech: frame 2 at the earliest.
  const std::int64_t frame = first_ns - *interruption.caller_stamp_ns;
  CHECK(frame >= 2);
  CHECK(frame < 15);
}
