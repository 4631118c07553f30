#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/websocket_frame.hpp"

namespace ws = cb::websocket;

namespace {

std::vector<std::uint8_t> frame(ws::opcode op, const std::string& payload, ws::masking_key key) {
  std::vector<std::uint8_t> out(ws::client_header_size(payload.size()) + payload.size());
  auto written = ws::write_client_frame(op, payload, key, out.data());
  REQUIRE(written == out.size());
  return out;
}

// RFC 6455 section 5.3, byte by byte: the reference the word-wise masking must agree with.
std::string unmask(const std::uint8_t* masked, std::size_t size, const ws::masking_key& key) {
  std::string plain(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    plain[i] = static_cast<char>(masked[i] ^ key[i % 4]);
  return plain;
}

}  // namespace

TEST_CASE("a masked text frame matches the RFC 6455 example") {
  // Section 5.7: a single-frame masked text message containing "Hello".
  auto bytes = frame(ws::opcode::text, "Hello", {0x37, 0xfa, 0x21, 0x3d});
  const std::vector<std::uint8_t> expected{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                           0x7f, 0x9f, 0x4d, 0x51, 0x58};
  CHECK(bytes == expected);
}

TEST_CASE("the payload length takes 7, 16 or 64 bits at the RFC's boundaries") {
  const ws::masking_key key{1, 2, 3, 4};
  SECTION("125 bytes: 7-bit length") {
    auto bytes = frame(ws::opcode::text, std::string(125, 'a'), key);
    CHECK(bytes.size() == 6 + 125);
    CHECK(bytes[1] == (0x80 | 125));
  }
  SECTION("126 bytes: 16-bit length") {
    auto bytes = frame(ws::opcode::text, std::string(126, 'a'), key);
    CHECK(bytes.size() == 8 + 126);
    CHECK(bytes[1] == (0x80 | 126));
    CHECK(bytes[2] == 0);
    CHECK(bytes[3] == 126);
  }
  SECTION("65535 bytes: 16-bit length") {
    auto bytes = frame(ws::opcode::text, std::string(65535, 'a'), key);
    CHECK(bytes.size() == 8 + 65535);
    CHECK(bytes[2] == 0xff);
    CHECK(bytes[3] == 0xff);
  }
  SECTION("65536 bytes: 64-bit length, most significant bit clear") {
    auto bytes = frame(ws::opcode::binary, std::string(65536, 'a'), key);
    CHECK(bytes.size() == 14 + 65536);
    CHECK(bytes[0] == 0x82);
    CHECK(bytes[1] == (0x80 | 127));
    const std::vector<std::uint8_t> length(bytes.begin() + 2, bytes.begin() + 10);
    CHECK(length == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 1, 0, 0});
    CHECK(std::vector<std::uint8_t>(bytes.begin() + 10, bytes.begin() + 14) ==
          std::vector<std::uint8_t>{1, 2, 3, 4});
  }
}

TEST_CASE("masking agrees with the byte-wise definition for every length and tail") {
  const ws::masking_key key{0xa5, 0x01, 0xff, 0x5a};
  std::string payload;
  for (std::size_t size = 0; size <= 300; ++size) {
    auto bytes = frame(ws::opcode::text, payload, key);
    const auto header = ws::client_header_size(size);
    CHECK(unmask(bytes.data() + header, size, key) == payload);
    payload.push_back(static_cast<char>('0' + size % 75));
  }
}

TEST_CASE("an empty frame is a header and the key") {
  auto bytes = frame(ws::opcode::text, "", {9, 8, 7, 6});
  CHECK(bytes == std::vector<std::uint8_t>{0x81, 0x80, 9, 8, 7, 6});
}
