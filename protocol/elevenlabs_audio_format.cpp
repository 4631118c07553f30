#include "protocol/elevenlabs_audio_format.hpp"

#include <array>

namespace cb::elevenlabs {
namespace {

struct named_format {
  std::string_view name;
  codecs::audio_format format;
};

constexpr std::array<named_format, 7> formats = {{
    {"pcm_8000", {codecs::encoding::pcm_s16le, 8000}},
    {"pcm_16000", {codecs::encoding::pcm_s16le, 16000}},
    {"pcm_22050", {codecs::encoding::pcm_s16le, 22050}},
    {"pcm_24000", {codecs::encoding::pcm_s16le, 24000}},
    {"pcm_44100", {codecs::encoding::pcm_s16le, 44100}},
    {"pcm_48000", {codecs::encoding::pcm_s16le, 48000}},
    {"ulaw_8000", {codecs::encoding::ulaw, 8000}},
}};

}  // namespace

std::optional<codecs::audio_format> parse_audio_format(std::string_view name) {
  for (const auto& f : formats) {
    if (f.name == name) return f.format;
  }
  return std::nullopt;
}

std::optional<std::string_view> format_name(codecs::audio_format format) {
  for (const auto& f : formats) {
    if (f.format == format) return f.name;
  }
  return std::nullopt;
}

}  // namespace cb::elevenlabs
