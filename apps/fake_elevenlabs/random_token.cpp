#include "apps/fake_elevenlabs/random_token.hpp"

namespace cb::fake_elevenlabs {

std::string random_token(std::mt19937_64& rng, std::string_view prefix, std::size_t length) {
  constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string token(prefix);
  token.reserve(prefix.size() + length);
  for (std::size_t i = 0; i < length; ++i)
    token += alphabet[pick(rng)];
  return token;
}

}  // namespace cb::fake_elevenlabs
