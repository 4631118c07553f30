#include "codecs/g711.hpp"

namespace cb::codecs {

void encode_ulaw(const std::int16_t* in, std::size_t n, std::uint8_t* out) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = linear_to_ulaw(in[i]);
}

void decode_ulaw(const std::uint8_t* in, std::size_t n, std::int16_t* out) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = ulaw_to_linear(in[i]);
}

void encode_alaw(const std::int16_t* in, std::size_t n, std::uint8_t* out) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = linear_to_alaw(in[i]);
}

void decode_alaw(const std::uint8_t* in, std::size_t n, std::int16_t* out) {
  for (std::size_t i = 0; i < n; ++i)
    out[i] = alaw_to_linear(in[i]);
}

}  // namespace cb::codecs
