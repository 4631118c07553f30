// SQLite backend: one file, created on first connect, in WAL mode so history queries from the
// same connection never wait for a writer in another process.
#pragma once

#include <map>
#include <string>

#include "actors/store/backend.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cb::store {

class sqlite_backend final : public store_backend {
 public:
  // The file is created when missing; its directory must exist.
  explicit sqlite_backend(std::string path);
  ~sqlite_backend() override;
  sqlite_backend(const sqlite_backend&) = delete;
  sqlite_backend& operator=(const sqlite_backend&) = delete;
  sqlite_backend(sqlite_backend&&) = delete;
  sqlite_backend& operator=(sqlite_backend&&) = delete;

  [[nodiscard]] const char* name() const override { return "sqlite"; }
  [[nodiscard]] sql_dialect dialect() const override { return sql_dialect::sqlite; }
  std::optional<db_error> connect() override;
  void disconnect() override;
  [[nodiscard]] bool connected() const override { return db_ != nullptr; }
  expected<std::uint64_t, db_error> execute(std::string_view sql,
                                            const std::vector<sql_value>& params) override;
  expected<std::vector<sql_row>, db_error> query(std::string_view sql,
                                                 const std::vector<sql_value>& params) override;

 private:
  // The cached prepared statement for sql, reset and bound to params.
  expected<sqlite3_stmt*, db_error> prepare(std::string_view sql,
                                            const std::vector<sql_value>& params);
  db_error last_error(std::string_view context) const;

  std::string path_;
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*, std::less<>> statements_;
};

}  // namespace cb::store
