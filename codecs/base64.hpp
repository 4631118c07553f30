// RFC 4648 base64 (standard alphabet, '=' padding). Audio travels to and from the agent as base64
// inside JSON, so both directions are on the per-frame path: no allocation beyond the caller's
// buffer, and decoding refuses anything that is not canonical base64 instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace cb::codecs::base64 {

enum class decode_error : std::uint8_t {
  bad_length,     // not a multiple of 4 characters
  bad_character,  // outside the alphabet, or '=' anywhere but the end
  bad_padding,    // more than two '=', or non-zero bits under the padding
  too_small,      // the output buffer cannot hold the decoded bytes
};

const char* to_string(decode_error e);

[[nodiscard]] constexpr std::size_t encoded_size(std::size_t bytes) {
  return (bytes + 2) / 3 * 4;
}
// Upper bound; the exact size depends on the padding.
[[nodiscard]] constexpr std::size_t max_decoded_size(std::size_t chars) {
  return chars / 4 * 3;
}

// Writes exactly encoded_size(n) characters to out.
void encode(const std::uint8_t* data, std::size_t n, char* out);
// Appends to out (reuses its capacity; the audio path keeps one string per call).
void append_encoded(std::string& out, const std::uint8_t* data, std::size_t n);
[[nodiscard]] std::string encode(const std::uint8_t* data, std::size_t n);

// Decodes into out[0..capacity); returns the number of bytes written.
[[nodiscard]] expected<std::size_t, decode_error> decode(std::string_view text, std::uint8_t* out,
                                                         std::size_t capacity);
// Decodes into out, resized to fit (reuses its capacity).
[[nodiscard]] expected<std::size_t, decode_error> decode(std::string_view text,
                                                         std::vector<std::uint8_t>& out);

}  // namespace cb::codecs::base64
