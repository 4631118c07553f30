#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/elevenlabs_json_object.hpp"

namespace el = cb::elevenlabs;
using el::parse_error_code;

TEST_CASE("elevenlabs json_object defaults to the empty object", "[elevenlabs]") {
  CHECK(el::json_object{}.text() == "{}");
  const auto parsed = el::json_object::parse(" { } ");
  REQUIRE(parsed.has_value());
  CHECK(*parsed == el::json_object{});
}

TEST_CASE("elevenlabs json_object keeps canonical compact text", "[elevenlabs]") {
  const auto parsed = el::json_object::parse(
      "{\n  \"b\": [1, 2.50, -0.0, 1e2, true, null],\n  \"a\": {\"s\": \"\\u00e9\\/\\t\"},\n"
      "  \"b\": \"duplicate kept\"\n}");
  REQUIRE(parsed.has_value());
  CHECK(parsed->text() ==
        "{\"b\":[1,2.5,-0.0,100.0,true,null],\"a\":{\"s\":\"\xC3\xA9/\\t\"},\"b\":\"duplicate "
        "kept\"}");
  const auto again = el::json_object::parse(parsed->text());
  REQUIRE(again.has_value());
  CHECK(*again == *parsed);
}

TEST_CASE("elevenlabs json_object refuses anything but one object", "[elevenlabs]") {
  for (const std::string_view text : {"[]", "1", "\"s\"", "null"}) {
    const auto parsed = el::json_object::parse(text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == parse_error_code::not_an_object);
  }
  for (const std::string_view text : {"", "{", "{} {}", "{\"a\":}", "{\"a\":1e999}"}) {
    const auto parsed = el::json_object::parse(text);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == parse_error_code::malformed_json);
  }
  std::string deep = "{\"a\":";
  for (unsigned i = 0; i < el::max_json_depth; ++i)
    deep += '[';
  for (unsigned i = 0; i < el::max_json_depth; ++i)
    deep += ']';
  deep += '}';
  CHECK(el::json_object::parse(deep).error().code == parse_error_code::malformed_json);
}

TEST_CASE("elevenlabs json_object reads top-level scalars by key", "[elevenlabs]") {
  const auto parsed = el::json_object::parse(
      R"({"url":"/pricing","count":3,"ratio":0.5,"whole":2.0,"big":18446744073709551615,)"
      R"("on":true,"none":null,"list":[1],"nested":{"url":"/inner"},"url":"/second"})");
  REQUIRE(parsed.has_value());
  const auto& o = *parsed;
  CHECK(o.scalar("url") == std::optional<el::json_scalar>{std::string("/pricing")});
  CHECK(o.scalar("count") == std::optional<el::json_scalar>{std::int64_t{3}});
  CHECK(o.scalar("ratio") == std::optional<el::json_scalar>{0.5});
  CHECK(o.scalar("whole") == std::optional<el::json_scalar>{2.0});
  CHECK(o.scalar("big") == std::optional<el::json_scalar>{18446744073709551615.0});
  CHECK(o.scalar("on") == std::optional<el::json_scalar>{true});
  CHECK_FALSE(o.scalar("none").has_value());
  CHECK_FALSE(o.scalar("list").has_value());
  CHECK_FALSE(o.scalar("nested").has_value());
  CHECK_FALSE(o.scalar("missing").has_value());
  CHECK_FALSE(o.scalar("").has_value());
  CHECK_FALSE(el::json_object{}.scalar("url").has_value());
}

TEST_CASE("json_object lists its top-level scalars, first of repeated keys, without containers",
          "[elevenlabs][json_object]") {
  auto object = cb::elevenlabs::json_object::parse(
      R"({"destination":"sales","n":7,"x":1.5,"ok":true,"nested":{"a":1},"list":[1],"none":null,)"
      R"("destination":"other"})");
  REQUIRE(object);
  const auto scalars = object->scalars();
  CHECK(scalars.size() == 4);
  CHECK(std::get<std::string>(scalars.at("destination")) == "sales");
  CHECK(std::get<std::int64_t>(scalars.at("n")) == 7);
  CHECK(std::get<double>(scalars.at("x")) == 1.5);
  CHECK(std::get<bool>(scalars.at("ok")));
  CHECK(cb::elevenlabs::json_object{}.scalars().empty());
}
