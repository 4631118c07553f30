#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/base64.hpp"

namespace b64 = cb::codecs::base64;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

b64::decode_error decode_failure(std::string_view text) {
  std::vector<std::uint8_t> out;
  const auto result = b64::decode(text, out);
  REQUIRE_FALSE(result.has_value());
  CHECK(out.empty());
  return result.error();
}

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[base64]") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, text] : vectors) {
    INFO("plain: \"" << plain << "\"");
    const auto bytes = bytes_of(plain);
    CHECK(b64::encode(bytes.data(), bytes.size()) == text);
    CHECK(b64::encoded_size(bytes.size()) == text.size());

    std::vector<std::uint8_t> decoded;
    const auto n = b64::decode(text, decoded);
    REQUIRE(n.has_value());
    CHECK(*n == bytes.size());
    CHECK(decoded == bytes);
  }
}

TEST_CASE("base64 encodes every byte value to the standard alphabet", "[base64]") {
  std::vector<std::uint8_t> all(256);
  for (std::size_t i = 0; i < all.size(); ++i)
    all[i] = static_cast<std::uint8_t>(i);
  // Reference produced by Python's base64.b64encode(bytes(range(256))).
  const std::string_view expected =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+"
      "P0BBQkNER"
      "UZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+"
      "AgYKDhIWGh4iJio"
      "uMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/"
      "wMHCw8TFxsfIycrLzM3Oz9D"
      "R0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
  CHECK(b64::encode(all.data(), all.size()) == expected);
}

TEST_CASE("base64 round-trips random binary of every length up to 1000", "[base64]") {
  std::mt19937 rng(4648);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> decoded;
  for (std::size_t len = 0; len <= 1000; ++len) {
    std::vector<std::uint8_t> data(len);
    for (auto& b : data)
      b = static_cast<std::uint8_t>(byte(rng));
    const std::string text = b64::encode(data.data(), data.size());
    REQUIRE(text.size() == b64::encoded_size(len));

    const auto n = b64::decode(text, decoded);
    REQUIRE(n.has_value());
    REQUIRE(*n == len);
    REQUIRE(decoded == data);
  }
}

TEST_CASE("base64 append_encoded appends after existing content", "[base64]") {
  const auto bytes = bytes_of("foobar");
  std::string out = R"({"user_audio_chunk":")";
  b64::append_encoded(out, bytes.data(), bytes.size());
  out += "\"}";
  CHECK(out == R"({"user_audio_chunk":"Zm9vYmFy"})");
}

TEST_CASE("base64 decodes into a caller buffer of exactly the decoded size", "[base64]") {
  std::uint8_t out[5] = {};
  const auto n = b64::decode("Zm9vYmE=", out, sizeof out);
  REQUIRE(n.has_value());
  CHECK(*n == 5);
  CHECK(std::string_view(reinterpret_cast<const char*>(out), 5) == "fooba");
}

TEST_CASE("base64 reports too_small when the buffer cannot hold the bytes", "[base64]") {
  std::uint8_t out[6] = {};
  const auto short_by_one = b64::decode("Zm9vYmE=", out, 4);
  REQUIRE_FALSE(short_by_one.has_value());
  CHECK(short_by_one.error() == b64::decode_error::too_small);

  const auto no_buffer = b64::decode("Zg==", nullptr, 0);
  REQUIRE_FALSE(no_buffer.has_value());
  CHECK(no_buffer.error() == b64::decode_error::too_small);

  // The bound counts padding, so a 4-character text with one '=' fits in 2 bytes.
  const auto exact = b64::decode("Zm8=", out, 2);
  REQUIRE(exact.has_value());
  CHECK(*exact == 2);
}

TEST_CASE("base64 rejects text whose length is not a multiple of 4", "[base64]") {
  for (std::string_view text : {"Z", "Zm", "Zm9", "Zm9vY", "Zg=", "Zg", "Zm9vYmFy="}) {
    INFO(text);
    CHECK(decode_failure(text) == b64::decode_error::bad_length);
  }
}

TEST_CASE("base64 rejects characters outside the standard alphabet", "[base64]") {
  // URL-safe characters, whitespace, line breaks, NUL and high bytes are all refused.
  const std::string_view texts[] = {"Zm9-",      "Zm9_",     "Zm 9",
                                    "Zm9\n",     "\tm9v",    "Zm9v\r\nYm",
                                    "Zm.v",      "Zm9v!A==", std::string_view("Zm\0v", 4),
                                    "Zm\xC3\xA9"};
  for (std::string_view text : texts) {
    INFO(text);
    CHECK(decode_failure(text) == b64::decode_error::bad_character);
  }
}

TEST_CASE("base64 rejects '=' anywhere but the end", "[base64]") {
  for (std::string_view text : {"Zg==Zm9v", "Zm=v", "=m9v", "Z=9v", "Zm9=YmFy", "Z=g=", "Zg=A"}) {
    INFO(text);
    CHECK(decode_failure(text) == b64::decode_error::bad_character);
  }
}

TEST_CASE("base64 rejects more than two padding characters", "[base64]") {
  for (std::string_view text : {"Z===", "====", "Zm9v====", "Zm9vZ==="}) {
    INFO(text);
    CHECK(decode_failure(text) == b64::decode_error::bad_padding);
  }
}

TEST_CASE("base64 rejects non-zero bits under the padding", "[base64]") {
  // "Zg==" and "Zm8=" are canonical; the variants set bits the padding says are unused.
  for (std::string_view text : {"Zh==", "Zv==", "Zm9=", "Zm+=", "Zm9vYh=="}) {
    INFO(text);
    CHECK(decode_failure(text) == b64::decode_error::bad_padding);
  }
}

TEST_CASE("base64 decode_error has a readable description for every value", "[base64]") {
  for (auto e : {b64::decode_error::bad_length, b64::decode_error::bad_character,
                 b64::decode_error::bad_padding, b64::decode_error::too_small}) {
    CHECK_FALSE(std::string_view(b64::to_string(e)).empty());
  }
  CHECK(std::string_view(b64::to_string(b64::decode_error::bad_length)) !=
        b64::to_string(b64::decode_error::bad_padding));
}
