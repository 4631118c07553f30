#include <catch2/catch.hpp>

#include <string>

#include "actors/store/backend.hpp"
#include "actors/store/record_store.hpp"

using cb::store::fit_utf8;
using cb::store::make_backend;
using cb::store::mysql_target;
using cb::store::parse_mysql_url;

TEST_CASE("DB_URL: mysql:// and mariadb:// name user, host, port and database", "[backend]") {
  CHECK(parse_mysql_url("mysql://callbridge@db.example:3307/osdial").value() ==
        mysql_target{"callbridge", "db.example", 3307, "osdial"});
  CHECK(parse_mysql_url("mariadb://cron@localhost/asterisk").value() ==
        mysql_target{"cron", "localhost", 0, "asterisk"});
  CHECK(parse_mysql_url("mysql://u@[::1]:3306/calls/").value() ==
        mysql_target{"u", "::1", 3306, "calls"});
}

TEST_CASE("DB_URL: malformed mysql URLs are refused with a reason", "[backend]") {
  for (const char* url :
       {"mysql://host/db", "mysql://@host/db", "mysql://u@host", "mysql://u@host/", "mysql://u@/db",
        "mysql://u@host:/db", "mysql://u@host:0/db", "mysql://u@host:65536/db",
        "mysql://u@host:33o6/db", "mysql://u@[::1/db", "mysql://u@[::1]x/db", "mysql://u@h/a/b",
        "postgres://u@h/db"}) {
    INFO(url);
    CHECK_FALSE(parse_mysql_url(url).has_value());
  }
  const auto with_password = parse_mysql_url("mysql://u:secret@h/db");
  REQUIRE_FALSE(with_password.has_value());
  CHECK(with_password.error().find("DB_PASSWORD") != std::string::npos);
  CHECK(with_password.error().find("secret") == std::string::npos);
}

TEST_CASE("DB_URL selects the backend", "[backend]") {
  CHECK(std::string(make_backend("sqlite:/var/lib/callbridge/calls.db", "").value()->name()) ==
        "sqlite");
  CHECK(std::string(make_backend("mysql://u@127.0.0.1:3306/calls", "pw").value()->name()) ==
        "mysql");
  CHECK_FALSE(make_backend("sqlite:", "").has_value());
  CHECK_FALSE(make_backend("calls.db", "").has_value());
}

TEST_CASE("fit_utf8 replaces invalid bytes and cuts at a character boundary", "[backend]") {
  CHECK(fit_utf8("plain", 64, 256) == "plain");
  CHECK(fit_utf8("caf\xc3\xa9", 4, 16) == "caf\xc3\xa9");
  CHECK(fit_utf8("caf\xc3\xa9", 3, 16) == "caf");
  CHECK(fit_utf8("caf\xc3\xa9", 4, 4) == "caf");  // é does not fit the bytes left
  CHECK(fit_utf8("\xf0\x9f\x93\x9e!", 2, 8) == "\xf0\x9f\x93\x9e!");
  // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate, > U+10FFFF.
  CHECK(fit_utf8("a\x80z", 10, 40) == "a\xef\xbf\xbdz");
  CHECK(fit_utf8("a\xc3", 10, 40) == "a\xef\xbf\xbd");
  CHECK(fit_utf8("\xc0\xaf", 10, 40) == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(fit_utf8("\xed\xa0\x80", 10, 40) == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(fit_utf8("\xf4\x90\x80\x80", 1, 40) == "\xef\xbf\xbd");
  CHECK(fit_utf8(std::string("a\0b", 3), 10, 40) == std::string("a\0b", 3));
}
