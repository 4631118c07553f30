#include <catch2/catch.hpp>

#include <chrono>

#include "apps/callsim/spec_parse.hpp"

using namespace std::chrono_literals;
using cb::callsim::parse_dtmf_schedule;
using cb::callsim::parse_duration;
using cb::callsim::parse_gap;

TEST_CASE("durations take us, ms, s and m suffixes, and a unit for bare numbers") {
  CHECK(parse_duration("5s", 1ms) == std::chrono::nanoseconds{5s});
  CHECK(parse_duration("1.5s", 1ms) == std::chrono::nanoseconds{1500ms});
  CHECK(parse_duration("250ms", 1s) == std::chrono::nanoseconds{250ms});
  CHECK(parse_duration("300us", 1s) == std::chrono::nanoseconds{300us});
  CHECK(parse_duration("2m", 1s) == std::chrono::nanoseconds{120s});
  CHECK(parse_duration("1500", 1ms) == std::chrono::nanoseconds{1500ms});
  CHECK(parse_duration("3", 1s) == std::chrono::nanoseconds{3s});
}

TEST_CASE("durations refuse signs, garbage and non-numbers") {
  CHECK_FALSE(parse_duration("", 1s));
  CHECK_FALSE(parse_duration("s", 1s));
  CHECK_FALSE(parse_duration("-1s", 1s));
  CHECK_FALSE(parse_duration("5 s", 1s));
  CHECK_FALSE(parse_duration("5sec", 1s));
  CHECK_FALSE(parse_duration("infs", 1s));
  CHECK_FALSE(parse_duration("nan", 1s));
}

TEST_CASE("a DTMF schedule lists time:digit pairs, ms by default") {
  const auto schedule = parse_dtmf_schedule("1500:5,2.5s:#,0:A");
  REQUIRE(schedule);
  REQUIRE(schedule->size() == 3);
  CHECK((*schedule)[0].at == std::chrono::nanoseconds{1500ms});
  CHECK((*schedule)[0].digit == '5');
  CHECK((*schedule)[1].at == std::chrono::nanoseconds{2500ms});
  CHECK((*schedule)[1].digit == '#');
  CHECK((*schedule)[2].at == std::chrono::nanoseconds{0});
  CHECK((*schedule)[2].digit == 'A');
}

TEST_CASE("a DTMF schedule refuses bad digits and malformed items") {
  CHECK_FALSE(parse_dtmf_schedule(""));
  CHECK_FALSE(parse_dtmf_schedule("1500:x"));
  CHECK_FALSE(parse_dtmf_schedule("1500:a"));  // Asterisk sends A-D upper case
  CHECK_FALSE(parse_dtmf_schedule("1500:55"));
  CHECK_FALSE(parse_dtmf_schedule("1500"));
  CHECK_FALSE(parse_dtmf_schedule("1500:5,"));
  CHECK_FALSE(parse_dtmf_schedule("1500:5,,2000:6"));
}

TEST_CASE("a gap is START+LENGTH") {
  const auto gap = parse_gap("2000+500");
  REQUIRE(gap);
  CHECK(gap->start == std::chrono::nanoseconds{2s});
  CHECK(gap->length == std::chrono::nanoseconds{500ms});
  const auto with_units = parse_gap("1s+250ms");
  REQUIRE(with_units);
  CHECK(with_units->start == std::chrono::nanoseconds{1s});
  CHECK(with_units->length == std::chrono::nanoseconds{250ms});
  CHECK_FALSE(parse_gap("2000"));
  CHECK_FALSE(parse_gap("2000+"));
  CHECK_FALSE(parse_gap("x+5"));
}
