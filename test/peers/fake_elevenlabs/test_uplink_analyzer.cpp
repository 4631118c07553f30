#include <catch2/catch.hpp>

#include <vector>

#include "apps/callsim/audio_stamp.hpp"
#include "apps/fake_elevenlabs/uplink_analyzer.hpp"
#include "codecs/g711.hpp"
#include "codecs/pcm.hpp"
#include "test_support.hpp"

namespace fe = cb::fake_elevenlabs;
namespace t = cb::fake_elevenlabs::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> bytes_of(const std::vector<std::int16_t>& samples,
                                   cb::codecs::audio_format format) {
  std::vector<std::uint8_t> bytes(samples.size() * format.bytes_per_sample());
  if (format.enc == cb::codecs::encoding::ulaw) {
    cb::codecs::encode_ulaw(samples.data(), samples.size(), bytes.data());
  } else {
    cb::codecs::store_s16le(samples.data(), samples.size(), bytes.data());
  }
  return bytes;
}

// Feeds the samples in chunks of chunk_ms and collects the turns that ended.
std::vector<fe::completed_turn> feed(fe::uplink_analyzer& analyzer, fe::user_audio_record& record,
                                     const std::vector<std::int16_t>& samples,
                                     cb::codecs::audio_format format, int chunk_ms,
                                     fe::clock::time_point received_at = fe::clock::now()) {
  std::vector<fe::completed_turn> turns;
  const auto bytes = bytes_of(samples, format);
  const std::size_t step =
      static_cast<std::size_t>(format.rate_hz) * chunk_ms / 1000 * format.bytes_per_sample();
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    analyzer.process(bytes.data() + at, std::min(step, bytes.size() - at), received_at, record);
    for (auto& turn : analyzer.take_events().turns_ended)
      turns.push_back(std::move(turn));
  }
  return turns;
}

}  // namespace

TEST_CASE("a tone followed by silence is one caller turn at the tone's frequency") {
  auto profile = fe::make_profile("echo", fe::scenario_kind::echo);
  fe::uplink_analyzer analyzer(profile, true);
  fe::user_audio_record record;
  const auto audio = t::concat(t::concat(t::silence(200, 16000), t::tone(440, 1000, 16000)),
                               t::silence(700, 16000));
  const auto turns = feed(analyzer, record, audio, t::pcm_16000, 20);

  REQUIRE(turns.size() == 1);
  CHECK(turns[0].start_ms == Approx(200).margin(20));
  CHECK(turns[0].voiced_ms == Approx(1000).margin(20));
  CHECK(turns[0].frequency_hz == Approx(440).margin(3));
  CHECK(t::duration_ms(turns[0].audio, 16000) == Approx(1000).margin(20));
  CHECK(record.chunks == 95);
  CHECK(record.received_ms == Approx(1900));
  CHECK(record.voiced_ms == Approx(1000).margin(20));
  REQUIRE(record.segments.size() == 1);
  CHECK(record.segments[0].frequency_hz == Approx(440).margin(3));
  CHECK(record.dominant_frequency_hz() == Approx(440).margin(3));
  CHECK(record.voiced_ms_near(440, 10) == Approx(1000).margin(20));
  CHECK(record.voiced_ms_near(880, 10) == 0.0);
}

TEST_CASE("two tones separated by a short gap are two segments of one turn") {
  auto profile = fe::make_profile("tone", fe::scenario_kind::tone);
  profile.input = t::ulaw_8000;
  fe::uplink_analyzer analyzer(profile, false);
  fe::user_audio_record record;
  auto audio = t::concat(t::tone(500, 600, 8000), t::silence(200, 8000));
  audio = t::concat(std::move(audio), t::tone(1000, 400, 8000));
  audio = t::concat(std::move(audio), t::silence(600, 8000));
  const auto turns = feed(analyzer, record, audio, t::ulaw_8000, 250);

  REQUIRE(turns.size() == 1);
  CHECK(turns[0].voiced_ms == Approx(1000).margin(40));
  CHECK(turns[0].audio.empty());
  REQUIRE(record.segments.size() == 2);
  CHECK(record.segments[0].frequency_hz == Approx(500).margin(5));
  CHECK(record.segments[0].duration_ms == Approx(600).margin(20));
  CHECK(record.segments[1].frequency_hz == Approx(1000).margin(10));
  CHECK(record.segments[1].start_ms == Approx(800).margin(20));
  CHECK(record.dominant_frequency_hz() == Approx(500).margin(5));
}

