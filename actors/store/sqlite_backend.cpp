#include "actors/store/sqlite_backend.hpp"

#include <sqlite3.h>

#include <array>
#include <charconv>
#include <utility>

namespace cb::store {

namespace {

// Statements refused for their values; every other failure (I/O, a full disk, a lock held by
// another process past the busy timeout, a read-only file) is an outage that passes.
bool refuses_record(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_CONSTRAINT || primary == SQLITE_TOOBIG || primary == SQLITE_MISMATCH;
}

// SQLite prints REAL columns with 15 significant digits; the shortest round-trip form keeps them
// exact.
std::string double_text(double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return ec == std::errc{} ? std::string(buffer.data(), end) : std::string();
}

struct binder {
  sqlite3_stmt* statement;
  int index;

  int operator()(std::nullptr_t) const { return sqlite3_bind_null(statement, index); }
  int operator()(std::int64_t value) const {
    return sqlite3_bind_int64(statement, index, static_cast<sqlite3_int64>(value));
  }
  int operator()(double value) const { return sqlite3_bind_double(statement, index, value); }
  int operator()(const std::string& value) const {
    // The parameters outlive the statement's step, so SQLite need not copy them.
    return sqlite3_bind_text64(statement, index, value.c_str(), value.size(), SQLITE_STATIC,
                               SQLITE_UTF8);
  }
};

}  // namespace

sqlite_backend::sqlite_backend(std::string path) : path_(std::move(path)) {}

sqlite_backend::~sqlite_backend() {
  disconnect();
}

std::optional<db_error> sqlite_backend::connect() {
  if (db_ != nullptr) return std::nullopt;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    auto error = last_error("cannot open " + path_);
    disconnect();
    return error;
  }
  sqlite3_extended_result_codes(db_, 1);
  // WAL: readers and the writer do not block each other, and a commit appends instead of
  // rewriting pages. synchronous=NORMAL stays consistent after a crash; the last commits may be
  // lost on power failure only.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=OFF"}) {
    if (sqlite3_exec(db_, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto error = last_error(pragma);
      disconnect();
      return error;
    }
  }
  return std::nullopt;
}

void sqlite_backend::disconnect() {
  for (auto& [sql, statement] : statements_)
    sqlite3_finalize(statement);
  statements_.clear();
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

db_error sqlite_backend::last_error(std::string_view context) const {
  if (db_ == nullptr) return {std::string(context) + ": out of memory", false};
  const int code = sqlite3_extended_errcode(db_);
  return {std::string(context) + ": " + sqlite3_errmsg(db_), refuses_record(code),
          static_cast<unsigned>(code)};
}

expected<sqlite3_stmt*, db_error> sqlite_backend::prepare(std::string_view sql,
                                                          const std::vector<sql_value>& params) {
  if (db_ == nullptr) return unexpected{db_error{"not connected", false}};
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &statement, nullptr) != SQLITE_OK) {
      return unexpected{last_error("prepare")};
    }
    it = statements_.emplace(std::string(sql), statement).first;
  }
  sqlite3_stmt* statement = it->second;
  sqlite3_reset(statement);
  sqlite3_clear_bindings(statement);
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (std::visit(binder{statement, static_cast<int>(i + 1)}, params[i]) != SQLITE_OK) {
      return unexpected{last_error("bind")};
    }
  }
  return statement;
}

expected<std::uint64_t, db_error> sqlite_backend::execute(std::string_view sql,
                                                          const std::vector<sql_value>& params) {
  auto statement = prepare(sql, params);
  if (!statement) return unexpected{statement.error()};
  int rc = SQLITE_ROW;
  while (rc == SQLITE_ROW)
    rc = sqlite3_step(*statement);
  if (rc != SQLITE_DONE) {
    auto error = last_error("execute");
    sqlite3_reset(*statement);
    return unexpected{std::move(error)};
  }
  sqlite3_reset(*statement);
  return static_cast<std::uint64_t>(sqlite3_changes64(db_));
}

expected<std::vector<sql_row>, db_error> sqlite_backend::query(
    std::string_view sql, const std::vector<sql_value>& params) {
  auto statement = prepare(sql, params);
  if (!statement) return unexpected{statement.error()};
  std::vector<sql_row> rows;
  const int columns = sqlite3_column_count(*statement);
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(*statement)) == SQLITE_ROW) {
    sql_row& row = rows.emplace_back(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      const int type = sqlite3_column_type(*statement, c);
      if (type == SQLITE_NULL) continue;
      if (type == SQLITE_FLOAT) {
        row[static_cast<std::size_t>(c)] = double_text(sqlite3_column_double(*statement, c));
        continue;
      }
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(*statement, c));
      const int size = sqlite3_column_bytes(*statement, c);
      row[static_cast<std::size_t>(c)] =
          text == nullptr ? std::string() : std::string(text, static_cast<std::size_t>(size));
    }
  }
  if (rc != SQLITE_DONE) {
    auto error = last_error("query");
    sqlite3_reset(*statement);
    return unexpected{std::move(error)};
  }
  sqlite3_reset(*statement);
  return rows;
}

}  // namespace cb::store
