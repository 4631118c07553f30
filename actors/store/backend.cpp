#include "actors/store/backend.hpp"

#include <charconv>
#include <optional>
#include <system_error>

#include "actors/store/mysql_backend.hpp"
#include "actors/store/sqlite_backend.hpp"

namespace cb::store {

namespace {

constexpr std::string_view sqlite_prefix = "sqlite:";
constexpr std::string_view url_form = "expected mysql://user@host[:port]/database";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::int64_t column_int(const std::optional<std::string>& column) {
  std::int64_t value = 0;
  if (column) std::from_chars(column->data(), column->data() + column->size(), value);
  return value;
}

std::optional<double> column_double(const std::optional<std::string>& column) {
  if (!column) return std::nullopt;
  double value = 0;
  const char* last = column->data() + column->size();
  const auto [end, ec] = std::from_chars(column->data(), last, value);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return value;
}

expected<mysql_target, std::string> parse_mysql_url(std::string_view url) {
  std::string_view rest;
  for (const std::string_view scheme : {"mysql://", "mariadb://"}) {
    if (starts_with(url, scheme)) rest = url.substr(scheme.size());
  }
  const auto at = rest.find('@');
  const auto slash = rest.find('/', at == std::string_view::npos ? 0 : at);
  if (at == std::string_view::npos || at == 0 || slash == std::string_view::npos ||
      slash + 1 >= rest.size()) {
    return unexpected{std::string(url_form)};
  }
  mysql_target out;
  out.user = std::string(rest.substr(0, at));
  if (out.user.find(':') != std::string::npos) {
    return unexpected{std::string("the URL must not carry the password: set DB_PASSWORD")};
  }
  std::string_view host_port = rest.substr(at + 1, slash - at - 1);
  std::optional<std::string_view> port_text;  // set when a colon follows the host
  if (starts_with(host_port, "[")) {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return unexpected{std::string(url_form)};
    out.host = std::string(host_port.substr(1, close - 1));
    const auto after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected{std::string(url_form)};
      port_text = after.substr(1);
    }
  } else {
    const auto colon = host_port.find(':');
    out.host = std::string(host_port.substr(0, colon));
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
  }
  if (out.host.empty()) return unexpected{std::string(url_form)};
  if (port_text) {
    unsigned value = 0;
    const char* last = port_text->data() + port_text->size();
    const auto [end, ec] = std::from_chars(port_text->data(), last, value);
    if (port_text->empty() || ec != std::errc{} || end != last || value == 0 || value > 65535) {
      return unexpected{std::string("the port must be a number 1-65535")};
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.database = std::string(rest.substr(slash + 1));
  while (!out.database.empty() && out.database.back() == '/')
    out.database.pop_back();
  if (out.database.empty() || out.database.find('/') != std::string::npos) {
    return unexpected{std::string(url_form)};
  }
  return out;
}

expected<std::unique_ptr<store_backend>, std::string> make_backend(std::string_view db_url,
                                                                   const std::string& password) {
  if (starts_with(db_url, sqlite_prefix)) {
    const auto path = db_url.substr(sqlite_prefix.size());
    if (path.empty()) return unexpected{std::string("expected sqlite:PATH")};
    return std::unique_ptr<store_backend>(std::make_unique<sqlite_backend>(std::string(path)));
  }
  auto target = parse_mysql_url(db_url);
  if (!target) return unexpected{target.error()};
  return std::unique_ptr<store_backend>(
      std::make_unique<mysql_backend>(std::move(*target), password));
}

}  // namespace cb::store