TEST_CASE("silence shorter than the turn gap does not end a turn") {
  auto profile = fe::make_profile("echo", fe::scenario_kind::echo);
  fe::uplink_analyzer analyzer(profile, false);
  fe::user_audio_record record;
  const auto audio = t::concat(t::concat(t::tone(440, 300, 16000), t::silence(400, 16000)),
                               t::tone(440, 300, 16000));
  CHECK(feed(analyzer, record, audio, t::pcm_16000, 20).empty());
  CHECK(analyzer.in_turn());
  CHECK(analyzer.turn_voiced_ms() == Approx(600).margin(20));
  CHECK(feed(analyzer, record, t::silence(520, 16000), t::pcm_16000, 20).size() == 1);
}

TEST_CASE("caller frame stamps are timed wherever chunks split them, and do not count as speech") {
  auto profile = fe::make_profile("echo", fe::scenario_kind::echo);
  fe::uplink_analyzer analyzer(profile, false);
  fe::user_audio_record record;
  const auto received_at = fe::clock::now();
  const std::int64_t sent_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>((received_at - 7ms).time_since_epoch())
          .count();
  auto audio = t::concat(t::silence(1000, 16000), t::tone(440, 1000, 16000));
  audio = t::concat(std::move(audio), t::silence(600, 16000));
  for (std::size_t frame = 0; frame < audio.size(); frame += 320) {
    cb::callsim::stamp::write(audio.data() + frame, sent_ns);
  }
  // 30 ms chunks: every third stamp straddles two chunks.
  const auto turns = feed(analyzer, record, audio, t::pcm_16000, 30, received_at);

  CHECK(record.stamps == 130);
  REQUIRE(record.stamp_latencies.size() == 130);
  CHECK(record.stamp_latencies.front() == 7ms);
  CHECK(record.stamp_latency_max == 7ms);
  CHECK(record.stamp_latency_sum == 130 * 7ms);
  REQUIRE(turns.size() == 1);
  CHECK(turns[0].start_ms == Approx(1000).margin(20));
  CHECK(turns[0].voiced_ms == Approx(1000).margin(20));
  CHECK(turns[0].frequency_hz == Approx(440).margin(3));
  REQUIRE(record.segments.size() == 1);
}

TEST_CASE("mu-law input is never searched for stamps") {
  auto profile = fe::make_profile("echo", fe::scenario_kind::echo);
  profile.input = t::ulaw_8000;
  fe::uplink_analyzer analyzer(profile, false);
  fe::user_audio_record record;
  std::vector<std::uint8_t> bytes(160, cb::codecs::ulaw_silence);
  analyzer.process(bytes.data(), bytes.size(), fe::clock::now(), record);
  CHECK(record.stamps == 0);
  CHECK(record.received_ms == Approx(20));
}

TEST_CASE("the stamp of the caller frame holding the latest speech is kept, silence leaves it") {
  auto profile = fe::make_profile("tone", fe::scenario_kind::tone);
  fe::uplink_analyzer analyzer(profile, false);
  fe::user_audio_record record;
  const auto received_at = fe::clock::now();
  const std::int64_t first_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>((received_at - 1s).time_since_epoch())
          .count();
  // Frames 0-9 silent, 10-19 a tone, 20-49 silent; each stamped with its own time.
  auto audio = t::concat(t::silence(200, 16000), t::tone(440, 200, 16000));
  audio = t::concat(std::move(audio), t::silence(600, 16000));
  for (std::size_t frame = 0; frame * 320 < audio.size(); ++frame) {
    cb::callsim::stamp::write(audio.data() + frame * 320,
                              first_ns + static_cast<std::int64_t>(frame) * 20'000'000);
  }
  const std::vector<std::int16_t> quiet(audio.begin(), audio.begin() + 10 * 320);
  const std::vector<std::int16_t> rest(audio.begin() + 10 * 320, audio.end());

  feed(analyzer, record, quiet, t::pcm_16000, 20, received_at);
  CHECK_FALSE(analyzer.voiced_stamp_ns().has_value());
  // 30 ms chunks: windows and chunks do not line up.
  feed(analyzer, record, rest, t::pcm_16000, 30, received_at);
  CHECK(analyzer.voiced_stamp_ns() == first_ns + 19 * 20'000'000);
}
