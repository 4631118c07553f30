// The record store's SQL, the same tests against SQLite and against MariaDB.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/store/record_store.hpp"
#include "actors/store/schema.hpp"
#include "test/store/store_test_support.hpp"

namespace {

using cb::call_record;
using cb::history_query;
using cb::store_record;
using cb::store::record_store;
using cb::test::mariadb_database;
using cb::test::sample_call;
using cb::test::sample_records;
using cb::test::sqlite_database;

template <class Database>
std::unique_ptr<record_store> open_store(const Database& database) {
  auto backend = cb::store::make_backend(database.url(), database.password());
  REQUIRE(backend.has_value());
  auto store = std::make_unique<record_store>(std::move(*backend));
  const auto error = store->open();
  INFO((error ? error->message : std::string()));
  REQUIRE_FALSE(error.has_value());
  return store;
}

void write(record_store& store, const std::vector<store_record>& records) {
  const auto error = store.write(records);
  INFO((error ? error->message : std::string()));
  REQUIRE_FALSE(error.has_value());
}

cb::call_history find(record_store& store, const std::string& id) {
  auto found = store.find(id);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  return std::move(**found);
}

cb::history_page history(record_store& store, const history_query& query) {
  auto page = store.history(query);
  REQUIRE(page.has_value());
  return std::move(*page);
}

std::vector<std::string> uuids(const cb::history_page& page) {
  std::vector<std::string> out;
  for (const auto& c : page.calls)
    out.push_back(c.uuid);
  return out;
}

cb::transcript_record turn(const std::string& uuid, const std::string& role, std::int64_t event_id,
                           const std::string& text, std::int64_t offset_ms) {
  return {uuid, role, text, event_id, offset_ms, false, false};
}

}  // namespace

TEMPLATE_TEST_CASE("store: migrations build the schema once and refuse a newer one", "[store]",
                   sqlite_database, mariadb_database) {
  TestType database;
  auto first = open_store(database);
  auto backend = cb::store::make_backend(database.url(), database.password());
  REQUIRE(backend.has_value());
  auto& db = **backend;
  REQUIRE_FALSE(db.connect());
  CHECK(cb::store::stored_schema_version(db).value() == cb::store::latest_schema_version());
  // Applying them again changes nothing and keeps one row per migration.
  REQUIRE_FALSE(cb::store::migrate(db));
  const auto rows = db.query("SELECT COUNT(*) FROM schema_version", {});
  REQUIRE(rows.has_value());
  CHECK(cb::store::column_int(rows->front().front()) ==
        static_cast<std::int64_t>(cb::store::migrations().size()));

  REQUIRE(db.execute("INSERT INTO schema_version (version, applied_unix_ms) VALUES (?, ?)",
                     {std::int64_t{999}, std::int64_t{0}})
              .has_value());
  const auto refused = cb::store::migrate(db);
  REQUIRE(refused.has_value());
  CHECK(refused->message.find("999") != std::string::npos);
}

TEMPLATE_TEST_CASE("store: a migration interrupted after some of its DDL completes at next start",
                   "[store]", sqlite_database, mariadb_database) {
  TestType database;
  {
    // What MariaDB's implicit DDL commits leave when the process dies mid-migration: the first
    // table and index exist, schema_version does not say so.
    auto backend = cb::store::make_backend(database.url(), database.password());
    REQUIRE(backend.has_value());
    REQUIRE_FALSE((*backend)->connect());
    const auto& first = cb::store::migrations().front().statements;
    REQUIRE((*backend)->execute(first[0], {}).has_value());
    REQUIRE((*backend)->execute(first[1], {}).has_value());
  }
  auto store = open_store(database);
  write(*store, sample_records("m1"));
  CHECK(find(*store, "m1").transcript.size() == 2);
}

