#include "actors/store/mysql_backend.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace cb::store {

namespace {

// Bounded waits: a vanished server costs one connect timeout per reconnection attempt, and a hung
// one a read timeout per statement, never an unbounded block of the store's thread.
constexpr unsigned connect_timeout_s = 3;
constexpr unsigned io_timeout_s = 10;

// A known mode whatever the server's configuration: strict (a value that does not fit is an
// error, not silently mangled), and backslash escapes on, which the library's escaping assumes.
constexpr std::string_view session_setup =
    "SET SESSION sql_mode = "
    "'STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION'";

// mysql_init initialises the library on first use, which is not thread-safe; this runs it once.
bool library_ready() {
  static const bool ready = mysql_library_init(0, nullptr, nullptr) == 0;
  return ready;
}

bool refuses_record(unsigned code) {
  switch (code) {
    case ER_BAD_NULL_ERROR:
    case ER_DUP_ENTRY:
    case ER_NET_PACKET_TOO_LARGE:
    case CR_NET_PACKET_TOO_LARGE:
    case ER_WARN_DATA_OUT_OF_RANGE:
    case WARN_DATA_TRUNCATED:
    case ER_TRUNCATED_WRONG_VALUE:
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
    case ER_ILLEGAL_VALUE_FOR_TYPE:
    case ER_DATA_TOO_LONG:
    case ER_CONSTRAINT_FAILED:
      return true;
    default:
      return false;
  }
}

void append_number(std::string& out, std::int64_t value) {
  std::array<char, 24> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), result.ptr);
}

void append_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "NULL";
    return;
  }
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), result.ptr);
}

}  // namespace

mysql_backend::mysql_backend(mysql_target target, std::string password)
    : target_(std::move(target)), password_(std::move(password)) {}

mysql_backend::~mysql_backend() {
  disconnect();
}

std::optional<db_error> mysql_backend::connect() {
  if (connection_ != nullptr) return std::nullopt;
  if (!library_ready()) return db_error{"the MariaDB client library failed to initialise", false};
  connection_ = mysql_init(nullptr);
  if (connection_ == nullptr) return db_error{"mysql_init: out of memory", false};
  const my_bool no_reconnect = 0;  // a lost connection must surface: the store reconnects itself
  mysql_optionsv(connection_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s);
  mysql_optionsv(connection_, MYSQL_OPT_READ_TIMEOUT, &io_timeout_s);
  mysql_optionsv(connection_, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout_s);
  mysql_optionsv(connection_, MYSQL_OPT_RECONNECT, &no_reconnect);
  mysql_optionsv(connection_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (mysql_real_connect(connection_, target_.host.c_str(), target_.user.c_str(), password_.c_str(),
                         target_.database.c_str(), target_.port, nullptr, 0) == nullptr) {
    auto error = last_error("cannot connect to " + target_.host);
    disconnect();
    return error;
  }
  if (auto error = send(session_setup, {})) {
    disconnect();
    return error;
  }
  return std::nullopt;
}

void mysql_backend::disconnect() {
  if (connection_ != nullptr) {
    mysql_close(connection_);
    connection_ = nullptr;
  }
}

db_error mysql_backend::last_error(std::string_view context) const {
  const unsigned code = mysql_errno(connection_);
  return {
      std::string(context) + ": " + mysql_error(connection_) + " (" + std::to_string(code) + ")",
      refuses_record(code), code};
}

std::optional<db_error> mysql_backend::send(std::string_view sql,
                                            const std::vector<sql_value>& params) {
  if (connection_ == nullptr) return db_error{"not connected", false};
  std::string text;
  text.reserve(sql.size() + 64 * params.size());
  std::size_t next = 0;
  for (const char c : sql) {
    if (c != '?') {
      text += c;
      continue;
    }
    if (next == params.size()) return db_error{"more placeholders than parameters", false};
    const auto& param = params[next++];
    if (std::holds_alternative<std::nullptr_t>(param)) {
      text += "NULL";
    } else if (const auto* i = std::get_if<std::int64_t>(&param)) {
      append_number(text, *i);
    } else if (const auto* d = std::get_if<double>(&param)) {
      append_number(text, *d);
    } else {
      const auto& s = std::get<std::string>(param);
      const std::size_t start = text.size();
      text.resize(start + 2 * s.size() + 3);
      text[start] = '\'';
      const auto written =
          mysql_real_escape_string(connection_, &text[start + 1], s.data(), s.size());
      if (written > 2 * s.size()) return db_error{"cannot escape a text parameter", false};
      text.resize(start + 1 + written);
      text += '\'';
    }
  }
  if (next != params.size()) return db_error{"more parameters than placeholders", false};
  if (mysql_real_query(connection_, text.data(), text.size()) != 0) return last_error("query");
  return std::nullopt;
}

expected<std::uint64_t, db_error> mysql_backend::execute(std::string_view sql,
                                                         const std::vector<sql_value>& params) {
  if (auto error = send(sql, params)) return unexpected{std::move(*error)};
  // A statement that returns rows (none of the store's do) must still have them read.
  if (MYSQL_RES* result = mysql_store_result(connection_)) mysql_free_result(result);
  return static_cast<std::uint64_t>(mysql_affected_rows(connection_));
}

expected<std::vector<sql_row>, db_error> mysql_backend::query(
    std::string_view sql, const std::vector<sql_value>& params) {
  if (auto error = send(sql, params)) return unexpected{std::move(*error)};
  MYSQL_RES* result = mysql_store_result(connection_);
  if (result == nullptr) {
    if (mysql_field_count(connection_) != 0) return unexpected{last_error("read result")};
    return std::vector<sql_row>{};
  }
  std::vector<sql_row> rows;
  const unsigned columns = mysql_num_fields(result);
  while (MYSQL_ROW fields = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    sql_row& row = rows.emplace_back(columns);
    for (unsigned c = 0; c < columns; ++c) {
      if (fields[c] != nullptr) row[c] = std::string(fields[c], lengths[c]);
    }
  }
  mysql_free_result(result);
  return rows;
}

}  // namespace cb::store
