// UTF-8 well-formedness, per RFC 3629: the logger and the call store keep only valid text (no
// overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace cb::codecs {

// Length (1-4) of the well-formed UTF-8 sequence starting at text[i], or 0 when there is none
// (a stray continuation byte, a truncated, overlong or surrogate sequence). i < text.size().
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

}  // namespace cb::codecs