TEMPLATE_TEST_CASE("store: every record kind reads back as written", "[store]", sqlite_database,
                   mariadb_database) {
  TestType database;
  auto store = open_store(database);
  const auto records = sample_records("1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  write(*store, records);
  const auto h = find(*store, "1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
  CHECK(h.call == std::get<call_record>(records[0]));
  REQUIRE(h.transcript.size() == 2);
  CHECK(h.transcript[0] == std::get<cb::transcript_record>(records[1]));
  CHECK(h.transcript[1] == std::get<cb::transcript_record>(records[2]));
  REQUIRE(h.tool_calls.size() == 1);
  CHECK(h.tool_calls[0] == std::get<cb::tool_call_record>(records[3]));
  REQUIRE(h.dtmf.size() == 1);
  CHECK(h.dtmf[0] == std::get<cb::dtmf_record>(records[4]));
  // The transcription webhook is preferred to the audio one.
  REQUIRE(h.post_call.has_value());
  CHECK(*h.post_call == std::get<cb::post_call_record>(records[5]));
  // By conversation id too.
  CHECK(find(*store, "conv-1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0").call.uuid == h.call.uuid);
  auto none = store->find("no-such-call");
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());
}

TEMPLATE_TEST_CASE("store: the end of a call replaces its start, and writing twice changes nothing",
                   "[store]", sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  auto start = sample_call("c1", "agent_a", 1'000'000);
  auto end = start;
  end.conversation_id = "conv-late";
  end.answered_unix_ms = 1'000'800;
  end.ended_unix_ms = 1'030'000;
  end.end_reason = "agent ended the call";
  end.frames_in = 1500;
  end.first_word_ms = 790;
  write(*store, {start});
  write(*store, {end});
  write(*store, {end});
  CHECK(find(*store, "c1").call == end);
  CHECK(history(*store, {}).total == 1);
}

TEMPLATE_TEST_CASE("store: turns merge corrections and interruptions, DTMF is kept once", "[store]",
                   sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  const std::string uuid = "c2";
  auto correction = turn(uuid, "agent", 5, "Let me tell you…", 2000);
  correction.corrected = true;
  auto interrupted = turn(uuid, "agent", 5, "", 2600);
  interrupted.interrupted = true;
  cb::tool_call_record requested{uuid, "t1", "lookup", R"({"q":"x"})", "", false, 4000};
  cb::tool_call_record answered{uuid, "t1", "", "", "no such customer", true, 4800};
  cb::dtmf_record digit{uuid, "5", "caller", 7000};
  const std::vector<store_record> records = {
      sample_call(uuid, "agent_a", 2'000'000),
      turn(uuid, "user", 4, "Tell me the history", 1000),
      turn(uuid, "agent", 5, "Let me tell you the whole history of", 1500),
      correction,
      interrupted,
      requested,
      answered,
      digit,
      digit};
  write(*store, records);
  // A replay of everything (a crash after the commit, before the journal was emptied).
  write(*store, records);

  const auto h = find(*store, uuid);
  REQUIRE(h.transcript.size() == 2);
  CHECK(h.transcript[0] == turn(uuid, "user", 4, "Tell me the history", 1000));
  auto merged = turn(uuid, "agent", 5, "Let me tell you…", 1500);
  merged.corrected = true;
  merged.interrupted = true;
  CHECK(h.transcript[1] == merged);
  REQUIRE(h.tool_calls.size() == 1);
  CHECK(h.tool_calls[0] ==
        cb::tool_call_record{uuid, "t1", "lookup", R"({"q":"x"})", "no such customer", true, 4000});
  CHECK(h.dtmf == std::vector<cb::dtmf_record>{digit});
  CHECK_FALSE(h.post_call.has_value());
}

TEMPLATE_TEST_CASE("store: a redelivered webhook replaces the first and joins a later call",
                   "[store]", sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  cb::post_call_record webhook;
  webhook.conversation_id = "conv-c3";
  webhook.kind = "post_call_transcription";
  webhook.event_unix_s = 1'700'000'000;
  webhook.summary = "first delivery";
  write(*store, {webhook});
  webhook.summary = "second delivery";
  webhook.cost = 0.1 + 0.2;  // not exactly representable in 15 digits
  write(*store, {webhook});
  write(*store, {sample_call("c3", "agent_a", 3'000'000)});
  const auto h = find(*store, "c3");
  REQUIRE(h.post_call.has_value());
  CHECK(*h.post_call == webhook);
}

TEMPLATE_TEST_CASE("store: history filters by time, agent and transcript text, newest first",
                   "[store]", sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  write(*store, {sample_call("h1", "agent_a", 1000), sample_call("h2", "agent_b", 2000),
                 sample_call("h3", "agent_a", 3000), sample_call("h4", "agent_a", 4000),
                 sample_call("h5", "agent_b", 5000), turn("h1", "user", 1, "I want a REFUND", 10),
                 turn("h3", "agent", 2, "Your refund is on its way", 10),
                 turn("h4", "user", 3, "100% sure, my_account", 10),
                 turn("h5", "user", 4, "100 percent sure, myXaccount", 10)});

  auto all = history(*store, {});
  CHECK(all.total == 5);
  CHECK(uuids(all) == std::vector<std::string>{"h5", "h4", "h3", "h2", "h1"});

  history_query window;
  window.from_unix_ms = 2000;
  window.to_unix_ms = 4000;
  CHECK(uuids(history(*store, window)) == std::vector<std::string>{"h3", "h2"});

  history_query agent;
  agent.agent_id = "agent_a";
  CHECK(uuids(history(*store, agent)) == std::vector<std::string>{"h4", "h3", "h1"});

  history_query text;
  text.text = "refund";  // case-insensitive
  CHECK(uuids(history(*store, text)) == std::vector<std::string>{"h3", "h1"});
  text.agent_id = "agent_a";
  text.from_unix_ms = 2000;
  CHECK(uuids(history(*store, text)) == std::vector<std::string>{"h3"});

  // LIKE's wildcards in the search text match only themselves.
  history_query literal;
  literal.text = "100%";
  CHECK(uuids(history(*store, literal)) == std::vector<std::string>{"h4"});
  literal.text = "my_account";
  CHECK(uuids(history(*store, literal)) == std::vector<std::string>{"h4"});

  history_query page;
  page.limit = 2;
  page.offset = 2;
  const auto second = history(*store, page);
  CHECK(second.total == 5);
  CHECK(uuids(second) == std::vector<std::string>{"h3", "h2"});
  page.offset = 10;
  CHECK(history(*store, page).calls.empty());
}

TEMPLATE_TEST_CASE("store: retention deletes old calls with all their records", "[store]",
                   sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  auto old_records = sample_records("old");
  std::get<call_record>(old_records[0]).started_unix_ms = 1'000'000'000'000;
  for (auto& r : old_records) {
    if (auto* p = std::get_if<cb::post_call_record>(&r)) p->event_unix_s = 1'000'000'000;
  }
  write(*store, old_records);
  write(*store, sample_records("new"));

  const auto deleted = store->delete_older_than(1'500'000'000'000);
  REQUIRE(deleted.has_value());
  CHECK(*deleted == 1);
  CHECK(uuids(history(*store, {})) == std::vector<std::string>{"new"});
  auto gone = store->find("old");
  REQUIRE(gone.has_value());
  CHECK_FALSE(gone->has_value());
  // No turn, tool call, DTMF or webhook of the old call is left behind.
  history_query text;
  text.text = "urgent";
  CHECK(uuids(history(*store, text)) == std::vector<std::string>{"new"});
  write(*store, {sample_call("old", "agent_01", 1'600'000'000'000)});
  const auto reborn = find(*store, "old");
  CHECK(reborn.transcript.empty());
  CHECK(reborn.tool_calls.empty());
  CHECK(reborn.dtmf.empty());
  CHECK_FALSE(reborn.post_call.has_value());
}

TEMPLATE_TEST_CASE("store: text is kept as valid UTF-8 within its column", "[store]",
                   sqlite_database, mariadb_database) {
  TestType database;
  auto store = open_store(database);
  auto call = sample_call("u1", "agent_a", 1000);
  std::string long_caller;
  for (int i = 0; i < 200; ++i)
    long_caller += "\xc3\xa9";  // é
  call.caller_id = long_caller;
  call.channel = "SIP/\xff\xfe-1";
  write(*store, {call, turn("u1", "user", 1, std::string(100000, 'w'), 0)});
  const auto h = find(*store, "u1");
  CHECK(h.call.caller_id == long_caller.substr(0, 256));  // 128 two-byte characters
  CHECK(h.call.channel == "SIP/\xef\xbf\xbd\xef\xbf\xbd-1");
  REQUIRE(h.transcript.size() == 1);
  CHECK(h.transcript[0].text.size() == 100000);
}
