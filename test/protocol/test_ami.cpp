#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/ami.hpp"

namespace ami = cb::ami;
using namespace std::chrono_literals;

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

struct parsed {
  std::vector<std::string> banners;
  std::vector<ami::message> messages;
  std::optional<ami::parse_error> error;
  bool mid_message = false;
};

// Feeds text in the given chunk sizes (the rest in one piece) and collects what comes out.
parsed parse_chunks(std::string_view text, const std::vector<std::size_t>& chunks,
                    ami::parser_options options = {}) {
  ami::parser p(options);
  parsed out;
  std::size_t offset = 0;
  const auto feed = [&](std::size_t n) {
    const auto result = p.feed(
        text.substr(offset, n),
        [&](std::string_view version) { out.banners.emplace_back(version); },
        [&](ami::message&& m) { out.messages.push_back(std::move(m)); });
    offset += n;
    if (!result && !out.error) out.error = result.error();
  };
  for (const auto n : chunks) {
    if (offset + n > text.size()) break;
    feed(n);
  }
  feed(text.size() - offset);
  out.mid_message = p.mid_message();
  return out;
}

parsed parse_whole(std::string_view text, ami::parser_options options = {}) {
  return parse_chunks(text, {}, options);
}

// Messages of a stream that has no banner (blocks only).
std::vector<ami::message> parse_blocks(std::string_view text) {
  auto result = parse_whole(text, {false});
  REQUIRE_FALSE(result.error.has_value());
  CHECK_FALSE(result.mid_message);
  return std::move(result.messages);
}

ami::message single_block(std::string_view text) {
  auto messages = parse_blocks(text);
  REQUIRE(messages.size() == 1);
  return std::move(messages[0]);
}

std::string to_wire(const std::vector<headers>& blocks, std::string_view eol = "\r\n") {
  std::string text;
  for (const auto& block : blocks) {
    for (const auto& [key, value] : block) {
      text += key;
      text += ": ";
      text += value;
      text += eol;
    }
    text += eol;
  }
  return text;
}

std::string serialized(const ami::action& a) {
  const auto text = a.serialize();
  REQUIRE(text.has_value());
  return *text;
}

ami::action_error refusal(const ami::action& a) {
  const auto text = a.serialize();
  REQUIRE_FALSE(text.has_value());
  return text.error();
}

constexpr std::string_view call_uuid = "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60";

