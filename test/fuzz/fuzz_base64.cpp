// Strict decoding means the encoding is canonical: whatever decodes must re-encode to the very
// same text, and nothing may read or write outside the buffers.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "codecs/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace b64 = cb::codecs::base64;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::uint8_t> decoded(b64::max_decoded_size(size));
  const auto n = b64::decode(text, decoded.data(), decoded.size());
  if (!n) return 0;
  if (*n > decoded.size()) __builtin_trap();
  if (b64::encoded_size(*n) != size) __builtin_trap();
  std::vector<char> reencoded(size);
  b64::encode(decoded.data(), *n, reencoded.data());
  if (std::string_view(reencoded.data(), reencoded.size()) != text) __builtin_trap();
  return 0;
}
