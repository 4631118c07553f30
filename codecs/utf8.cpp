#include "codecs/utf8.hpp"

#include <cstdint>

namespace cb::codecs {

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code = 0;
  std::uint32_t min_code = 0;
  if ((lead & 0xe0U) == 0xc0U) {
    length = 2;
    code = lead & 0x1fU;
    min_code = 0x80;
  } else if ((lead & 0xf0U) == 0xe0U) {
    length = 3;
    code = lead & 0x0fU;
    min_code = 0x800;
  } else if ((lead & 0xf8U) == 0xf0U) {
    length = 4;
    code = lead & 0x07U;
    min_code = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xc0U) != 0x80U) return 0;
    code = (code << 6U) | (c & 0x3fU);
  }
  if (code < min_code || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

}  // namespace cb::codecs
