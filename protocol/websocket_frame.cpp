#include "protocol/websocket_frame.hpp"

#include <cstring>

namespace cb::websocket {
namespace {

constexpr std::uint8_t fin_bit = 0x80;
constexpr std::uint8_t mask_bit = 0x80;
constexpr std::size_t max_7bit_length = 125;
constexpr std::size_t max_16bit_length = 0xffff;
constexpr std::uint8_t length_16bit = 126;
constexpr std::uint8_t length_64bit = 127;

}  // namespace

std::size_t client_header_size(std::size_t payload_size) {
  constexpr std::size_t base = 2 + 4;  // opcode and length bytes, masking key
  if (payload_size <= max_7bit_length) return base;
  if (payload_size <= max_16bit_length) return base + 2;
  return base + 8;
}

std::size_t write_client_frame(opcode op, std::string_view payload, const masking_key& key,
                               std::uint8_t* out) {
  const std::size_t size = payload.size();
  std::uint8_t* p = out;
  *p++ = fin_bit | static_cast<std::uint8_t>(op);
  if (size <= max_7bit_length) {
    *p++ = mask_bit | static_cast<std::uint8_t>(size);
  } else if (size <= max_16bit_length) {
    *p++ = mask_bit | length_16bit;
    *p++ = static_cast<std::uint8_t>(size >> 8U);
    *p++ = static_cast<std::uint8_t>(size);
  } else {
    *p++ = mask_bit | length_64bit;
    for (int shift = 56; shift >= 0; shift -= 8) {
      *p++ = static_cast<std::uint8_t>(static_cast<std::uint64_t>(size) >> shift);
    }
  }
  std::memcpy(p, key.data(), key.size());
  p += key.size();

  // Eight bytes at a time: the key repeated twice, in memory order, so the XOR is byte-order free.
  std::array<std::uint8_t, 8> key8_bytes{};
  for (std::size_t i = 0; i < key8_bytes.size(); ++i)
    key8_bytes[i] = key[i % key.size()];
  std::uint64_t key8 = 0;
  std::memcpy(&key8, key8_bytes.data(), sizeof key8);
  const auto* in = reinterpret_cast<const std::uint8_t*>(payload.data());
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, in + i, 8);
    word ^= key8;
    std::memcpy(p + i, &word, 8);
  }
  for (; i < size; ++i)
    p[i] = in[i] ^ key[i % key.size()];
  return static_cast<std::size_t>(p - out) + size;
}

}  // namespace cb::websocket