// The events of one AI call placed with Originate on a Local channel (ami.md), as Asterisk 22
// writes them, after the banner and login.
std::vector<headers> ai_call_blocks() {
  const std::string local1 = "Local/ai@ai-agent-00000001;1";
  const std::string local2 = "Local/ai@ai-agent-00000001;2";
  const auto channel = [](const std::string& event, const std::string& name,
                          const std::string& state, const std::string& uniqueid) {
    return headers{{"Event", event},
                   {"Privilege", "call,all"},
                   {"Channel", name},
                   {"ChannelState", state},
                   {"ChannelStateDesc", state == "6" ? "Up" : "Down"},
                   {"CallerIDNum", "5551234"},
                   {"CallerIDName", "<unknown>"},
                   {"ConnectedLineNum", "<unknown>"},
                   {"ConnectedLineName", "<unknown>"},
                   {"Language", "en"},
                   {"AccountCode", ""},
                   {"Context", "ai-agent"},
                   {"Exten", "ai"},
                   {"Priority", "1"},
                   {"Uniqueid", uniqueid},
                   {"Linkedid", "1725300000.12"}};
  };
  auto varset = channel("VarSet", local2, "6", "1725300000.13");
  varset[1].second = "dialplan,all";
  varset.emplace_back("Variable", "CALL_UUID");
  varset.emplace_back("Value", std::string(call_uuid));
  auto newexten = channel("Newexten", local2, "6", "1725300000.13");
  newexten[1].second = "dialplan,all";
  newexten.emplace_back("Extension", "ai");
  newexten.emplace_back("Application", "AudioSocket");
  newexten.emplace_back("AppData", std::string(call_uuid) + ",127.0.0.1:5052");
  auto hangup1 = channel("Hangup", local1, "6", "1725300000.12");
  hangup1.emplace_back("Cause", "16");
  hangup1.emplace_back("Cause-txt", "Normal Clearing");
  auto hangup2 = channel("Hangup", local2, "6", "1725300000.13");
  hangup2.emplace_back("Cause", "16");
  hangup2.emplace_back("Cause-txt", "Normal Clearing");
  return {
      {{"Response", "Success"}, {"ActionID", "1"}, {"Message", "Authentication accepted"}},
      {{"Event", "FullyBooted"},
       {"Privilege", "system,all"},
       {"Uptime", "5421"},
       {"LastReload", "5421"},
       {"Status", "Fully Booted"}},
      {{"Response", "Success"}, {"ActionID", "2"}, {"Message", "Originate successfully queued"}},
      channel("Newchannel", local1, "0", "1725300000.12"),
      channel("Newchannel", local2, "0", "1725300000.13"),
      varset,
      {{"Event", "LocalBridge"},
       {"Privilege", "call,all"},
       {"LocalOneChannel", local1},
       {"LocalTwoChannel", local2},
       {"Context", "ai-agent"},
       {"Exten", "ai"},
       {"LocalOptimization", "Yes"}},
      {{"Event", "DialBegin"},
       {"Privilege", "call,all"},
       {"DestChannel", "PJSIP/trunk-00000002"},
       {"DialString", "trunk/5551234"}},
      channel("Newstate", "PJSIP/trunk-00000002", "6", "1725300000.14"),
      channel("Newstate", local1, "6", "1725300000.12"),
      {{"Event", "OriginateResponse"},
       {"Privilege", "call,all"},
       {"ActionID", "2"},
       {"Response", "Success"},
       {"Channel", local1},
       {"Context", "ai-agent"},
       {"Exten", "ai"},
       {"Reason", "4"},
       {"Uniqueid", "1725300000.12"},
       {"CallerIDNum", "5551234"},
       {"CallerIDName", "<unknown>"}},
      {{"Event", "DialEnd"},
       {"Privilege", "call,all"},
       {"DestChannel", "PJSIP/trunk-00000002"},
       {"DialStatus", "ANSWER"}},
      newexten,
      {{"Event", "SoftHangupRequest"},
       {"Privilege", "call,all"},
       {"Channel", local2},
       {"Cause", "16"}},
      {{"Event", "HangupRequest"}, {"Privilege", "call,all"}, {"Channel", local1}, {"Cause", "16"}},
      hangup1,
      hangup2,
  };
}

std::string ai_call_stream() {
  return "Asterisk Call Manager/11.0.0\r\n" + to_wire(ai_call_blocks());
}

}  // namespace

TEST_CASE("ami reads the banner version without insisting on a number", "[ami]") {
  CHECK(parse_whole("Asterisk Call Manager/11.0.0\r\n").banners ==
        std::vector<std::string>{"11.0.0"});
  CHECK(parse_whole("Asterisk Call Manager/2.10.6\n").banners ==
        std::vector<std::string>{"2.10.6"});
  CHECK(parse_whole("Asterisk Call Manager/Rocket.1-beta\r\n").banners ==
        std::vector<std::string>{"Rocket.1-beta"});
  CHECK(parse_whole("Asterisk Call Manager\r\n").banners == std::vector<std::string>{""});

  const auto partial = parse_whole("Asterisk Call Man");
  CHECK(partial.banners.empty());
  CHECK(partial.mid_message);
}

TEST_CASE("ami refuses a peer that is not an Asterisk manager", "[ami]") {
  const auto result = parse_whole("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nAction: Ping\r\n\r\n");
  REQUIRE(result.error.has_value());
  CHECK(*result.error == ami::parse_error{ami::parse_error_code::bad_banner, 1});
  CHECK(result.messages.empty());
  CHECK(ami::to_string(*result.error) == "bad_banner at line 1");
}

TEST_CASE("ami login answers", "[ami]") {
  const auto accepted = parse_whole(
      "Asterisk Call Manager/11.0.0\r\n"
      "Response: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\n"
      "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n");
  CHECK_FALSE(accepted.error.has_value());
  REQUIRE(accepted.messages.size() == 2);
  const auto& ok = accepted.messages[0];
  CHECK(ok.type() == ami::message_type::response);
  CHECK(ok.response() == "Success");
  CHECK(ok.action_id() == "1");
  CHECK(ok.get("Message") == "Authentication accepted");
  CHECK(accepted.messages[1].is_event("FullyBooted"));
  CHECK(accepted.messages[1].type() == ami::message_type::event);

  const auto refused =
      single_block("Response: Error\r\nActionID: 1\r\nMessage: Authentication failed\r\n\r\n");
  CHECK(refused.response() == "Error");
  CHECK(refused.get("Message") == "Authentication failed");
}

