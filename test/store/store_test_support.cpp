#include "test/store/store_test_support.hpp"

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <filesystem>

namespace cb::test {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cb-store-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

call_record sample_call(const std::string& uuid, const std::string& agent_id,
                        std::int64_t started_unix_ms) {
  call_record c;
  c.uuid = uuid;
  c.conversation_id = "conv-" + uuid;
  c.agent_id = agent_id;
  c.channel = "PJSIP/trunk-0000002a";
  c.caller_id = "+33 1 23 45 67 89";
  c.called_number = "5551234";
  c.started_unix_ms = started_unix_ms;
  return c;
}

std::vector<store_record> sample_records(const std::string& uuid) {
  auto call = sample_call(uuid, "agent_01", 1'760'000'000'123);
  call.lead_id = "1042";
  call.campaign = "Zoë's\tcampaign";
  call.dynamic_variables_json = R"({"lead_id":"1042","note":"line1\nline2 \\ done"})";
  call.answered_unix_ms = call.started_unix_ms + 900;
  call.ended_unix_ms = call.started_unix_ms + 61'000;
  call.end_reason = "caller hung up";
  call.end_detail = "BYE\r\nfrom the far end";
  call.transfer_target = "from-internal,6001,1";
  call.frames_in = 3050;
  call.frames_out = 3049;
  call.late_frames = 2;
  call.underruns = 1;
  call.first_word_ms = 840;

  transcript_record user{uuid, "user", "Bonjour, c'est 100% urgent_ 📞", 3, 1200, false, false};
  transcript_record agent{uuid, "agent", "Ça marche.\nUn instant…", 4, 2500, true, true};
  tool_call_record tool{uuid,       "call_7", "transfer_call", R"({"destination":"6001"})",
                        "ok: 6001", false,    30'000};
  dtmf_record digits{uuid, "12#", "caller", 15'000};

  post_call_record transcription;
  transcription.conversation_id = call.conversation_id;
  transcription.agent_id = "agent_01";
  transcription.kind = "post_call_transcription";
  transcription.event_unix_s = 1'760'000'100;
  transcription.summary = "The caller asked for a transfer.";
  transcription.analysis_json = R"({"call_successful":"success"})";
  transcription.termination_reason = "end_call tool";
  transcription.cost = 296.25;
  transcription.payload_json = R"({"conversation_id":")" + call.conversation_id + R"("})";

  post_call_record audio;
  audio.conversation_id = call.conversation_id;
  audio.agent_id = "agent_01";
  audio.kind = "post_call_audio";
  audio.event_unix_s = 1'760'000'120;
  audio.payload_json = R"({"agent_id":"agent_01"})";

  return {call, user, agent, tool, digits, transcription, audio};
}

sqlite_database::sqlite_database() {
  make_available();
}

void sqlite_database::make_unavailable() {
  std::filesystem::rename(dir_.file("db"), dir_.file("db-away"));
}

void sqlite_database::make_available() {
  if (std::filesystem::exists(dir_.file("db-away"))) {
    std::filesystem::rename(dir_.file("db-away"), dir_.file("db"));
  } else {
    std::filesystem::create_directory(dir_.file("db"));
  }
}

void sqlite_database::refuse_digits_x() {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir_.file("db/calls.db").c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db,
                              "CREATE TRIGGER refuse_x BEFORE INSERT ON dtmf WHEN NEW.digits = 'X' "
                              "BEGIN SELECT RAISE(ABORT, 'digits X refused'); END",
                              nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

mariadb_database::mariadb_database()
    : server_(mariadb_server::instance()), url_(server_.create_database()) {
  database_ = url_.substr(url_.rfind('/') + 1);
}

void mariadb_database::refuse_digits_x() {
  server_.execute_as_root("ALTER TABLE " + database_ +
                          ".dtmf ADD CONSTRAINT refuse_x CHECK (digits <> 'X')");
}

}  // namespace cb::test
