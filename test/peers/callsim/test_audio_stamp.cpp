#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

#include "apps/callsim/audio_stamp.hpp"

namespace stamp = cb::callsim::stamp;

TEST_CASE("a stamp reads back the time written, in samples and in s16le bytes") {
  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{1}, std::int64_t{123'456'789'012},
                               std::int64_t{0x7fff'ffff'ffff'ffff}}) {
    std::array<std::int16_t, 160> frame{};
    stamp::write(frame.data(), t);
    CHECK(stamp::read(frame.data(), frame.size()) == t);

    std::array<std::uint8_t, 320> bytes{};
    stamp::write_s16le(bytes.data(), t);
    CHECK(stamp::read_s16le(bytes.data(), bytes.size()) == t);
  }
}

TEST_CASE("the stamp layout is the magic sample then the time, least significant word first") {
  std::array<std::uint8_t, stamp::bytes> bytes{};
  stamp::write_s16le(bytes.data(), 0x0102'0304'0506'0708);
  const std::array<std::uint8_t, stamp::bytes> expected{0x5a, 0x7e, 0x08, 0x07, 0x06,
                                                        0x05, 0x04, 0x03, 0x02, 0x01};
  CHECK(bytes == expected);
}

TEST_CASE("audio without the magic, a short frame or a negative time is no stamp") {
  std::array<std::int16_t, 160> frame{};
  CHECK_FALSE(stamp::read(frame.data(), frame.size()).has_value());

  stamp::write(frame.data(), 42);
  CHECK_FALSE(stamp::read(frame.data(), stamp::samples - 1).has_value());
  CHECK_FALSE(
      stamp::read_s16le(reinterpret_cast<const std::uint8_t*>(frame.data()), 4).has_value());

  stamp::write(frame.data(), -1);
  CHECK_FALSE(stamp::read(frame.data(), frame.size()).has_value());
}

static_assert(stamp::read(nullptr, 0) == std::nullopt, "usable in constant expressions");
