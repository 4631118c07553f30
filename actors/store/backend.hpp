// The call store's database behind one interface: a SQLite file (the default) or a MariaDB/MySQL
// server, chosen by DB_URL. The interface is a plain SQL connection; the schema and every
// statement live in schema.cpp and record_store.cpp, written once for both.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codecs/expected.hpp"

namespace cb::store {

// A statement parameter: NULL, an integer, a double or UTF-8 text.
using sql_value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
// A result row: each column as text (numbers in their shortest round-trip form), NULL as nullopt.
using sql_row = std::vector<std::optional<std::string>>;

enum class sql_dialect : std::uint8_t { sqlite, mysql };

struct db_error {
  std::string message;
  // The database refused the statement for the values it carried; running it again cannot
  // succeed. Anything else (connection lost, disk full, locks, permissions) is an outage.
  bool refused_record = false;
  unsigned code = 0;  // the backend's own error number (SQLite extended result code, MariaDB errno)
};

class store_backend {
 public:
  store_backend() = default;
  virtual ~store_backend() = default;
  store_backend(const store_backend&) = delete;
  store_backend& operator=(const store_backend&) = delete;
  store_backend(store_backend&&) = delete;
  store_backend& operator=(store_backend&&) = delete;

  // "sqlite" or "mysql".
  [[nodiscard]] virtual const char* name() const = 0;
  [[nodiscard]] virtual sql_dialect dialect() const = 0;
  // Opens the connection; a no-op when it is open.
  virtual std::optional<db_error> connect() = 0;
  virtual void disconnect() = 0;
  [[nodiscard]] virtual bool connected() const = 0;
  // Runs one statement with `?` placeholders; answers the rows it changed.
  virtual expected<std::uint64_t, db_error> execute(std::string_view sql,
                                                    const std::vector<sql_value>& params) = 0;
  virtual expected<std::vector<sql_row>, db_error> query(std::string_view sql,
                                                         const std::vector<sql_value>& params) = 0;
};

// A result column as an integer; NULL or text that is not one reads as 0.
[[nodiscard]] std::int64_t column_int(const std::optional<std::string>& column);
// A result column as a double; nullopt for NULL or text that is not a number.
[[nodiscard]] std::optional<double> column_double(const std::optional<std::string>& column);

// mysql://user@host[:port]/database (or mariadb://); host may be an [IPv6] literal.
struct mysql_target {
  std::string user;
  std::string host;
  std::uint16_t port = 0;  // 0: the client library's default (3306, or the socket for localhost)
  std::string database;

  friend bool operator==(const mysql_target& a, const mysql_target& b) {
    return a.user == b.user && a.host == b.host && a.port == b.port && a.database == b.database;
  }
};

[[nodiscard]] expected<mysql_target, std::string> parse_mysql_url(std::string_view url);

// The backend DB_URL names (sqlite:PATH or mysql://...), not connected yet; the password is
// DB_PASSWORD's value, used by mysql:// only.
[[nodiscard]] expected<std::unique_ptr<store_backend>, std::string> make_backend(
    std::string_view db_url, const std::string& password);

}  // namespace cb::store
