// MariaDB/MySQL backend through Debian's MariaDB Connector/C (libmariadb), for call centres that
// keep the records next to their Vicidial/OSdial data.
#pragma once

#include <string>

#include "actors/store/backend.hpp"

struct st_mysql;

namespace cb::store {

class mysql_backend final : public store_backend {
 public:
  mysql_backend(mysql_target target, std::string password);
  ~mysql_backend() override;
  mysql_backend(const mysql_backend&) = delete;
  mysql_backend& operator=(const mysql_backend&) = delete;
  mysql_backend(mysql_backend&&) = delete;
  mysql_backend& operator=(mysql_backend&&) = delete;

  [[nodiscard]] const char* name() const override { return "mysql"; }
  [[nodiscard]] sql_dialect dialect() const override { return sql_dialect::mysql; }
  std::optional<db_error> connect() override;
  void disconnect() override;
  [[nodiscard]] bool connected() const override { return connection_ != nullptr; }
  expected<std::uint64_t, db_error> execute(std::string_view sql,
                                            const std::vector<sql_value>& params) override;
  expected<std::vector<sql_row>, db_error> query(std::string_view sql,
                                                 const std::vector<sql_value>& params) override;

 private:
  // Sends sql with each `?` replaced by its parameter as an escaped literal (the text protocol;
  // the connection's utf8mb4 character set makes the library's escaping exact).
  std::optional<db_error> send(std::string_view sql, const std::vector<sql_value>& params);
  db_error last_error(std::string_view context) const;

  mysql_target target_;
  std::string password_;
  st_mysql* connection_ = nullptr;
};

}  // namespace cb::store
