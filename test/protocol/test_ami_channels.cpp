#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/ami.hpp"
#include "protocol/ami_channels.hpp"

namespace ami = cb::ami;

namespace {

using uuids = std::vector<std::string>;

constexpr std::string_view call_uuid = "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60";
constexpr std::string_view other_uuid = "5b0d8c1e-7a51-4c3e-b1f0-9e8d7c6b5a40";

// One block as Asterisk 22 writes it, given without its final empty line (LF line ends here; the
// parser takes both).
ami::message block(std::string_view lines) {
  ami::parser parser(ami::parser_options{false});
  std::vector<ami::message> messages;
  const auto fed = parser.feed(
      std::string(lines) + "\n", [](std::string_view) {},
      [&](ami::message&& m) { messages.push_back(std::move(m)); });
  REQUIRE(fed.has_value());
  REQUIRE(messages.size() == 1);
  return std::move(messages.front());
}

// The channel snapshot every channel event carries, for the event `event`, then `extra` lines.
ami::message channel_event(std::string_view event, std::string_view name, std::string_view uniqueid,
                           std::string_view extra = {}, std::string_view linkedid = {}) {
  std::string text =
      "Event: " + std::string(event) + "\nPrivilege: call,all\nChannel: " + std::string(name) +
      "\nChannelState: 6\nChannelStateDesc: Up\nCallerIDNum: 5551234\n"
      "CallerIDName: <unknown>\nConnectedLineNum: <unknown>\n"
      "ConnectedLineName: <unknown>\nLanguage: en\nAccountCode: \n"
      "Context: ai-agent\nExten: ai\nPriority: 1\nUniqueid: " +
      std::string(uniqueid) + "\nLinkedid: " + std::string(linkedid.empty() ? uniqueid : linkedid) +
      "\n" + std::string(extra);
  return block(text);
}

ami::message hangup(std::string_view name, std::string_view uniqueid, int cause,
                    std::string_view text) {
  return channel_event(
      "Hangup", name, uniqueid,
      "Cause: " + std::to_string(cause) + "\nCause-txt: " + std::string(text) + "\n");
}

}  // namespace

TEST_CASE("ami_channels reads a UUID from each place Asterisk shows it", "[ami_channels]") {
  CHECK(ami::parse_uuid(call_uuid) == std::string(call_uuid));
  CHECK(ami::parse_uuid("0F7F4F6E-2C2B-4A4B-9A2C-1B2C3D4E5F60") == std::string(call_uuid));
  CHECK_FALSE(ami::parse_uuid("0f7f4f6e2c2b4a4b9a2c1b2c3d4e5f60").has_value());
  CHECK_FALSE(ami::parse_uuid("0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f6g").has_value());
  CHECK_FALSE(ami::parse_uuid("0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f600").has_value());
  CHECK_FALSE(ami::parse_uuid("").has_value());

  CHECK(ami::audiosocket_channel_uuid("AudioSocket/127.0.0.1:5050-" + std::string(call_uuid)) ==
        std::string(call_uuid));
  CHECK(ami::audiosocket_channel_uuid("AudioSocket/bridge-host.example:5050-" +
                                      std::string(call_uuid)) == std::string(call_uuid));
  CHECK(ami::audiosocket_channel_uuid("audiosocket/[::1]:5050-" + std::string(call_uuid)) ==
        std::string(call_uuid));
  CHECK_FALSE(ami::audiosocket_channel_uuid("PJSIP/127.0.0.1:5050-" + std::string(call_uuid)));
  CHECK_FALSE(
      ami::audiosocket_channel_uuid("AudioSocket/127.0.0.1:5050_" + std::string(call_uuid)));
  CHECK_FALSE(ami::audiosocket_channel_uuid("AudioSocket/-00000001"));

  CHECK(ami::audiosocket_app_uuid(std::string(call_uuid) + ",127.0.0.1:5052") ==
        std::string(call_uuid));
  CHECK(ami::audiosocket_app_uuid(std::string(call_uuid) + ",bridge:5052,10") ==
        std::string(call_uuid));
  CHECK(ami::audiosocket_app_uuid(" " + std::string(call_uuid) + " ,127.0.0.1:5052") ==
        std::string(call_uuid));
  CHECK_FALSE(ami::audiosocket_app_uuid("127.0.0.1:5052," + std::string(call_uuid)));
  CHECK_FALSE(ami::audiosocket_app_uuid(""));
}

