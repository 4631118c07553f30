#include "codecs/base64.hpp"

#include <array>

namespace cb::codecs::base64 {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// One table per position in a quantum, each holding the character's 6 bits already shifted into
// place, so a quantum decodes with four loads and three ORs. Characters outside the alphabet
// (including '=') carry invalid_bit, which survives the ORs and is tested once per quantum.
constexpr std::uint32_t invalid_bit = 1U << 24U;

using shifted_table = std::array<std::uint32_t, 256>;

constexpr shifted_table make_table(unsigned shift) {
  shifted_table t{};
  for (auto& v : t)
    v = invalid_bit;
  for (unsigned i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint32_t>(i) << shift;
  }
  return t;
}

constexpr shifted_table table0 = make_table(18);
constexpr shifted_table table1 = make_table(12);
constexpr shifted_table table2 = make_table(6);
constexpr shifted_table table3 = make_table(0);

std::uint32_t lookup(const shifted_table& t, char c) {
  return t[static_cast<unsigned char>(c)];
}

std::uint32_t decode_quantum(const char* q) {
  return lookup(table0, q[0]) | lookup(table1, q[1]) | lookup(table2, q[2]) | lookup(table3, q[3]);
}

void store_triple(std::uint32_t v, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(v >> 16U);
  out[1] = static_cast<std::uint8_t>(v >> 8U);
  out[2] = static_cast<std::uint8_t>(v);
}

}  // namespace

const char* to_string(decode_error e) {
  switch (e) {
    case decode_error::bad_length:
      return "base64 text length is not a multiple of 4";
    case decode_error::bad_character:
      return "base64 text contains a character outside the alphabet or a misplaced '='";
    case decode_error::bad_padding:
      return "base64 padding is malformed or hides non-zero bits";
    case decode_error::too_small:
      return "base64 output buffer is too small";
  }
  return "unknown base64 error";
}

void encode(const std::uint8_t* data, std::size_t n, char* out) {
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U) |
                            std::uint32_t{data[i + 2]};
    out[0] = alphabet[(v >> 18U) & 0x3FU];
    out[1] = alphabet[(v >> 12U) & 0x3FU];
    out[2] = alphabet[(v >> 6U) & 0x3FU];
    out[3] = alphabet[v & 0x3FU];
    out += 4;
  }
  const std::size_t rest = n - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint32_t{data[i]} << 16U;
  if (rest == 2) v |= std::uint32_t{data[i + 1]} << 8U;
  out[0] = alphabet[(v >> 18U) & 0x3FU];
  out[1] = alphabet[(v >> 12U) & 0x3FU];
  out[2] = rest == 2 ? alphabet[(v >> 6U) & 0x3FU] : '=';
  out[3] = '=';
}

void append_encoded(std::string& out, const std::uint8_t* data, std::size_t n) {
  const std::size_t old_size = out.size();
  out.resize(old_size + encoded_size(n));
  encode(data, n, out.data() + old_size);
}

std::string encode(const std::uint8_t* data, std::size_t n) {
  std::string out;
  append_encoded(out, data, n);
  return out;
}

expected<std::size_t, decode_error> decode(std::string_view text, std::uint8_t* out,
                                           std::size_t capacity) {
  const std::size_t len = text.size();
  if (len % 4 != 0) return unexpected{decode_error::bad_length};
  if (len == 0) return std::size_t{0};

  std::size_t padding = 0;
  while (padding < len && text[len - 1 - padding] == '=')
    ++padding;
  if (padding > 2) return unexpected{decode_error::bad_padding};

  const std::size_t size = len / 4 * 3 - padding;
  if (size > capacity) return unexpected{decode_error::too_small};

  const char* in = text.data();
  const char* const last = in + len - 4;
  for (; in != last; in += 4, out += 3) {
    const std::uint32_t v = decode_quantum(in);
    if ((v & invalid_bit) != 0) return unexpected{decode_error::bad_character};
    store_triple(v, out);
  }

  // The final quantum: padding positions are decoded as 'A' (zero bits) so the same tables apply;
  // the bits the padding stands in for must then be zero in the characters before it.
  const std::array<char, 4> final_quantum = {in[0], in[1], padding == 2 ? 'A' : in[2],
                                             padding >= 1 ? 'A' : in[3]};
  const std::uint32_t v = decode_quantum(final_quantum.data());
  if ((v & invalid_bit) != 0) return unexpected{decode_error::bad_character};
  if (padding == 0) {
    store_triple(v, out);
    return size;
  }
  const std::uint32_t unused_bits = padding == 1 ? 0xFFU : 0xFFFFU;
  if ((v & unused_bits) != 0) return unexpected{decode_error::bad_padding};
  out[0] = static_cast<std::uint8_t>(v >> 16U);
  if (padding == 1) out[1] = static_cast<std::uint8_t>(v >> 8U);
  return size;
}

expected<std::size_t, decode_error> decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.resize(max_decoded_size(text.size()));
  auto result = decode(text, out.data(), out.size());
  out.resize(result ? *result : 0);
  return result;
}

}  // namespace cb::codecs::base64