TEST_CASE("ami ping answer", "[ami]") {
  const auto pong = single_block(
      "Response: Success\r\nActionID: 7\r\nPing: Pong\r\nTimestamp: 1746863838.725143\r\n\r\n");
  CHECK(pong.response() == "Success");
  CHECK(pong.get("Ping") == "Pong");
  CHECK(pong.get("timestamp") == "1746863838.725143");
}

TEST_CASE("ami OriginateResponse is an event that carries a Response header", "[ami]") {
  const auto event = single_block(
      "Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: 2\r\nResponse: Failure\r\n"
      "Channel: PJSIP/trunk/5551234\r\nContext: ai-agent\r\nExten: ai\r\nReason: 8\r\n"
      "Uniqueid: <null>\r\nCallerIDNum: <unknown>\r\nCallerIDName: <unknown>\r\n\r\n");
  CHECK(event.type() == ami::message_type::event);
  CHECK(event.is_event("originateresponse"));
  CHECK_FALSE(event.response().has_value());
  CHECK(event.get("Response") == "Failure");
  CHECK(event.get("Reason") == "8");
  CHECK(event.action_id() == "2");
}

TEST_CASE("ami CoreShowChannels event list", "[ami]") {
  const auto messages = parse_blocks(
      "Response: Success\r\nActionID: 9\r\nEventList: start\r\nMessage: Channels will "
      "follow\r\n\r\n"
      "Event: CoreShowChannel\r\nActionID: 9\r\nChannel: AudioSocket/127.0.0.1:5052-" +
      std::string(call_uuid) +
      "\r\nUniqueid: 1725300000.20\r\nApplication: AppDial\r\nApplicationData: (Outgoing Line)\r\n"
      "Duration: 00:00:07\r\n\r\n"
      "Event: CoreShowChannel\r\nActionID: 9\r\nChannel: PJSIP/trunk-00000002\r\n"
      "Uniqueid: 1725300000.14\r\nApplication: Dial\r\n"
      "ApplicationData: AudioSocket/127.0.0.1:5052/" +
      std::string(call_uuid) +
      "/c(slin16)\r\nDuration: 00:00:07\r\n\r\n"
      "Event: CoreShowChannelsComplete\r\nActionID: 9\r\nEventList: Complete\r\nListItems: 2\r\n"
      "\r\n");
  REQUIRE(messages.size() == 4);
  CHECK(messages[0].get("EventList") == "start");
  CHECK(messages[1].get("Channel") == "AudioSocket/127.0.0.1:5052-" + std::string(call_uuid));
  CHECK(messages[2].get("ApplicationData") ==
        "AudioSocket/127.0.0.1:5052/" + std::string(call_uuid) + "/c(slin16)");
  CHECK(messages[3].is_event("CoreShowChannelsComplete"));
  CHECK(messages[3].get("EventList") == "Complete");
  CHECK(messages[3].get("ListItems") == "2");
  for (const auto& m : messages)
    CHECK(m.action_id() == "9");
}

TEST_CASE("ami Hangup, Newexten and VarSet events", "[ami]") {
  const auto messages = parse_blocks(
      "Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: Local/ai@ai-agent-00000001;2\r\n"
      "Variable: CALL_UUID\r\nValue: " +
      std::string(call_uuid) +
      "\r\n\r\n"
      "Event: Newexten\r\nPrivilege: dialplan,all\r\nChannel: Local/ai@ai-agent-00000001;2\r\n"
      "Extension: ai\r\nApplication: AudioSocket\r\nAppData: " +
      std::string(call_uuid) +
      ",127.0.0.1:5052\r\n\r\n"
      "Event: Hangup\r\nPrivilege: call,all\r\nChannel: Local/ai@ai-agent-00000001;2\r\n"
      "Uniqueid: 1725300000.13\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n");
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].is_event("VarSet"));
  CHECK(messages[0].get("Variable") == "CALL_UUID");
  CHECK(messages[0].get("Value") == call_uuid);
  CHECK(messages[1].get("Application") == "AudioSocket");
  CHECK(messages[1].get("AppData") == std::string(call_uuid) + ",127.0.0.1:5052");
  CHECK(messages[2].is_event("Hangup"));
  CHECK(messages[2].get("Cause") == "16");
  CHECK(messages[2].get("Cause-txt") == "Normal Clearing");
}

