// The agent's audio format names ("pcm_16000", "ulaw_8000", ...). The agent announces both
// directions' formats in conversation_initiation_metadata; the bridge configures its transcoder
// from them and ends the call when a name is not one of the seven it knows.
#pragma once

#include <optional>
#include <string_view>

#include "codecs/audio_format.hpp"

namespace cb::elevenlabs {

// One of pcm_8000, pcm_16000, pcm_22050, pcm_24000, pcm_44100, pcm_48000, ulaw_8000; anything
// else (other rates, other case, surrounding spaces) is nullopt.
[[nodiscard]] std::optional<codecs::audio_format> parse_audio_format(std::string_view name);

// The protocol's name for a format, or nullopt when the protocol has none (e.g. mu-law at 16 kHz).
[[nodiscard]] std::optional<std::string_view> format_name(codecs::audio_format format);

}  // namespace cb::elevenlabs
