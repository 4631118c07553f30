// Asterisk AudioSocket framing (shared/protocols/audiosocket.md): kind (1 byte), big-endian length
// (2 bytes), payload. The parser is incremental because TCP reads split frames anywhere; it sits on
// every call's 20 ms audio path, so it hands out views into the caller's bytes and copies only the
// frames a read split, into one buffer allocated with the parser.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/expected.hpp"

namespace cb::audiosocket {

enum class kind : std::uint8_t {
  hangup = 0x00,
  uuid = 0x01,
  dtmf = 0x03,
  slin_8k = 0x10,
  slin_12k = 0x11,
  slin_16k = 0x12,
  slin_24k = 0x13,
  slin_32k = 0x14,
  slin_44k = 0x15,
  slin_48k = 0x16,
  slin_96k = 0x17,
  slin_192k = 0x18,
  error = 0xff,
};

inline constexpr std::size_t header_size = 3;
inline constexpr std::size_t uuid_size = 16;
// 192 kHz for 20 ms is 7680 bytes; leave room for peers that send longer frames.
inline constexpr std::size_t default_max_payload = 16384;

[[nodiscard]] constexpr bool is_audio(kind k) {
  return k >= kind::slin_8k && k <= kind::slin_192k;
}
// Samples per second of an audio kind (44.1 kHz is 44100); 0 for the other kinds.
[[nodiscard]] int sample_rate(kind k);
[[nodiscard]] std::optional<kind> audio_kind_for_rate(int rate_hz);
// A DTMF frame's digit: 0-9, *, #, A-D (upper case only, as Asterisk sends them).
[[nodiscard]] bool is_dtmf_digit(char c);

enum class parse_error_code : std::uint8_t {
  unknown_kind,     // a kind byte this protocol does not define
  empty_audio,      // an audio frame with length 0 (Asterisk refuses these too)
  oversize,         // payload longer than parser_options::max_payload
  bad_uuid_length,  // a call-id frame whose length is not 16
  bad_dtmf_length,  // a DTMF frame whose length is not 1
  bad_dtmf_digit,   // a DTMF frame whose byte is not 0-9 * # A-D
};

struct parse_error {
  parse_error_code code = parse_error_code::unknown_kind;
  std::uint8_t kind_byte = 0;
  std::uint16_t length = 0;

  friend bool operator==(const parse_error& a, const parse_error& b) {
    return a.code == b.code && a.kind_byte == b.kind_byte && a.length == b.length;
  }
  friend bool operator!=(const parse_error& a, const parse_error& b) { return !(a == b); }
};

[[nodiscard]] const char* to_string(parse_error_code code);
// One line for logs and call-end reasons: "bad_dtmf_length (kind 0x03, length 2)".
[[nodiscard]] std::string to_string(const parse_error& error);

// One whole frame. payload points into the bytes given to feed() or into the parser's buffer, and
// is valid only during the callback; it is nullptr when length is 0.
struct frame_view {
  kind k = kind::hangup;
  const std::uint8_t* payload = nullptr;
  std::uint16_t length = 0;
  // OSdial's AudioSocket backport sends a keepalive as a 0x11 header whose length says 16 while no
  // payload follows. Delivered (only with parser_options::osdial_heartbeat) as k == slin_12k,
  // length 0, heartbeat true: it carries no audio, and no real audio frame ever has length 0.
  bool heartbeat = false;
};

struct parser_options {
  // Longest payload accepted (at most 65535, the length field's range). The parser allocates a
  // buffer of this size once.
  std::size_t max_payload = default_max_payload;
  // Read a 0x11 header with length 16 as OSdial's heartbeat instead of 12 kHz audio.
  bool osdial_heartbeat = false;
};

class parser {
 public:
  explicit parser(parser_options options = {});