TEST_CASE("ami Command answer keeps every Output line in order", "[ami]") {
  const auto answer = single_block(
      "Response: Success\r\nActionID: 4\r\nMessage: Command output follows\r\n"
      "Output: Channel              Location             State   Application(Data)\r\n"
      "Output: PJSIP/trunk-00000002 ai@ai-agent:3        Up      AudioSocket(" +
      std::string(call_uuid) +
      ",127.0.0.1:5052)\r\n"
      "Output: \r\n"
      "Output: 1 active channel\r\n\r\n");
  const auto output = answer.get_all("output");
  REQUIRE(output.size() == 4);
  CHECK(output[0].substr(0, 7) == "Channel");
  CHECK(output[1].find("AudioSocket(") != std::string_view::npos);
  CHECK(output[2].empty());
  CHECK(output[3] == "1 active channel");
  CHECK(answer.get("Output") == output[0]);
}

TEST_CASE("ami old-style Follows answer keeps its raw output, blank lines included", "[ami]") {
  const auto messages = parse_blocks(
      "Response: Follows\r\nPrivilege: Command\r\nActionID: 5\r\n"
      "Channel              Location             State   Application(Data)\n"
      "\n"
      "0 active channels\n"
      "--END COMMAND--\r\n\r\n"
      "Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n");
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].headers ==
        headers{{"Response", "Follows"},
                {"Privilege", "Command"},
                {"ActionID", "5"},
                {"", "Channel              Location             State   Application(Data)"},
                {"", ""},
                {"", "0 active channels"},
                {"", "--END COMMAND--"}});
  CHECK(messages[0].response() == "Follows");
  CHECK(messages[0].action_id() == "5");
  CHECK(messages[1].is_event("FullyBooted"));

  // Output without a final newline gets the marker glued to its last line.
  const auto glued = parse_blocks(
      "Response: Follows\r\nPrivilege: Command\r\nNo such command\n\nUsage--END COMMAND--\r\n\r\n"
      "Event: Shutdown\r\n\r\n");
  REQUIRE(glued.size() == 2);
  CHECK(glued[0].headers.back() == std::pair<std::string, std::string>{"", "Usage--END COMMAND--"});
  CHECK(glued[1].is_event("Shutdown"));
}

TEST_CASE("ami splits at the first colon-space only", "[ami]") {
  const auto m = single_block(
      "Event: Newexten\r\nAppData: x,127.0.0.1:5052\r\nChannel: AudioSocket/127.0.0.1:5052-abc\r\n"
      "Data: key: value: more\r\nTime:12:30\r\nAccountCode:\r\nCallerIDName: \r\n"
      "Trailing: spaces kept  \r\n\r\n");
  CHECK(m.headers == headers{{"Event", "Newexten"},
                             {"AppData", "x,127.0.0.1:5052"},
                             {"Channel", "AudioSocket/127.0.0.1:5052-abc"},
                             {"Data", "key: value: more"},
                             {"", "Time:12:30"},
                             {"AccountCode", ""},
                             {"CallerIDName", ""},
                             {"Trailing", "spaces kept  "}});
}

TEST_CASE("ami keeps repeated keys in order and looks keys up case-insensitively", "[ami]") {
  const auto m =
      single_block("Action: Originate\r\nVariable: A=1\r\nvariable: B=2\r\nVARIABLE: C=3\r\n\r\n");
  CHECK(m.type() == ami::message_type::action);
  CHECK(m.get("Variable") == "A=1");
  CHECK(m.get_all("variable") == std::vector<std::string_view>{"A=1", "B=2", "C=3"});
  CHECK(m.has("ACTION"));
  CHECK_FALSE(m.has("Channel"));
  CHECK_FALSE(m.get("Channel").has_value());
  CHECK(m.get_all("Channel").empty());
  CHECK_FALSE(m.response().has_value());
  CHECK_FALSE(m.event().has_value());
  CHECK_FALSE(m.is_event("Originate"));

  CHECK(single_block("Message: orphan\r\n\r\n").type() == ami::message_type::unknown);
  CHECK(ami::iequals("Cause-TXT", "cause-txt"));
  CHECK_FALSE(ami::iequals("Cause", "Causes"));
  CHECK_FALSE(ami::iequals("[", "{"));  // 0x5b and 0x7b differ only in the case bit
}

