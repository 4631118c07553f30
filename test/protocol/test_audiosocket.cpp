#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "protocol/audiosocket.hpp"

namespace as = cb::audiosocket;

namespace {

using bytes = std::vector<std::uint8_t>;

struct frame {
  as::kind k = as::kind::hangup;
  bool heartbeat = false;
  bytes payload;

  friend bool operator==(const frame& a, const frame& b) {
    return a.k == b.k && a.heartbeat == b.heartbeat && a.payload == b.payload;
  }
};

struct parsed {
  std::vector<frame> frames;
  std::optional<as::parse_error> error;
};

// Feeds data in the given chunk sizes (the rest in one piece) and collects what comes out.
parsed parse_chunks(const bytes& data, const std::vector<std::size_t>& chunks,
                    as::parser_options options = {}) {
  as::parser p(options);
  parsed out;
  std::size_t offset = 0;
  const auto feed = [&](std::size_t n) {
    const auto result = p.feed(data.data() + offset, n, [&](const as::frame_view& f) {
      out.frames.push_back({f.k, f.heartbeat, bytes(f.payload, f.payload + f.length)});
    });
    offset += n;
    if (!result && !out.error) out.error = result.error();
  };
  for (const auto n : chunks) {
    if (offset + n > data.size()) break;
    feed(n);
  }
  feed(data.size() - offset);
  return out;
}

parsed parse_whole(const bytes& data, as::parser_options options = {}) {
  return parse_chunks(data, {}, options);
}

as::parse_error parse_failure(const bytes& data, as::parser_options options = {}) {
  const auto result = parse_whole(data, options);
  REQUIRE(result.error.has_value());
  return *result.error;
}

bytes header(std::uint8_t kind_byte, std::uint16_t length) {
  return {kind_byte, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

bytes raw_frame(std::uint8_t kind_byte, const bytes& payload) {
  auto out = header(kind_byte, static_cast<std::uint16_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

// Distinct, recognisable audio bytes: a frame's content cannot be mistaken for another's.
bytes audio(std::size_t n, std::uint8_t seed) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(seed * 31U + i * 7U);
  return out;
}

bytes concat(const std::vector<bytes>& parts) {
  bytes out;
  for (const auto& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

const bytes call_uuid = {0x0f, 0x7f, 0x4f, 0x6e, 0x2c, 0x2b, 0x4a, 0x4b,
                         0x9a, 0x2c, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60};
constexpr const char* call_uuid_text = "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f60";

// What Asterisk sends for one call: the uuid first, 8 kHz audio including the short last frames of
// a played file, DTMF digits, then 16 kHz audio from the channel driver.
struct call_stream {
  bytes wire;
  std::vector<frame> frames;
};

call_stream realistic_call() {
  call_stream s;
  const auto add = [&](as::kind k, const bytes& payload) {
    const auto encoded = raw_frame(static_cast<std::uint8_t>(k), payload);
    s.wire.insert(s.wire.end(), encoded.begin(), encoded.end());
    s.frames.push_back({k, false, payload});
  };
  add(as::kind::uuid, call_uuid);
  std::uint8_t seed = 1;
  for (int i = 0; i < 8; ++i)
    add(as::kind::slin_8k, audio(320, seed++));
  add(as::kind::slin_8k, audio(128, seed++));
  add(as::kind::slin_8k, audio(276, seed++));
  add(as::kind::dtmf, {'5'});
  add(as::kind::slin_8k, audio(320, seed++));
  add(as::kind::dtmf, {'#'});
  for (int i = 0; i < 4; ++i)
    add(as::kind::slin_16k, audio(640, seed++));
  add(as::kind::slin_16k, audio(2, seed++));
  return s;
}

}  // namespace

TEST_CASE("audiosocket kinds know their audio rates", "[audiosocket]") {
  const std::pair<as::kind, int> rates[] = {
      {as::kind::slin_8k, 8000},   {as::kind::slin_12k, 12000}, {as::kind::slin_16k, 16000},
      {as::kind::slin_24k, 24000}, {as::kind::slin_32k, 32000}, {as::kind::slin_44k, 44100},
      {as::kind::slin_48k, 48000}, {as::kind::slin_96k, 96000}, {as::kind::slin_192k, 192000},
  };
  for (const auto& [k, rate] : rates) {
    CHECK(as::is_audio(k));
    CHECK(as::sample_rate(k) == rate);
    CHECK(as::audio_kind_for_rate(rate) == k);
  }
  CHECK(static_cast<int>(as::kind::slin_192k) == 0x18);
  for (const auto k : {as::kind::hangup, as::kind::uuid, as::kind::dtmf, as::kind::error}) {
    CHECK_FALSE(as::is_audio(k));
    CHECK(as::sample_rate(k) == 0);
  }
  CHECK_FALSE(as::audio_kind_for_rate(11025).has_value());
  CHECK_FALSE(as::audio_kind_for_rate(0).has_value());
  CHECK_FALSE(as::audio_kind_for_rate(44000).has_value());
}

TEST_CASE("audiosocket parses every kind with its payload", "[audiosocket]") {
  std::vector<bytes> parts = {raw_frame(0x01, call_uuid)};
  std::vector<frame> expected = {{as::kind::uuid, false, call_uuid}};
  for (const char digit : std::string("0123456789*#ABCD")) {
    const bytes payload = {static_cast<std::uint8_t>(digit)};
    parts.push_back(raw_frame(0x03, payload));
    expected.push_back({as::kind::dtmf, false, payload});
  }
  for (std::uint8_t kind_byte = 0x10; kind_byte <= 0x18; ++kind_byte) {
    const auto payload = audio(std::size_t{kind_byte} * 2, kind_byte);
    parts.push_back(raw_frame(kind_byte, payload));
    expected.push_back({static_cast<as::kind>(kind_byte), false, payload});
  }
  parts.push_back(raw_frame(0xff, {}));
  expected.push_back({as::kind::error, false, {}});
  parts.push_back(raw_frame(0xff, {0x04}));
  expected.push_back({as::kind::error, false, {0x04}});
  parts.push_back(raw_frame(0x00, {}));
  expected.push_back({as::kind::hangup, false, {}});

  const auto result = parse_whole(concat(parts));
  CHECK_FALSE(result.error.has_value());
  CHECK(result.frames == expected);
}

TEST_CASE("audiosocket refuses every undefined kind byte", "[audiosocket]") {
  for (int byte = 0; byte < 256; ++byte) {
    const auto kind_byte = static_cast<std::uint8_t>(byte);
    const bool defined = byte == 0x00 || byte == 0x01 || byte == 0x03 || byte == 0xff ||
                         (byte >= 0x10 && byte <= 0x18);
    if (defined) continue;
    const auto error = parse_failure(header(kind_byte, 7));
    CHECK(error == as::parse_error{as::parse_error_code::unknown_kind, kind_byte, 7});
  }
}

TEST_CASE("audiosocket refuses zero-length audio of every rate", "[audiosocket]") {
  for (std::uint8_t kind_byte = 0x10; kind_byte <= 0x18; ++kind_byte) {
    CHECK(parse_failure(header(kind_byte, 0)) ==
          as::parse_error{as::parse_error_code::empty_audio, kind_byte, 0});
  }
}

TEST_CASE("audiosocket refuses an oversize frame from its header alone", "[audiosocket]") {
  // No payload follows: the parser must not wait for 16 KiB it will refuse anyway.
  CHECK(parse_failure(header(0x10, 16385)) ==
        as::parse_error{as::parse_error_code::oversize, 0x10, 16385});
  CHECK(parse_failure(header(0x00, 40000)) ==
        as::parse_error{as::parse_error_code::oversize, 0x00, 40000});

  const as::parser_options small{320, false};
  CHECK(parse_whole(raw_frame(0x10, audio(320, 1)), small).frames.size() == 1);
  CHECK(parse_failure(header(0x10, 321), small) ==
        as::parse_error{as::parse_error_code::oversize, 0x10, 321});

  const auto at_default_max = parse_whole(raw_frame(0x18, audio(16384, 3)));
  CHECK_FALSE(at_default_max.error.has_value());
  REQUIRE(at_default_max.frames.size() == 1);
  CHECK(at_default_max.frames[0].payload == audio(16384, 3));
}

TEST_CASE("audiosocket refuses malformed uuid and dtmf frames", "[audiosocket]") {
  for (const std::uint16_t length : {0, 15, 17, 36}) {
    CHECK(parse_failure(raw_frame(0x01, bytes(length, 0x41))) ==
          as::parse_error{as::parse_error_code::bad_uuid_length, 0x01, length});
  }
  for (const std::uint16_t length : {0, 2}) {
    CHECK(parse_failure(raw_frame(0x03, bytes(length, '1'))) ==
          as::parse_error{as::parse_error_code::bad_dtmf_length, 0x03, length});
  }
  for (const char digit : std::string("abcdEF \x00\x7f", 9)) {
    CHECK(parse_failure(raw_frame(0x03, {static_cast<std::uint8_t>(digit)})) ==
          as::parse_error{as::parse_error_code::bad_dtmf_digit, 0x03, 1});
  }
}

TEST_CASE("audiosocket delivers the frames before an error and then stays failed",
          "[audiosocket]") {
  const auto good = raw_frame(0x10, audio(320, 9));
  const auto data = concat({good, raw_frame(0x03, {'x'}), good});
  as::parser p;
  std::size_t frames = 0;
  const auto count = [&](const as::frame_view&) { ++frames; };

  const auto first = p.feed(data.data(), data.size(), count);
  REQUIRE_FALSE(first.has_value());
  CHECK(first.error() == as::parse_error{as::parse_error_code::bad_dtmf_digit, 0x03, 1});
  CHECK(frames == 1);
  CHECK(p.failed());
  CHECK_FALSE(p.mid_frame());

  const auto again = p.feed(good.data(), good.size(), count);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error() == first.error());
  CHECK(frames == 1);
}

TEST_CASE("audiosocket error text names the code, kind and length", "[audiosocket]") {
  CHECK(as::to_string(as::parse_error{as::parse_error_code::bad_dtmf_length, 0x03, 2}) ==
        "bad_dtmf_length (kind 0x03, length 2)");
  CHECK(as::to_string(as::parse_error{as::parse_error_code::unknown_kind, 0xab, 65535}) ==
        "unknown_kind (kind 0xab, length 65535)");
  CHECK(std::string(as::to_string(as::parse_error_code::empty_audio)) == "empty_audio");
}

TEST_CASE("audiosocket call stream gives the same frames however it is split", "[audiosocket]") {
  const auto call = realistic_call();
  const auto& wire = call.wire;

  const auto whole = parse_whole(wire);
  CHECK_FALSE(whole.error.has_value());
  REQUIRE(whole.frames == call.frames);

  SECTION("split at every byte boundary") {
    for (std::size_t split = 0; split <= wire.size(); ++split) {
      const auto result = parse_chunks(wire, {split});
      REQUIRE_FALSE(result.error.has_value());
      REQUIRE(result.frames == call.frames);
    }
  }
  SECTION("one byte at a time") {
    const auto result = parse_chunks(wire, std::vector<std::size_t>(wire.size(), 1));
    CHECK_FALSE(result.error.has_value());
    CHECK(result.frames == call.frames);
  }
  SECTION("random chunk sizes") {
    for (const std::uint32_t seed : {1U, 2U, 3U, 42U, 2024U}) {
      std::mt19937 rng(seed);
      std::uniform_int_distribution<std::size_t> size(1, 700);
      std::vector<std::size_t> chunks;
      for (std::size_t total = 0; total < wire.size();) {
        chunks.push_back(size(rng));
        total += chunks.back();
      }
      const auto result = parse_chunks(wire, chunks);
      REQUIRE_FALSE(result.error.has_value());
      REQUIRE(result.frames == call.frames);
    }
  }
}

TEST_CASE("audiosocket hands out a whole frame in place and copies only a split one",
          "[audiosocket]") {
  const auto data = concat({raw_frame(0x10, audio(320, 1)), raw_frame(0x10, audio(320, 2))});
  as::parser p;
  std::vector<const std::uint8_t*> payloads;
  const auto record = [&](const as::frame_view& f) { payloads.push_back(f.payload); };

  REQUIRE(p.feed(data.data(), data.size(), record).value() == 2);
  REQUIRE(payloads.size() == 2);
  CHECK(payloads[0] == data.data() + 3);
  CHECK(payloads[1] == data.data() + 326);

  REQUIRE(p.feed(data.data(), 100, record).value() == 0);
  CHECK(p.mid_frame());
  REQUIRE(p.feed(data.data() + 100, data.size() - 100, record).value() == 2);
  CHECK_FALSE(p.mid_frame());
  REQUIRE(payloads.size() == 4);
  const bool copied = payloads[2] < data.data() || payloads[2] >= data.data() + data.size();
  CHECK(copied);
  CHECK(payloads[3] == data.data() + 326);
}

TEST_CASE("audiosocket reports a frame cut short at the end of the stream", "[audiosocket]") {
  as::parser p;
  const auto ignore = [](const as::frame_view&) {};
  const auto frame_bytes = raw_frame(0x10, audio(320, 4));
  CHECK_FALSE(p.mid_frame());
  REQUIRE(p.feed(frame_bytes.data(), 2, ignore).has_value());
  CHECK(p.mid_frame());
  REQUIRE(p.feed(frame_bytes.data() + 2, frame_bytes.size() - 2, ignore).value() == 1);
  CHECK_FALSE(p.mid_frame());
  REQUIRE(p.feed(nullptr, 0, ignore).value() == 0);
}

TEST_CASE("audiosocket reads OSdial's heartbeat only when asked to", "[audiosocket]") {
  const auto heartbeat = header(0x11, 16);
  const auto next_audio = raw_frame(0x10, audio(16, 5));
  const auto data = concat({heartbeat, next_audio, heartbeat});

  SECTION("with osdial_heartbeat a 0x11 header of length 16 carries no payload") {
    const as::parser_options osdial{as::default_max_payload, true};
    const std::vector<frame> expected = {{as::kind::slin_12k, true, {}},
                                         {as::kind::slin_8k, false, audio(16, 5)},
                                         {as::kind::slin_12k, true, {}}};
    for (std::size_t split = 0; split <= data.size(); ++split) {
      const auto result = parse_chunks(data, {split}, osdial);
      REQUIRE_FALSE(result.error.has_value());
      REQUIRE(result.frames == expected);
    }
    // A heartbeat is never oversize: it has no payload.
    const as::parser_options tiny_osdial{8, true};
    CHECK(parse_whole(heartbeat, tiny_osdial).frames ==
          std::vector<frame>{{as::kind::slin_12k, true, {}}});
    // Other lengths stay 12 kHz audio.
    const auto real_audio = parse_whole(raw_frame(0x11, audio(480, 6)), osdial);
    REQUIRE(real_audio.frames.size() == 1);
    CHECK(real_audio.frames[0] == frame{as::kind::slin_12k, false, audio(480, 6)});
  }
  SECTION("without it 0x11 is 12 kHz audio and the header takes 16 payload bytes") {
    const auto result = parse_whole(concat({heartbeat, audio(16, 6), next_audio}));
    CHECK_FALSE(result.error.has_value());
    CHECK(result.frames == std::vector<frame>{{as::kind::slin_12k, false, audio(16, 6)},
                                              {as::kind::slin_8k, false, audio(16, 5)}});
    as::parser p;
    REQUIRE(p.feed(heartbeat.data(), heartbeat.size(), [](const as::frame_view&) {}).value() == 0);
    CHECK(p.mid_frame());
  }
}

TEST_CASE("audiosocket uuid text parses in either case and formats lowercase", "[audiosocket]") {
  const auto parsed_lower = as::parse_uuid_text(call_uuid_text);
  REQUIRE(parsed_lower.has_value());
  CHECK(bytes(parsed_lower->begin(), parsed_lower->end()) == call_uuid);
  CHECK(as::parse_uuid_text("0F7F4F6E-2C2B-4A4B-9A2C-1B2C3D4E5F60") == parsed_lower);
  CHECK(as::format_uuid(*parsed_lower) == call_uuid_text);

  for (const char* bad :
       {"0f7f4f6e2c2b4a4b9a2c1b2c3d4e5f60", "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f6",
        "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f600", "0f7f4f6e-2c2b-4a4b-9a2c1-b2c3d4e5f60",
        "0f7f4f6g-2c2b-4a4b-9a2c-1b2c3d4e5f60", "{f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f6}",
        "0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f6 ", ""}) {
    CHECK_FALSE(as::parse_uuid_text(bad).has_value());
  }
}

TEST_CASE("audiosocket call id keeps binary and OSdial ASCII forms apart", "[audiosocket]") {
  const auto binary = as::parse_call_id(call_uuid.data(), call_uuid.size());
  REQUIRE(binary.has_value());
  CHECK_FALSE(binary->ascii);
  CHECK(binary->text() == call_uuid_text);

  const std::string osdial_id = "Y2603121455000001";  // OSdial's id, cut to 16 by its backport
  const auto ascii = as::parse_call_id(reinterpret_cast<const std::uint8_t*>(osdial_id.data()), 16);
  REQUIRE(ascii.has_value());
  CHECK(ascii->ascii);
  CHECK(ascii->text() == osdial_id.substr(0, 16));

  // Printable everywhere but byte 8, which carries the RFC 4122 variant: binary.
  const auto variant = as::parse_uuid_text("41414141-4141-4141-8141-414141414141");
  REQUIRE(variant.has_value());
  const auto with_variant = as::parse_call_id(variant->data(), variant->size());
  REQUIRE(with_variant.has_value());
  CHECK_FALSE(with_variant->ascii);
  CHECK(with_variant->text() == "41414141-4141-4141-8141-414141414141");

  // A space is not part of the ASCII form (0x21..0x7e).
  bytes spaced(16, 'A');
  spaced[3] = ' ';
  CHECK_FALSE(as::parse_call_id(spaced.data(), spaced.size())->ascii);

  CHECK_FALSE(as::parse_call_id(call_uuid.data(), 15).has_value());
  CHECK_FALSE(as::parse_call_id(call_uuid.data(), 17).has_value());
}

TEST_CASE("audiosocket call ids round-trip through text and the wire", "[audiosocket]") {
  for (const char* text :
       {call_uuid_text, "Y260312145500000", "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff"}) {
    const auto id = as::make_call_id(text);
    REQUIRE(id.has_value());
    CHECK(id->text() == text);
    CHECK(as::make_call_id(id->text()) == id);

    const auto wire = as::uuid_frame(*id);
    const auto result = parse_whole(bytes(wire.begin(), wire.end()));
    REQUIRE(result.frames.size() == 1);
    CHECK(result.frames[0].k == as::kind::uuid);
    const auto& payload = result.frames[0].payload;
    CHECK(as::parse_call_id(payload.data(), payload.size()) == id);
  }
  CHECK(as::make_call_id("0F7F4F6E-2C2B-4A4B-9A2C-1B2C3D4E5F60")->text() == call_uuid_text);
  CHECK_FALSE(as::make_call_id("short").has_value());
  CHECK_FALSE(as::make_call_id("has a space 1234").has_value());
  CHECK_FALSE(as::make_call_id("0f7f4f6e-2c2b-4a4b-9a2c-1b2c3d4e5f6").has_value());
}

TEST_CASE("audiosocket writes headers big-endian", "[audiosocket]") {
  std::uint8_t out[3] = {};
  REQUIRE(as::write_header(out, as::kind::slin_16k, 640).value() == 3);
  CHECK(bytes(out, out + 3) == bytes{0x12, 0x02, 0x80});
  REQUIRE(as::write_header(out, as::kind::slin_8k, 320).has_value());
  CHECK(bytes(out, out + 3) == bytes{0x10, 0x01, 0x40});
  REQUIRE(as::write_header(out, as::kind::error, 0).has_value());
  CHECK(bytes(out, out + 3) == bytes{0xff, 0x00, 0x00});

  CHECK(as::write_header(out, as::kind::slin_8k, 0).error() ==
        as::parse_error{as::parse_error_code::empty_audio, 0x10, 0});
  CHECK(as::write_header(out, as::kind::uuid, 36).error() ==
        as::parse_error{as::parse_error_code::bad_uuid_length, 0x01, 36});
  CHECK(as::write_header(out, as::kind::dtmf, 2).error() ==
        as::parse_error{as::parse_error_code::bad_dtmf_length, 0x03, 2});
  CHECK(bytes(out, out + 3) == bytes{0xff, 0x00, 0x00});  // untouched on refusal
}

TEST_CASE("audiosocket appends frames into reused capacity and refuses bad ones", "[audiosocket]") {
  const auto pcm = audio(320, 7);
  bytes out;
  out.reserve(std::size_t{2} * 323);
  const auto* const storage = out.data();
  REQUIRE(as::append_frame(out, as::kind::slin_8k, pcm.data(), 320).value() == 323);
  REQUIRE(as::append_frame(out, as::kind::slin_8k, pcm.data(), 320).value() == 323);
  CHECK(out.data() == storage);
  CHECK(out == concat({raw_frame(0x10, pcm), raw_frame(0x10, pcm)}));

  const auto before = out;
  CHECK(as::append_frame(out, as::kind::slin_16k, pcm.data(), 0).error().code ==
        as::parse_error_code::empty_audio);
  CHECK(as::append_frame(out, as::kind::uuid, pcm.data(), 15).error().code ==
        as::parse_error_code::bad_uuid_length);
  const std::uint8_t bad_digit = 'e';
  CHECK(as::append_frame(out, as::kind::dtmf, &bad_digit, 1).error() ==
        as::parse_error{as::parse_error_code::bad_dtmf_digit, 0x03, 1});
  CHECK(out == before);

  REQUIRE(as::append_frame(out, as::kind::hangup, nullptr, 0).value() == 3);
  CHECK(bytes(out.end() - 3, out.end()) == bytes{0, 0, 0});
}

TEST_CASE("audiosocket fixed frames are byte-exact", "[audiosocket]") {
  const auto hangup = as::hangup_frame();
  CHECK(bytes(hangup.begin(), hangup.end()) == bytes{0x00, 0x00, 0x00});

  const auto digit = as::dtmf_frame('#');
  REQUIRE(digit.has_value());
  CHECK(bytes(digit->begin(), digit->end()) == bytes{0x03, 0x00, 0x01, '#'});
  CHECK(as::dtmf_frame('e').error() ==
        as::parse_error{as::parse_error_code::bad_dtmf_digit, 0x03, 1});

  const auto uuid = as::uuid_frame(*as::make_call_id(call_uuid_text));
  CHECK(bytes(uuid.begin(), uuid.end()) == raw_frame(0x01, call_uuid));
}

TEST_CASE("audiosocket serializer output parses back to the same frames", "[audiosocket]") {
  const auto call = realistic_call();
  bytes wire;
  for (const auto& f : call.frames) {
    REQUIRE(
        as::append_frame(wire, f.k, f.payload.data(), static_cast<std::uint16_t>(f.payload.size()))
            .has_value());
  }
  CHECK(wire == call.wire);
  CHECK(parse_whole(wire).frames == call.frames);
}

TEST_CASE("audiosocket accepts the largest frame the length field allows", "[audiosocket]") {
  const as::parser_options unlimited{1U << 20, false};
  const auto payload = audio(65535, 8);
  const auto data = raw_frame(0x18, payload);
  const auto result = parse_chunks(data, {1000, 30000}, unlimited);
  CHECK_FALSE(result.error.has_value());
  REQUIRE(result.frames.size() == 1);
  CHECK(result.frames[0].payload == payload);
}
