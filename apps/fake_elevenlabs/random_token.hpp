// Random identifiers in the shapes the real service uses (conv_<...>, signatures, tool call ids).
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace cb::fake_elevenlabs {

// prefix followed by `length` characters of [0-9a-z].
[[nodiscard]] std::string random_token(std::mt19937_64& rng, std::string_view prefix,
                                       std::size_t length);

}  // namespace cb::fake_elevenlabs