TEST_CASE("ami accepts LF-only and mixed line ends", "[ami]") {
  const auto blocks = ai_call_blocks();
  const auto crlf = parse_whole("Asterisk Call Manager/11.0.0\r\n" + to_wire(blocks));
  const auto lf = parse_whole("Asterisk Call Manager/11.0.0\n" + to_wire(blocks, "\n"));
  REQUIRE_FALSE(crlf.error.has_value());
  REQUIRE_FALSE(lf.error.has_value());
  CHECK(lf.banners == crlf.banners);
  CHECK(lf.messages == crlf.messages);

  std::string mixed = "Asterisk Call Manager/11.0.0\n";
  std::size_t line = 0;
  for (const char c : to_wire(blocks)) {
    if (c == '\r' && line++ % 3 == 0) continue;
    mixed += c;
  }
  const auto mixed_result = parse_whole(mixed);
  REQUIRE_FALSE(mixed_result.error.has_value());
  CHECK(mixed_result.messages == crlf.messages);
}

TEST_CASE("ami skips blank lines between blocks and holds an unfinished block", "[ami]") {
  const auto result =
      parse_whole("\r\n\r\nEvent: A\r\n\r\n\n\r\nEvent: B\r\nCause: 16\r\n", {false});
  REQUIRE(result.messages.size() == 1);
  CHECK(result.messages[0].headers == headers{{"Event", "A"}});
  CHECK(result.mid_message);
}

TEST_CASE("ami AI call stream gives the same messages however it is split", "[ami]") {
  const auto stream = ai_call_stream();
  const auto blocks = ai_call_blocks();
  const auto whole = parse_whole(stream);
  REQUIRE_FALSE(whole.error.has_value());
  CHECK_FALSE(whole.mid_message);
  REQUIRE(whole.banners == std::vector<std::string>{"11.0.0"});
  REQUIRE(whole.messages.size() == blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i)
    CHECK(whole.messages[i].headers == blocks[i]);

  SECTION("split at every byte boundary") {
    for (std::size_t split = 0; split <= stream.size(); ++split) {
      const auto result = parse_chunks(stream, {split});
      REQUIRE_FALSE(result.error.has_value());
      REQUIRE(result.banners == whole.banners);
      REQUIRE(result.messages == whole.messages);
    }
  }
  SECTION("one byte at a time") {
    const auto result = parse_chunks(stream, std::vector<std::size_t>(stream.size(), 1));
    CHECK(result.banners == whole.banners);
    CHECK(result.messages == whole.messages);
  }
  SECTION("random chunk sizes") {
    for (const std::uint32_t seed : {1U, 7U, 99U}) {
      std::mt19937 rng(seed);
      std::uniform_int_distribution<std::size_t> size(1, 200);
      std::vector<std::size_t> chunks;
      for (std::size_t total = 0; total < stream.size();) {
        chunks.push_back(size(rng));
        total += chunks.back();
      }
      const auto result = parse_chunks(stream, chunks);
      REQUIRE(result.messages == whole.messages);
    }
  }
}

TEST_CASE("ami bounds a line, whether it arrives whole or in pieces", "[ami]") {
  ami::parser_options options{false, 16, 8, 1024};
  const std::string at_limit = "Key: 0123456789A\r\n\r\n";  // 16 bytes before the CR
  CHECK(parse_whole(at_limit, options).messages.size() == 1);
  CHECK(parse_chunks(at_limit, {17}, options).messages.size() == 1);  // split between CR and LF

  const std::string text = "Event: A\r\n\r\nKey: 0123456789AB\r\n\r\nEvent: C\r\n\r\n";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const auto result = parse_chunks(text, {split}, options);
    REQUIRE(result.error == ami::parse_error{ami::parse_error_code::line_too_long, 3});
    REQUIRE(result.messages.size() == 1);
    REQUIRE_FALSE(result.mid_message);
  }
  // A line that never ends is refused once it cannot be a 16-byte line and its CR.
  CHECK_FALSE(parse_chunks(std::string(17, 'x'), {10}, options).error.has_value());
  const auto endless = parse_chunks(std::string(18, 'x'), {10}, options);
  CHECK(endless.error == ami::parse_error{ami::parse_error_code::line_too_long, 1});
}

