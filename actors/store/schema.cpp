#include "actors/store/schema.hpp"

#include <chrono>
#include <string>

namespace cb::store {

namespace {

// The DDL is written in the subset both databases read the same way: VARCHAR(n) and *TEXT take
// TEXT affinity in SQLite, BIGINT/SMALLINT integer and DOUBLE real. Only MariaDB needs the table
// options, since a server started without Debian's configuration defaults to latin1, and index
// creation, since MySQL (unlike MariaDB) has no CREATE INDEX IF NOT EXISTS.
constexpr std::string_view mysql_table_options =
    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
constexpr std::string_view create_index = "CREATE INDEX IF NOT EXISTS ";
// ER_DUP_KEYNAME: the index exists already.
constexpr unsigned mysql_duplicate_index = 1061;

// MariaDB commits DDL implicitly, so a migration interrupted there is applied again on the next
// start: every statement is written to be harmless the second time (IF NOT EXISTS, or an existing
// index ignored on MySQL).
const std::vector<migration> all_migrations = {
    {1,
     {
         "CREATE TABLE IF NOT EXISTS calls ("
         "uuid VARCHAR(64) NOT NULL PRIMARY KEY, "
         "conversation_id VARCHAR(128) NOT NULL, "
         "agent_id VARCHAR(128) NOT NULL, "
         "channel VARCHAR(255) NOT NULL, "
         "caller_id VARCHAR(128) NOT NULL, "
         "called_number VARCHAR(128) NOT NULL, "
         "lead_id VARCHAR(64) NOT NULL, "
         "campaign VARCHAR(128) NOT NULL, "
         "dynamic_variables MEDIUMTEXT NOT NULL, "
         "started_unix_ms BIGINT NOT NULL, "
         "answered_unix_ms BIGINT NOT NULL, "
         "ended_unix_ms BIGINT NOT NULL, "
         "end_reason VARCHAR(64) NOT NULL, "
         "end_detail MEDIUMTEXT NOT NULL, "
         "transfer_target VARCHAR(255) NOT NULL, "
         "frames_in BIGINT NOT NULL, "
         "frames_out BIGINT NOT NULL, "
         "late_frames BIGINT NOT NULL, "
         "underruns BIGINT NOT NULL, "
         "first_word_ms BIGINT NOT NULL)",
         "CREATE INDEX IF NOT EXISTS calls_started ON calls (started_unix_ms)",
         "CREATE INDEX IF NOT EXISTS calls_agent_started ON calls (agent_id, started_unix_ms)",
         "CREATE INDEX IF NOT EXISTS calls_conversation ON calls (conversation_id)",
         "CREATE TABLE IF NOT EXISTS transcript_turns ("
         "uuid VARCHAR(64) NOT NULL, "
         "role VARCHAR(16) NOT NULL, "
         "event_id BIGINT NOT NULL, "
         "text MEDIUMTEXT NOT NULL, "
         "offset_ms BIGINT NOT NULL, "
         "interrupted SMALLINT NOT NULL, "
         "corrected SMALLINT NOT NULL, "
         "PRIMARY KEY (uuid, role, event_id))",
         "CREATE TABLE IF NOT EXISTS tool_calls ("
         "uuid VARCHAR(64) NOT NULL, "
         "tool_call_id VARCHAR(128) NOT NULL, "
         "name VARCHAR(128) NOT NULL, "
         "parameters MEDIUMTEXT NOT NULL, "
         "result MEDIUMTEXT NOT NULL, "
         "is_error SMALLINT NOT NULL, "
         "offset_ms BIGINT NOT NULL, "
         "PRIMARY KEY (uuid, tool_call_id))",
         "CREATE TABLE IF NOT EXISTS dtmf ("
         "uuid VARCHAR(64) NOT NULL, "
         "direction VARCHAR(16) NOT NULL, "
         "offset_ms BIGINT NOT NULL, "
         "digits VARCHAR(64) NOT NULL, "
         "PRIMARY KEY (uuid, direction, offset_ms, digits))",
         "CREATE TABLE IF NOT EXISTS post_calls ("
         "conversation_id VARCHAR(128) NOT NULL, "
         "kind VARCHAR(32) NOT NULL, "
         "agent_id VARCHAR(128) NOT NULL, "
         "event_unix_s BIGINT NOT NULL, "
         "summary MEDIUMTEXT NOT NULL, "
         "analysis MEDIUMTEXT NOT NULL, "
         "termination_reason VARCHAR(255) NOT NULL, "
         "cost DOUBLE NULL, "
         "payload MEDIUMTEXT NOT NULL, "
         "PRIMARY KEY (conversation_id, kind))",
         "CREATE INDEX IF NOT EXISTS post_calls_event ON post_calls (event_unix_s)",
     }},
};

std::string for_dialect(std::string_view statement, sql_dialect dialect) {
  std::string out(statement);
  if (dialect != sql_dialect::mysql) return out;
  if (statement.substr(0, 12) == "CREATE TABLE") out += mysql_table_options;
  if (statement.substr(0, create_index.size()) == create_index) {
    out = "CREATE INDEX " + out.substr(create_index.size());
  }
  return out;
}

// Runs one migration statement; on MySQL/MariaDB an index that exists already is no error.
std::optional<db_error> run_statement(store_backend& db, std::string_view statement) {
  auto done = db.execute(for_dialect(statement, db.dialect()), {});
  if (done) return std::nullopt;
  if (db.dialect() == sql_dialect::mysql && done.error().code == mysql_duplicate_index &&
      statement.substr(0, create_index.size()) == create_index) {
    return std::nullopt;
  }
  return done.error();
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const std::vector<migration>& migrations() {
  return all_migrations;
}

std::int64_t latest_schema_version() {
  return all_migrations.back().version;
}

expected<std::int64_t, db_error> stored_schema_version(store_backend& db) {
  auto rows = db.query("SELECT MAX(version) FROM schema_version", {});
  if (!rows) return unexpected{rows.error()};
  if (rows->empty() || rows->front().empty()) return std::int64_t{0};
  return column_int(rows->front().front());
}

std::optional<db_error> migrate(store_backend& db) {
  const auto table = for_dialect(
      "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL PRIMARY KEY, "
      "applied_unix_ms BIGINT NOT NULL)",
      db.dialect());
  if (auto created = db.execute(table, {}); !created) return created.error();
  auto current = stored_schema_version(db);
  if (!current) return current.error();
  if (*current > latest_schema_version()) {
    return db_error{"the database has schema version " + std::to_string(*current) +
                        ", newer than this callbridge's " + std::to_string(latest_schema_version()),
                    false};
  }
  const std::string_view begin =
      db.dialect() == sql_dialect::sqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION";
  for (const auto& m : all_migrations) {
    if (m.version <= *current) continue;
    std::optional<db_error> failure;
    if (auto started = db.execute(begin, {}); !started) return started.error();
    for (const auto statement : m.statements) {
      failure = run_statement(db, statement);
      if (failure) break;
    }
    if (!failure) {
      auto recorded =
          db.execute("INSERT INTO schema_version (version, applied_unix_ms) VALUES (?, ?)",
                     {m.version, now_unix_ms()});
      if (!recorded) failure = recorded.error();
    }
    if (!failure) {
      if (auto committed = db.execute("COMMIT", {}); !committed) failure = committed.error();
    }
    if (failure) {
      (void)db.execute("ROLLBACK", {});
      failure->message = "migration " + std::to_string(m.version) + ": " + failure->message;
      return failure;
    }
  }
  return std::nullopt;
}

}  // namespace cb::store
