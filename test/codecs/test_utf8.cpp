#include "codecs/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

using cb::codecs::utf8_sequence_length;

TEST_CASE("utf8: well-formed sequences of every length") {
  CHECK(utf8_sequence_length("A", 0) == 1);
  CHECK(utf8_sequence_length("\xc3\xa9", 0) == 2);          // é
  CHECK(utf8_sequence_length("\xe2\x82\xac", 0) == 3);      // €
  CHECK(utf8_sequence_length("\xf0\x9f\x93\x9e", 0) == 4);  // 📞
  CHECK(utf8_sequence_length("x\xc3\xa9", 1) == 2);
  CHECK(utf8_sequence_length("\xf4\x8f\xbf\xbf", 0) == 4);  // U+10FFFF, the last code point
}

TEST_CASE("utf8: ill-formed sequences are refused") {
  CHECK(utf8_sequence_length("\x80", 0) == 0);              // a lone continuation byte
  CHECK(utf8_sequence_length("\xff", 0) == 0);              // never in UTF-8
  CHECK(utf8_sequence_length("\xc3", 0) == 0);              // truncated
  CHECK(utf8_sequence_length("\xe2\x82", 0) == 0);          // truncated
  CHECK(utf8_sequence_length("\xc3\x28", 0) == 0);          // not a continuation byte
  CHECK(utf8_sequence_length("\xc0\xaf", 0) == 0);          // overlong '/'
  CHECK(utf8_sequence_length("\xe0\x80\xaf", 0) == 0);      // overlong '/'
  CHECK(utf8_sequence_length("\xed\xa0\x80", 0) == 0);      // U+D800, a surrogate
  CHECK(utf8_sequence_length("\xf4\x90\x80\x80", 0) == 0);  // above U+10FFFF
}

TEST_CASE("utf8: every code point's encoding is accepted whole") {
  for (char32_t cp = 0; cp <= 0x10ffff; cp += (cp < 0x800 ? 1 : 97)) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    REQUIRE(utf8_sequence_length(s, 0) == s.size());
  }
}
