#include <catch2/catch.hpp>

#include <string_view>
#include <utility>

#include "protocol/elevenlabs_audio_format.hpp"

namespace el = cb::elevenlabs;
using cb::codecs::audio_format;
using cb::codecs::encoding;

TEST_CASE("elevenlabs audio format names map to all seven formats and back", "[elevenlabs]") {
  const std::pair<std::string_view, audio_format> formats[] = {
      {"pcm_8000", {encoding::pcm_s16le, 8000}},   {"pcm_16000", {encoding::pcm_s16le, 16000}},
      {"pcm_22050", {encoding::pcm_s16le, 22050}}, {"pcm_24000", {encoding::pcm_s16le, 24000}},
      {"pcm_44100", {encoding::pcm_s16le, 44100}}, {"pcm_48000", {encoding::pcm_s16le, 48000}},
      {"ulaw_8000", {encoding::ulaw, 8000}},
  };
  for (const auto& [name, format] : formats) {
    INFO(name);
    const auto parsed = el::parse_audio_format(name);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == format);
    const auto named = el::format_name(format);
    REQUIRE(named.has_value());
    CHECK(*named == name);
  }
}

TEST_CASE("elevenlabs audio format rejects names outside the protocol's seven", "[elevenlabs]") {
  for (const std::string_view name :
       {"", "pcm", "pcm_", "pcm_11025", "pcm_16000 ", " pcm_16000", "PCM_16000", "ulaw_16000",
        "alaw_8000", "mp3_44100", "opus_48000"}) {
    INFO(name);
    CHECK_FALSE(el::parse_audio_format(name).has_value());
  }
  CHECK_FALSE(el::parse_audio_format(std::string_view("pcm_16000\0", 10)).has_value());
}

TEST_CASE("elevenlabs audio format has no name for formats the agent cannot use", "[elevenlabs]") {
  CHECK_FALSE(el::format_name({encoding::ulaw, 16000}).has_value());
  CHECK_FALSE(el::format_name({encoding::pcm_s16le, 11025}).has_value());
  CHECK_FALSE(el::format_name({encoding::pcm_s16le, 0}).has_value());
}