TEST_CASE("ami bounds the lines and bytes of a block", "[ami]") {
  std::string block;
  for (int i = 0; i < 9; ++i)
    block += "Output: line\r\n";
  block += "\r\n";
  const auto too_many = parse_whole("Event: A\r\n\r\n" + block, {false, 1024, 8, 1 << 20});
  CHECK(too_many.error == ami::parse_error{ami::parse_error_code::too_many_headers, 11});
  CHECK(too_many.messages.size() == 1);

  const auto too_large = parse_whole(block, {false, 1024, 100, 50});
  CHECK(too_large.error == ami::parse_error{ami::parse_error_code::message_too_large, 5});

  ami::parser p({false, 1024, 8, 1 << 20});
  const auto ignore = [](auto&&) {};
  const auto first = p.feed(block, ignore, ignore);
  REQUIRE_FALSE(first.has_value());
  CHECK(p.failed());
  const auto again = p.feed("Event: B\r\n\r\n", ignore, ignore);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error() == first.error());
  CHECK(ami::to_string(again.error()) == "too_many_headers at line 9");
}

TEST_CASE("ami builds the login action byte-exact", "[ami]") {
  CHECK(serialized(ami::login("bridge", "s3cret", "1")) ==
        "Action: Login\r\nActionID: 1\r\nUsername: bridge\r\nSecret: s3cret\r\n\r\n");
  CHECK(serialized(ami::logoff()) == "Action: Logoff\r\n\r\n");
  CHECK(serialized(ami::ping("ka-3")) == "Action: Ping\r\nActionID: ka-3\r\n\r\n");
  CHECK(serialized(ami::core_show_channels("resync-1")) ==
        "Action: CoreShowChannels\r\nActionID: resync-1\r\n\r\n");
}

TEST_CASE("ami builds Originate byte-exact", "[ami]") {
  ami::originate_fields fields;
  fields.channel = "Local/5551234@outbound";
  fields.target = ami::dialplan_target{"ai-agent", "ai", "1"};
  fields.timeout = 30s;
  fields.caller_id = "\"Sales\" <5550000>";
  fields.variables = {{"CALL_UUID", std::string(call_uuid)},
                      {"__LEAD_ID", "8812"},
                      {"CUSTOMER", R"(Smith, John (VIP) "Jo" [x] C:\dir)"}};
  fields.channel_id = "1725300000.99";
  CHECK(serialized(ami::originate(fields, "2")) ==
        "Action: Originate\r\nActionID: 2\r\nChannel: Local/5551234@outbound\r\n"
        "Context: ai-agent\r\nExten: ai\r\nPriority: 1\r\nTimeout: 30000\r\n"
        "CallerID: \"Sales\" <5550000>\r\n"
        "Variable: CALL_UUID=0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60\r\n"
        "Variable: __LEAD_ID=8812\r\n"
        "Variable: CUSTOMER=Smith\\, John \\(VIP\\) \\\"Jo\\\" \\[x\\] C:\\\\dir\r\n"
        "ChannelId: 1725300000.99\r\nAsync: true\r\n\r\n");

  ami::originate_fields app;
  app.channel = "PJSIP/trunk/5551234";
  app.target = ami::application_target{"AudioSocket", std::string(call_uuid) + ",127.0.0.1:5052"};
  app.async = false;
  CHECK(serialized(ami::originate(app)) ==
        "Action: Originate\r\nChannel: PJSIP/trunk/5551234\r\nApplication: AudioSocket\r\n"
        "Data: 0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60,127.0.0.1:5052\r\n\r\n");
}