TEST_CASE("ami_channels links an inbound call by its UUID variable and forgets it at Hangup",
          "[ami_channels]") {
  ami::channel_table table;
  const auto created = table.feed(block(R"(Event: Newchannel
Privilege: call,all
Channel: PJSIP/trunk-00000007
ChannelState: 4
ChannelStateDesc: Ring
CallerIDNum: 5551234
CallerIDName: <unknown>
ConnectedLineNum: <unknown>
ConnectedLineName: <unknown>
Language: en
AccountCode: 
Context: from-trunk
Exten: 18005550100
Priority: 1
Uniqueid: 1725300100.21
Linkedid: 1725300100.21
)"));
  CHECK(created.linked.empty());
  CHECK(created.uuids.empty());
  CHECK(table.size() == 1);

  // The dialplan wrote the UUID in upper case; links are kept lowercase.
  const auto varset = table.feed(block(R"(Event: VarSet
Privilege: dialplan,all
Channel: PJSIP/trunk-00000007
ChannelState: 6
ChannelStateDesc: Up
CallerIDNum: 5551234
CallerIDName: <unknown>
ConnectedLineNum: <unknown>
ConnectedLineName: <unknown>
Language: en
AccountCode: 
Context: callbridge-ai
Exten: s
Priority: 2
Uniqueid: 1725300100.21
Linkedid: 1725300100.21
Variable: CALL_UUID
Value: 0F7F4F6E-2C2B-4A4B-9A2C-1B2C3D4E5F60
)"));
  CHECK(varset.linked == uuids{std::string(call_uuid)});
  CHECK(varset.uuids == uuids{std::string(call_uuid)});

  const auto* ch = table.find_uuid(call_uuid);
  REQUIRE(ch != nullptr);
  CHECK(ch->name == "PJSIP/trunk-00000007");
  CHECK(ch->uniqueid == "1725300100.21");
  CHECK(ch->caller_id_num == "5551234");
  CHECK(ch->caller_id_name.empty());
  CHECK(ch->exten == "18005550100");  // where the call came in, not where the dialplan went
  CHECK(ch->context == "from-trunk");
  CHECK(table.find_uniqueid("1725300100.21") == ch);

  // The AudioSocket() that follows names the same UUID: no second link.
  const auto newexten = table.feed(
      channel_event("Newexten", "PJSIP/trunk-00000007", "1725300100.21",
                    "Extension: s\nApplication: AudioSocket\nAppData: " + std::string(call_uuid) +
                        ",127.0.0.1:5050\n"));
  CHECK(newexten.linked.empty());
  CHECK(newexten.uuids == uuids{std::string(call_uuid)});

  const auto gone =
      table.feed(hangup("PJSIP/trunk-00000007", "1725300100.21", 16, "Normal Clearing"));
  CHECK(gone.hangup);
  CHECK(gone.cause == 16);
  CHECK(gone.cause_text == "Normal Clearing");
  CHECK(gone.uuids == uuids{std::string(call_uuid)});
  CHECK(table.find_uuid(call_uuid) == nullptr);
  CHECK(table.size() == 0);
  CHECK(table.links() == 0);

  // Late events about the dead channel do not bring it back.
  CHECK(table
            .feed(block("Event: Cdr\nPrivilege: cdr,all\nChannel: PJSIP/trunk-00000007\n"
                        "UniqueID: 1725300100.21\nDisposition: ANSWERED\n"))
            .uuids.empty());
  CHECK(table.size() == 0);
  // A second Hangup of it is nothing.
  CHECK_FALSE(
      table.feed(hangup("PJSIP/trunk-00000007", "1725300100.21", 16, "Normal Clearing")).hangup);
}

TEST_CASE("ami_channels links through AudioSocket's AppData, whatever the keys' case",
          "[ami_channels]") {
  // The dialplan keeps the UUID in a variable the bridge was not told about: only the
  // application's arguments name it. Keys in other case, a repeated key, and a third argument.
  ami::channel_table table;
  const auto linked =
      table.feed(block("event: Newexten\nprivilege: dialplan,all\n"
                       "CHANNEL: PJSIP/100-00000001\nUNIQUEID: 1725300200.5\n"
                       "linkedid: 1725300200.5\nContext: ai\nExten: s\n"
                       "extension: s\napplication: audiosocket\n"
                       "Application: Ignored\nappdata: " +
                       std::string(other_uuid) + ",10.0.0.5:5050,5\n"));
  CHECK(linked.linked == uuids{std::string(other_uuid)});
  const auto* ch = table.find_uuid(other_uuid);
  REQUIRE(ch != nullptr);
  CHECK(ch->name == "PJSIP/100-00000001");
  CHECK(ch->uniqueid == "1725300200.5");

  // A VarSet of some other variable links nothing; nor does one whose value is no UUID.
  ami::channel_table plain;
  CHECK(plain
            .feed(channel_event("VarSet", "PJSIP/100-00000002", "1725300200.6",
                                "Variable: LEAD_ID\nValue: " + std::string(call_uuid) + "\n"))
            .linked.empty());
  CHECK(plain
            .feed(channel_event("VarSet", "PJSIP/100-00000002", "1725300200.6",
                                "Variable: CALL_UUID\nValue: not-a-uuid\n"))
            .linked.empty());
  CHECK(plain
            .feed(channel_event("Newexten", "PJSIP/100-00000002", "1725300200.6",
                                "Application: Playback\nAppData: " + std::string(call_uuid) + "\n"))
            .linked.empty());
  CHECK(plain.links() == 0);
  CHECK(plain.size() == 1);
}

TEST_CASE("ami_channels matches the UUID variable case-insensitively and through inheritance",
          "[ami_channels]") {
  ami::channel_table_options options;
  options.uuid_variable = "call_uuid";
  ami::channel_table table(options);
  CHECK(table
            .feed(channel_event("VarSet", "PJSIP/100-00000003", "1725300300.1",
                                "Variable: __CALL_UUID\nValue: " + std::string(call_uuid) + "\n"))
            .linked == uuids{std::string(call_uuid)});

  options.uuid_variable.clear();
  ami::channel_table without(options);
  CHECK(without
            .feed(channel_event("VarSet", "PJSIP/100-00000003", "1725300300.1",
                                "Variable: CALL_UUID\nValue: " + std::string(call_uuid) + "\n"))
            .linked.empty());
}

TEST_CASE("ami_channels ignores unknown and channel-less events", "[ami_channels]") {
  ami::channel_table table;
  for (const auto& message : {
           block("Event: FullyBooted\nPrivilege: system,all\nUptime: 5\nStatus: Fully Booted\n"),
           block("Response: Success\nActionID: 3\nPing: Pong\n"),
           block("Event: SomethingNew\nChannel: PJSIP/1-1\nUniqueid: 99.1\nAppData: " +
                 std::string(call_uuid) + "\n"),
           block("Event: Newchannel\nChannel: PJSIP/1-2\n"),
       }) {
    const auto update = table.feed(message);
    CHECK(update.linked.empty());
    CHECK(update.uuids.empty());
    CHECK_FALSE(update.hangup);
  }
  CHECK(table.size() == 0);
}

TEST_CASE("ami_channels follows the leg of a Local pair that runs AudioSocket", "[ami_channels]") {
  // Originate on Local/ai@ai-agent: ;2 runs the AI dialplan, ;1 is bridged to the callee.
  const std::string one = "Local/ai@ai-agent-00000001;1";
  const std::string two = "Local/ai@ai-agent-00000001;2";
  ami::channel_table table;
  table.feed(channel_event("Newchannel", one, "1725300000.12"));
  table.feed(channel_event("Newchannel", two, "1725300000.13", {}, "1725300000.12"));
  const auto varset = table.feed(channel_event(
      "VarSet", two, "1725300000.13",
      "Variable: CALL_UUID\nValue: " + std::string(call_uuid) + "\n", "1725300000.12"));
  CHECK(varset.linked == uuids{std::string(call_uuid)});
  CHECK(table.find_uuid(call_uuid)->name == two);

  CHECK(table
            .feed(block("Event: LocalBridge\nPrivilege: call,all\nLocalOneChannel: " + one +
                        "\nLocalTwoChannel: " + two + "\nLocalOptimization: Yes\n"))
            .uuids.empty());
  // The other leg's events are not the call's.
  CHECK(table.feed(channel_event("Newstate", one, "1725300000.12")).uuids.empty());
  CHECK(table
            .feed(block("Event: OriginateResponse\nPrivilege: call,all\nActionID: 2\n"
                        "Response: Success\nChannel: " +
                        one + "\nReason: 4\nUniqueid: 1725300000.12\n"))
            .uuids.empty());
  // A dial whose called side is the watched leg concerns it.
  CHECK(table
            .feed(block("Event: DialEnd\nPrivilege: call,all\nDestChannel: " + two +
                        "\nDestUniqueid: 1725300000.13\nDialStatus: ANSWER\n"))
            .uuids == uuids{std::string(call_uuid)});

  const auto first = table.feed(hangup(one, "1725300000.12", 16, "Normal Clearing"));
  CHECK(first.hangup);
  CHECK(first.uuids.empty());
  CHECK(table.find_uuid(call_uuid) != nullptr);
  const auto second = table.feed(hangup(two, "1725300000.13", 16, "Normal Clearing"));
  CHECK(second.hangup);
  CHECK(second.uuids == uuids{std::string(call_uuid)});
  CHECK(table.size() == 0);
}

TEST_CASE("ami_channels links a chan_audiosocket channel by its name unless the caller has it",
          "[ami_channels]") {
  const std::string audiosocket = "AudioSocket/127.0.0.1:5050-" + std::string(call_uuid);
  SECTION("no variable: the AudioSocket channel carries the call") {
    ami::channel_table table;
    const auto created = table.feed(channel_event("Newchannel", audiosocket, "1725300400.2"));
    CHECK(created.linked == uuids{std::string(call_uuid)});
    CHECK(table.find_uuid(call_uuid)->name == audiosocket);
    CHECK(table.feed(hangup(audiosocket, "1725300400.2", 16, "Normal Clearing")).uuids ==
          uuids{std::string(call_uuid)});
  }
  SECTION("the caller's channel set the variable before Dial: it keeps the link") {
    ami::channel_table table;
    table.feed(channel_event("VarSet", "PJSIP/trunk-00000009", "1725300400.1",
                             "Variable: CALL_UUID\nValue: " + std::string(call_uuid) + "\n"));
    CHECK(table.feed(channel_event("Newchannel", audiosocket, "1725300400.2")).linked.empty());
    CHECK(table.find_uuid(call_uuid)->name == "PJSIP/trunk-00000009");
    // The AudioSocket leg ending does not end the caller's channel.
    CHECK(table.feed(hangup(audiosocket, "1725300400.2", 16, "Normal Clearing")).uuids.empty());
    CHECK(table.find_uuid(call_uuid) != nullptr);
  }
}

TEST_CASE("ami_channels keeps a channel's links across a Rename", "[ami_channels]") {
  ami::channel_table table;
  table.feed(channel_event("VarSet", "PJSIP/trunk-0000000a", "1725300500.1",
                           "Variable: CALL_UUID\nValue: " + std::string(call_uuid) + "\n"));
  const auto renamed =
      table.feed(block("Event: Rename\nPrivilege: call,all\nChannel: PJSIP/trunk-0000000a\n"
                       "Newname: PJSIP/trunk-0000000a<MASQ>\nUniqueid: 1725300500.1\n"));
  CHECK(renamed.uuids == uuids{std::string(call_uuid)});
  CHECK(table.find_uuid(call_uuid)->name == "PJSIP/trunk-0000000a<MASQ>");
}

TEST_CASE("ami_channels resynchronises from CoreShowChannels", "[ami_channels]") {
  ami::channel_table table;
  table.feed(channel_event("VarSet", "PJSIP/a-00000001", "100.1",
                           "Variable: CALL_UUID\nValue: " + std::string(call_uuid) + "\n"));
  table.feed(channel_event("Newchannel", "PJSIP/b-00000002", "100.2"));
  table.feed(channel_event("Newchannel", "PJSIP/c-00000003", "100.3"));
  REQUIRE(table.size() == 3);

  // The link went down; a.1 and b.2 hung up meanwhile, c.3 lives on and d.4 is new. A channel
  // created after the list was asked for survives too, though the list does not show it.
  const auto mark = table.begin_resync();
  table.feed(channel_event("Newchannel", "PJSIP/e-00000005", "100.5"));
  table.feed(
      block("Response: Success\nActionID: 9\nEventList: start\n"
            "Message: Channels will follow\n"));
  table.feed(channel_event("CoreShowChannel", "PJSIP/c-00000003", "100.3", "ActionID: 9\n"));
  const auto listed = table.feed(channel_event(
      "CoreShowChannel", "PJSIP/d-00000004", "100.4",
      "ActionID: 9\nApplication: AudioSocket\nApplicationData: " + std::string(other_uuid) +
          ",127.0.0.1:5050\nDuration: 00:01:02\nBridgeId: \n"));
  CHECK(listed.linked == uuids{std::string(other_uuid)});
  table.feed(
      block("Event: CoreShowChannelsComplete\nActionID: 9\nEventList: Complete\n"
            "ListItems: 2\n"));
  const auto gone = table.end_resync(mark);

  REQUIRE(gone.size() == 2);
  CHECK(gone[0].uniqueid == "100.1");
  CHECK(gone[0].call_uuids == uuids{std::string(call_uuid)});
  CHECK(gone[1].uniqueid == "100.2");
  CHECK(table.size() == 3);
  CHECK(table.find_uuid(call_uuid) == nullptr);
  CHECK(table.find_uuid(other_uuid)->name == "PJSIP/d-00000004");
  CHECK(table.find_uniqueid("100.5") != nullptr);
  // Nothing more goes at a second resync that lists everything.
  const auto again = table.begin_resync();
  for (const auto* id : {"100.3", "100.4", "100.5"}) {
    table.feed(channel_event("CoreShowChannel", table.find_uniqueid(id)->name, id));
  }
  CHECK(table.end_resync(again).empty());
}

TEST_CASE("ami_channels stays within its bounds", "[ami_channels]") {
  ami::channel_table_options options;
  options.max_channels = 2;
  options.max_links_per_channel = 2;
  ami::channel_table table(options);
  table.feed(channel_event("Newchannel", "PJSIP/a-1", "1.1"));
  table.feed(channel_event("Newchannel", "PJSIP/b-2", "1.2"));
  table.feed(channel_event("Newchannel", "PJSIP/c-3", "1.3"));
  CHECK(table.size() == 2);
  CHECK(table.overflowed() == 1);
  CHECK(table.find_uniqueid("1.3") == nullptr);

  // A channel that ran AudioSocket three times keeps its two latest calls.
  const std::string third = "9a1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d";
  for (const auto uuid : {call_uuid, other_uuid, std::string_view(third)}) {
    CHECK(table
              .feed(channel_event(
                  "Newexten", "PJSIP/a-1", "1.1",
                  "Application: AudioSocket\nAppData: " + std::string(uuid) + ",127.0.0.1:5050\n"))
              .linked == uuids{std::string(uuid)});
  }
  CHECK(table.links() == 2);
  CHECK(table.find_uuid(call_uuid) == nullptr);
  CHECK(table.find_uuid(third) != nullptr);
  CHECK(table.find_uniqueid("1.1")->call_uuids == uuids{std::string(other_uuid), third});
}
