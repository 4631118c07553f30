#include "protocol/audiosocket.hpp"

#include <algorithm>
#include <cstring>

namespace cb::audiosocket {

namespace {

constexpr std::size_t max_length_field = 0xffff;
constexpr std::uint16_t osdial_heartbeat_length = 16;
constexpr char hex_digits[] = "0123456789abcdef";

constexpr int rates[] = {8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000};

bool is_known_kind(std::uint8_t byte) {
  return byte == static_cast<std::uint8_t>(kind::hangup) ||
         byte == static_cast<std::uint8_t>(kind::uuid) ||
         byte == static_cast<std::uint8_t>(kind::dtmf) ||
         byte == static_cast<std::uint8_t>(kind::error) || is_audio(static_cast<kind>(byte));
}

// The checks a header alone decides. Hangup and error frames take any length: Asterisk reads and
// ignores a hangup payload, and an error frame carries an optional code.
std::optional<parse_error_code> check_header(std::uint8_t kind_byte, std::size_t length,
                                             std::size_t max_payload) {
  if (!is_known_kind(kind_byte)) return parse_error_code::unknown_kind;
  const auto k = static_cast<kind>(kind_byte);
  if (is_audio(k) && length == 0) return parse_error_code::empty_audio;
  if (k == kind::uuid && length != uuid_size) return parse_error_code::bad_uuid_length;
  if (k == kind::dtmf && length != 1) return parse_error_code::bad_dtmf_length;
  if (length > max_payload) return parse_error_code::oversize;
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_printable_ascii(std::uint8_t byte) {
  return byte >= 0x21 && byte <= 0x7e;
}

}  // namespace

int sample_rate(kind k) {
  if (!is_audio(k)) return 0;
  return rates[static_cast<std::uint8_t>(k) - static_cast<std::uint8_t>(kind::slin_8k)];
}

std::optional<kind> audio_kind_for_rate(int rate_hz) {
  const auto* const found = std::find(std::begin(rates), std::end(rates), rate_hz);
  if (found == std::end(rates)) return std::nullopt;
  return static_cast<kind>(static_cast<std::uint8_t>(kind::slin_8k) + (found - std::begin(rates)));
}

bool is_dtmf_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

const char* to_string(parse_error_code code) {
  switch (code) {
    case parse_error_code::unknown_kind:
      return "unknown_kind";
    case parse_error_code::empty_audio:
      return "empty_audio";
    case parse_error_code::oversize:
      return "oversize";
    case parse_error_code::bad_uuid_length:
      return "bad_uuid_length";
    case parse_error_code::bad_dtmf_length:
      return "bad_dtmf_length";
    case parse_error_code::bad_dtmf_digit:
      return "bad_dtmf_digit";
  }
  return "unknown_parse_error";
}

std::string to_string(const parse_error& error) {
  std::string text = to_string(error.code);
  text += " (kind 0x";
  text += hex_digits[error.kind_byte >> 4];
  text += hex_digits[error.kind_byte & 0xf];
  text += ", length ";
  text += std::to_string(error.length);
  text += ')';
  return text;
}

parser::parser(parser_options options)
    : options_(options),
      buffer_(std::make_unique<std::uint8_t[]>(std::min(options.max_payload, max_length_field))) {}

parser::step parser::fail(parse_error_code code) {
  error_ =
      parse_error{code, header_[0], static_cast<std::uint16_t>((header_[1] << 8) | header_[2])};
  header_have_ = 0;
  return step::failed;
}

parser::step parser::next(const std::uint8_t*& data, const std::uint8_t* end, frame_view& frame) {
  if (error_) return step::failed;
  if (header_have_ < header_size) {
    if (data == end) return step::need_more;
    const auto take = std::min(header_size - header_have_, static_cast<std::size_t>(end - data));
    std::memcpy(header_.data() + header_have_, data, take);
    data += take;
    header_have_ += take;
    if (header_have_ < header_size) return step::need_more;
    const auto length = static_cast<std::size_t>((header_[1] << 8) | header_[2]);
    if (options_.osdial_heartbeat && header_[0] == static_cast<std::uint8_t>(kind::slin_12k) &&
        length == osdial_heartbeat_length) {
      frame = frame_view{kind::slin_12k, nullptr, 0, true};
      header_have_ = 0;
      return step::frame;
    }
    if (const auto code = check_header(header_[0], length, options_.max_payload)) {
      return fail(*code);
    }
  }

  frame.k = static_cast<kind>(header_[0]);
  frame.length = static_cast<std::uint16_t>((header_[1] << 8) | header_[2]);
  frame.payload = nullptr;
  frame.heartbeat = false;

  if (frame.length != 0) {
    const auto available = static_cast<std::size_t>(end - data);
    if (payload_have_ == 0 && available >= frame.length) {
      frame.payload = data;
      data += frame.length;
    } else {
      if (available == 0) return step::need_more;
      const auto take = std::min(frame.length - payload_have_, available);
      std::memcpy(buffer_.get() + payload_have_, data, take);
      data += take;
      payload_have_ += take;
      if (payload_have_ < frame.length) return step::need_more;
      frame.payload = buffer_.get();
    }
    payload_have_ = 0;
    if (frame.k == kind::dtmf && !is_dtmf_digit(static_cast<char>(frame.payload[0]))) {
      return fail(parse_error_code::bad_dtmf_digit);
    }
  }
  header_have_ = 0;
  return step::frame;
}

std::string call_id::text() const {
  if (ascii) return {bytes.begin(), bytes.end()};
  return format_uuid(bytes);
}

// A binary RFC 4122 UUID has the variant bits 10xx xxxx in byte 8, so that byte is >= 0x80 and is
// never ASCII. Sixteen printable ASCII bytes (which puts byte 8 below 0x80) are therefore OSdial's
// text id; anything else is a binary UUID.
std::optional<call_id> parse_call_id(const std::uint8_t* payload, std::size_t length) {
  if (length != uuid_size) return std::nullopt;
  call_id id;
  std::copy(payload, payload + uuid_size, id.bytes.begin());
  id.ascii = std::all_of(id.bytes.begin(), id.bytes.end(), is_printable_ascii);
  return id;
}

std::optional<call_id> make_call_id(std::string_view text) {
  if (const auto bytes = parse_uuid_text(text)) return call_id{*bytes, false};
  if (text.size() != uuid_size) return std::nullopt;
  call_id id;
  for (std::size_t i = 0; i < uuid_size; ++i) {
    id.bytes[i] = static_cast<std::uint8_t>(text[i]);
    if (!is_printable_ascii(id.bytes[i])) return std::nullopt;
  }
  id.ascii = true;
  return id;
}

std::optional<std::array<std::uint8_t, uuid_size>> parse_uuid_text(std::string_view text) {
  constexpr std::size_t text_size = 36;
  if (text.size() != text_size) return std::nullopt;
  std::array<std::uint8_t, uuid_size> bytes{};
  std::size_t out = 0;
  for (std::size_t i = 0; i < text_size;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[out++] = static_cast<std::uint8_t>((high << 4) | low);
    i += 2;
  }
  return bytes;
}

std::string format_uuid(const std::array<std::uint8_t, uuid_size>& bytes) {
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < uuid_size; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += hex_digits[bytes[i] >> 4];
    text += hex_digits[bytes[i] & 0xf];
  }
  return text;
}

expected<std::size_t, parse_error> write_header(std::uint8_t* out, kind k, std::uint16_t length) {
  const auto kind_byte = static_cast<std::uint8_t>(k);
  if (const auto code = check_header(kind_byte, length, max_length_field)) {
    return unexpected{parse_error{*code, kind_byte, length}};
  }
  out[0] = kind_byte;
  out[1] = static_cast<std::uint8_t>(length >> 8);
  out[2] = static_cast<std::uint8_t>(length & 0xff);
  return header_size;
}

expected<std::size_t, parse_error> append_frame(std::vector<std::uint8_t>& out, kind k,
                                                const std::uint8_t* payload, std::uint16_t length) {
  std::array<std::uint8_t, header_size> header{};
  if (auto written = write_header(header.data(), k, length); !written) return written;
  if (k == kind::dtmf && !is_dtmf_digit(static_cast<char>(payload[0]))) {
    return unexpected{parse_error{parse_error_code::bad_dtmf_digit, header[0], length}};
  }
  out.insert(out.end(), header.begin(), header.end());
  if (length != 0) out.insert(out.end(), payload, payload + length);
  return header_size + length;
}

std::array<std::uint8_t, header_size + uuid_size> uuid_frame(const call_id& id) {
  std::array<std::uint8_t, header_size + uuid_size> frame{static_cast<std::uint8_t>(kind::uuid), 0,
                                                          static_cast<std::uint8_t>(uuid_size)};
  std::copy(id.bytes.begin(), id.bytes.end(), frame.begin() + header_size);
  return frame;
}

std::array<std::uint8_t, header_size> hangup_frame() {
  return {static_cast<std::uint8_t>(kind::hangup), 0, 0};
}

expected<std::array<std::uint8_t, header_size + 1>, parse_error> dtmf_frame(char digit) {
  if (!is_dtmf_digit(digit)) {
    return unexpected{
        parse_error{parse_error_code::bad_dtmf_digit, static_cast<std::uint8_t>(kind::dtmf), 1}};
  }
  return std::array<std::uint8_t, header_size + 1>{static_cast<std::uint8_t>(kind::dtmf), 0, 1,
                                                   static_cast<std::uint8_t>(digit)};
}

}  // namespace cb::audiosocket