TEST_CASE("ami builds Hangup, Redirect, Getvar, Setvar and PlayDTMF byte-exact", "[ami]") {
  CHECK(serialized(ami::hangup("PJSIP/trunk-00000002", 16, "h1")) ==
        "Action: Hangup\r\nActionID: h1\r\nChannel: PJSIP/trunk-00000002\r\nCause: 16\r\n\r\n");
  CHECK(serialized(ami::hangup("/^Local\\/ai@ai-agent-00000001;.$/")) ==
        "Action: Hangup\r\nChannel: /^Local\\/ai@ai-agent-00000001;.$/\r\n\r\n");

  ami::redirect_fields transfer;
  transfer.channel = "PJSIP/trunk-00000002";
  transfer.context = "from-internal";
  transfer.exten = "8300";
  CHECK(serialized(ami::redirect(transfer, "r1")) ==
        "Action: Redirect\r\nActionID: r1\r\nChannel: PJSIP/trunk-00000002\r\n"
        "Context: from-internal\r\nExten: 8300\r\nPriority: 1\r\n\r\n");
  transfer.extra_channel = "Local/ai@ai-agent-00000001;1";
  transfer.extra_target = ami::dialplan_target{"park", "700", "hold"};
  CHECK(serialized(ami::redirect(transfer)) ==
        "Action: Redirect\r\nChannel: PJSIP/trunk-00000002\r\nContext: from-internal\r\n"
        "Exten: 8300\r\nPriority: 1\r\nExtraChannel: Local/ai@ai-agent-00000001;1\r\n"
        "ExtraContext: park\r\nExtraExten: 700\r\nExtraPriority: hold\r\n\r\n");

  CHECK(serialized(ami::getvar("PJSIP/trunk-00000002", "LEAD_ID", "g1")) ==
        "Action: Getvar\r\nActionID: g1\r\nChannel: PJSIP/trunk-00000002\r\nVariable: "
        "LEAD_ID\r\n\r\n");
  CHECK(serialized(ami::getvar("", "GLOBAL_FLAG")) ==
        "Action: Getvar\r\nVariable: GLOBAL_FLAG\r\n\r\n");
  CHECK(serialized(ami::setvar("PJSIP/trunk-00000002", "AI_OUTCOME", "sale, callback")) ==
        "Action: Setvar\r\nChannel: PJSIP/trunk-00000002\r\nVariable: AI_OUTCOME\r\n"
        "Value: sale, callback\r\n\r\n");

  CHECK(serialized(ami::play_dtmf("PJSIP/trunk-00000002", '#', 250ms, "d1")) ==
        "Action: PlayDTMF\r\nActionID: d1\r\nChannel: PJSIP/trunk-00000002\r\nDigit: #\r\n"
        "Duration: 250\r\n\r\n");
  CHECK(serialized(ami::play_dtmf("PJSIP/trunk-00000002", '7')) ==
        "Action: PlayDTMF\r\nChannel: PJSIP/trunk-00000002\r\nDigit: 7\r\n\r\n");
  CHECK(refusal(ami::play_dtmf("PJSIP/trunk-00000002", 'x')) ==
        ami::action_error{ami::action_error_code::bad_dtmf_digit, "Digit"});
}

TEST_CASE("ami numbers an already built action with its ActionID as the second line", "[ami]") {
  const auto getvar = ami::getvar("PJSIP/trunk-00000002", "LEAD_ID");
  CHECK(serialized(getvar.with_action_id("17")) ==
        "Action: Getvar\r\nActionID: 17\r\nChannel: PJSIP/trunk-00000002\r\nVariable: "
        "LEAD_ID\r\n\r\n");
  // The original is untouched; an id it was built with is replaced, not repeated.
  CHECK(serialized(getvar) ==
        "Action: Getvar\r\nChannel: PJSIP/trunk-00000002\r\nVariable: LEAD_ID\r\n\r\n");
  CHECK(serialized(ami::ping("ka-3").with_action_id("18")) ==
        "Action: Ping\r\nActionID: 18\r\n\r\n");
  CHECK(serialized(ami::ping("ka-3").with_action_id("")) == "Action: Ping\r\n\r\n");
  CHECK(serialized(ami::logoff().with_action_id("a").with_action_id("b")) ==
        "Action: Logoff\r\nActionID: b\r\n\r\n");

  CHECK(refusal(ami::ping().with_action_id("1\r\nAction: Originate")) ==
        ami::action_error{ami::action_error_code::bad_value, "ActionID"});
  // An unsendable action stays unsendable, with its first refusal.
  CHECK(refusal(ami::hangup("bad\n").with_action_id("19")) ==
        ami::action_error{ami::action_error_code::bad_value, "Channel"});
  // The id counts against Asterisk's header limit.
  auto full = ami::ping();
  for (std::size_t i = 1; i < ami::max_action_headers; ++i)
    full.add("Variable", "A=1");
  CHECK(refusal(full.with_action_id("20")) ==
        ami::action_error{ami::action_error_code::too_many_headers, "ActionID"});
}