  // Parses as many whole frames as data completes, calling on_frame(const frame_view&) for each
  // in order, and keeps a trailing partial frame for the next call. Returns the number of frames
  // delivered. On an error the frames before it have been delivered, and the parser stays failed:
  // every later call returns the same error at once. on_frame must not call feed() on this parser.
  template <class OnFrame>
  expected<std::size_t, parse_error> feed(const std::uint8_t* data, std::size_t n,
                                          OnFrame&& on_frame) {
    const std::uint8_t* const end = data + n;
    std::size_t frames = 0;
    frame_view frame;
    for (;;) {
      switch (next(data, end, frame)) {
        case step::frame:
          ++frames;
          on_frame(static_cast<const frame_view&>(frame));
          break;
        case step::need_more:
          return frames;
        case step::failed:
          return unexpected{*error_};
      }
    }
  }

  [[nodiscard]] bool failed() const noexcept { return error_.has_value(); }
  [[nodiscard]] const std::optional<parse_error>& error() const noexcept { return error_; }
  // A frame has begun but not ended: at EOF this means the peer cut a frame short. Never once
  // failed.
  [[nodiscard]] bool mid_frame() const noexcept { return header_have_ != 0; }

 private:
  enum class step : std::uint8_t { need_more, frame, failed };

  step next(const std::uint8_t*& data, const std::uint8_t* end, frame_view& frame);
  step fail(parse_error_code code);

  parser_options options_;
  std::unique_ptr<std::uint8_t[]> buffer_;  // max_payload bytes, for frames split across reads
  std::array<std::uint8_t, header_size> header_{};
  std::size_t header_have_ = 0;   // header bytes seen of the current frame (3 once validated)
  std::size_t payload_have_ = 0;  // payload bytes copied into buffer_
  std::optional<parse_error> error_;
};

// The call id of a 0x01 frame. Asterisk sends the binary RFC 4122 UUID; OSdial's backport sends the
// first 16 characters of the id string instead. Both are kept as received.
struct call_id {
  std::array<std::uint8_t, uuid_size> bytes{};
  bool ascii = false;

  // Binary: the lowercase 8-4-4-4-12 form. ASCII: the 16 characters as sent.
  [[nodiscard]] std::string text() const;

  friend bool operator==(const call_id& a, const call_id& b) {
    return a.bytes == b.bytes && a.ascii == b.ascii;
  }
  friend bool operator!=(const call_id& a, const call_id& b) { return !(a == b); }
};

// A 0x01 payload as a call id; nullopt unless length is 16.
[[nodiscard]] std::optional<call_id> parse_call_id(const std::uint8_t* payload, std::size_t length);
// The id a dialplan names, as the simulator sends it: 8-4-4-4-12 text gives the binary form,
// 16 printable ASCII characters the ASCII form; anything else is nullopt. Inverse of text().
[[nodiscard]] std::optional<call_id> make_call_id(std::string_view text);
// 8-4-4-4-12 hex (either case, dashes required) to the 16 bytes in RFC 4122 order.
[[nodiscard]] std::optional<std::array<std::uint8_t, uuid_size>> parse_uuid_text(
    std::string_view text);
[[nodiscard]] std::string format_uuid(const std::array<std::uint8_t, uuid_size>& bytes);

// Serializing refuses what the parser refuses (a zero-length audio frame, a uuid frame that is not
// 16 bytes, a bad DTMF frame), with the same error, so no malformed frame reaches a peer. Which
// kinds a side may send (the bridge never sends 0x01, 0x03 or 0xff to Asterisk; the call simulator
// does) is the caller's business.

// Writes a 3-byte header; returns header_size. Checks what the length alone decides; a DTMF
// digit is the caller's to check (or use dtmf_frame).
[[nodiscard]] expected<std::size_t, parse_error> write_header(std::uint8_t* out, kind k,
                                                              std::uint16_t length);
// Appends header and payload to out (reusing its capacity); returns the bytes appended.
[[nodiscard]] expected<std::size_t, parse_error> append_frame(std::vector<std::uint8_t>& out,
                                                              kind k, const std::uint8_t* payload,
                                                              std::uint16_t length);
[[nodiscard]] std::array<std::uint8_t, header_size + uuid_size> uuid_frame(const call_id& id);
[[nodiscard]] std::array<std::uint8_t, header_size> hangup_frame();
[[nodiscard]] expected<std::array<std::uint8_t, header_size + 1>, parse_error> dtmf_frame(
    char digit);

}  // namespace cb::audiosocket
