#include <catch2/catch.hpp>

#include <map>

#include "protocol/dialplan_template.hpp"

using cb::dialplan::fill;
using cb::dialplan::template_error;
using cb::dialplan::template_error_code;

namespace {

auto from(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("dialplan templates fill every placeholder and keep the operator's text", "[dialplan]") {
  auto filled = fill("ingroup_{queue}_{lang}", from({{"queue", "sales"}, {"lang", "en"}}));
  REQUIRE(filled);
  CHECK(*filled == "ingroup_sales_en");
  CHECK(*fill("from-internal", from({})) == "from-internal");
  CHECK(*fill("{destination}", from({{"destination", "+4930123#"}})) == "+4930123#");
  CHECK(*fill("", from({})) == "");
}

TEST_CASE("dialplan templates refuse values that could reach other dialplan or AMI syntax",
          "[dialplan]") {
  for (const char* bad : {"1,2", "a b", "x\r\nAction: Hangup", "${SHELL(rm)}", "", "a;b", "a/b",
                          "a(b)", "a|b", "\xc3\xa4"}) {
    auto filled = fill("{destination}", from({{"destination", bad}}));
    REQUIRE_FALSE(filled);
    CHECK(filled.error() == template_error{template_error_code::unsafe_value, "destination"});
  }
}

TEST_CASE("dialplan templates name the placeholder that cannot be filled", "[dialplan]") {
  auto missing = fill("q_{queue}", from({}));
  REQUIRE_FALSE(missing);
  CHECK(missing.error() == template_error{template_error_code::missing_value, "queue"});
  CHECK(cb::dialplan::to_string(missing.error()) == "missing_value for {queue}");

  auto unclosed = fill("q_{queue", from({{"queue", "a"}}));
  REQUIRE_FALSE(unclosed);
  CHECK(unclosed.error().code == template_error_code::unclosed_placeholder);

  auto empty = fill("q_{}", from({}));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == template_error_code::empty_placeholder);
}