TEST_CASE("ami refuses header injection in values and keys", "[ami]") {
  const std::string attacks[] = {"x\r\nAction: Originate", "x\nApplication: System",
                                 "x\rChannel: y", std::string("x\0y", 3)};
  for (const auto& attack : attacks) {
    CHECK(refusal(ami::hangup(attack)) ==
          ami::action_error{ami::action_error_code::bad_value, "Channel"});
    CHECK(refusal(ami::action("Ping", attack)) ==
          ami::action_error{ami::action_error_code::bad_value, "ActionID"});
    CHECK(refusal(ami::action(attack)) ==
          ami::action_error{ami::action_error_code::bad_value, "Action"});
    CHECK(refusal(ami::ping().add(attack, "1")) ==
          ami::action_error{ami::action_error_code::bad_key, ""});
  }
  CHECK(refusal(ami::ping().add("Channel: x", "1")).code == ami::action_error_code::bad_key);
  CHECK(refusal(ami::ping().add("", "1")).code == ami::action_error_code::bad_key);

  // The secret never shows in the error.
  const auto error = refusal(ami::login("bridge", "hunter2\r\nAction: Originate"));
  CHECK(error == ami::action_error{ami::action_error_code::bad_value, "Secret"});
  CHECK(ami::to_string(error) == "bad_value in header Secret");

  // The first refusal stands; later good headers do not clear it.
  auto later = ami::hangup("bad\n");
  later.add("Cause", "16");
  CHECK(refusal(later).key == "Channel");
}

TEST_CASE("ami refuses Originate variables that would change meaning", "[ami]") {
  for (const char* name : {"", "A=B", "A,B", "A B", "A\\B", "LEAD\"ID"}) {
    ami::originate_fields fields;
    fields.channel = "Local/1@x";
    fields.variables = {{"OK", "1"}, {name, "1"}};
    CHECK(refusal(ami::originate(fields)) ==
          ami::action_error{ami::action_error_code::bad_variable_name, "Variable"});
  }
  ami::originate_fields fields;
  fields.channel = "Local/1@x";
  fields.variables = {{"CDR(userfield)", "a=b"}};
  CHECK(serialized(ami::originate(fields)).find("Variable: CDR(userfield)=a=b\r\n") !=
        std::string::npos);
  fields.variables = {{"V", "line\nAction: Originate"}};
  CHECK(refusal(ami::originate(fields)).code == ami::action_error_code::bad_value);
}

TEST_CASE("ami refuses what Asterisk would cut or drop", "[ami]") {
  // "Data: " plus 1016 bytes is 1022, the longest line Asterisk reads whole.
  CHECK(serialized(ami::ping().add("Data", std::string(1016, 'x'))).size() ==
        std::string("Action: Ping\r\n").size() + 1022 + 2 + 2);
  CHECK(refusal(ami::ping().add("Data", std::string(1017, 'x'))) ==
        ami::action_error{ami::action_error_code::line_too_long, "Data"});

  auto at_limit = ami::ping();
  for (std::size_t i = 1; i < ami::max_action_headers; ++i)
    at_limit.add("Variable", "A=1");
  CHECK_FALSE(serialized(at_limit).empty());
  at_limit.add("Variable", "A=2");
  CHECK(refusal(at_limit) ==
        ami::action_error{ami::action_error_code::too_many_headers, "Variable"});
}

TEST_CASE("ami actions parse back to their headers", "[ami]") {
  ami::originate_fields fields;
  fields.channel = "Local/5551234@outbound";
  fields.target = ami::dialplan_target{"ai-agent", "ai", "1"};
  fields.variables = {{"CALL_UUID", std::string(call_uuid)}, {"MODE", "x:y: z"}};
  const auto text = serialized(ami::login("bridge", "s3cret", "1")) +
                    serialized(ami::originate(fields, "2")) + serialized(ami::logoff("3"));
  const auto messages = parse_blocks(text);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].headers ==
        headers{
            {"Action", "Login"}, {"ActionID", "1"}, {"Username", "bridge"}, {"Secret", "s3cret"}});
  CHECK(messages[1].get_all("Variable") ==
        std::vector<std::string_view>{"CALL_UUID=0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60",
                                      "MODE=x:y: z"});
  CHECK(messages[1].get("Async") == "true");
  CHECK(messages[2].type() == ami::message_type::action);
  CHECK(messages[2].action_id() == "3");
}
