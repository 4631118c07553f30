// The parser must give the same frames however TCP splits the stream, and what it accepts must
// re-serialize to exactly the bytes it consumed: nothing is invented, dropped or read out of
// bounds.
//
// Input: a flags byte (bit 0: OSdial heartbeat; bits 1-7, when non-zero: max_payload in units of
// 64 bytes, to reach the oversize check), two bytes choosing the split points, then the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/audiosocket.hpp"

namespace {

namespace as = cb::audiosocket;

struct frame_record {
  as::kind k;
  bool heartbeat;
  std::vector<std::uint8_t> payload;

  friend bool operator==(const frame_record& a, const frame_record& b) {
    return a.k == b.k && a.heartbeat == b.heartbeat && a.payload == b.payload;
  }
};

struct run {
  std::vector<frame_record> frames;
  std::optional<as::parse_error> error;
  bool mid_frame = false;

  friend bool operator==(const run& a, const run& b) {
    return a.frames == b.frames && a.error == b.error && a.mid_frame == b.mid_frame;
  }
};

run parse(const std::uint8_t* data, std::size_t size, std::size_t first, std::size_t second,
          const as::parser_options& options) {
  as::parser p(options);
  run out;
  const auto record = [&](const as::frame_view& f) {
    if (f.length != 0 && f.payload == nullptr) __builtin_trap();
    out.frames.push_back({f.k, f.heartbeat, {f.payload, f.payload + f.length}});
  };
  const std::size_t cuts[] = {0, first, second, size};
  for (std::size_t i = 0; i + 1 < 4; ++i) {
    const auto result = p.feed(data + cuts[i], cuts[i + 1] - cuts[i], record);
    if (!result) {
      out.error = result.error();
      break;
    }
  }
  out.mid_frame = p.mid_frame();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  as::parser_options options;
  options.osdial_heartbeat = (data[0] & 1) != 0;
  if ((data[0] >> 1) != 0) options.max_payload = static_cast<std::size_t>(data[0] >> 1) * 64;
  const std::size_t split_seed = static_cast<std::size_t>(data[1]) << 8 | data[2];
  data += 3;
  size -= 3;

  const auto whole = parse(data, size, size, size, options);
  const std::size_t first = size == 0 ? 0 : split_seed % (size + 1);
  const std::size_t second = first + (size - first) / 2;
  if (!(parse(data, size, first, second, options) == whole)) __builtin_trap();

  std::vector<std::uint8_t> rebuilt;
  for (const auto& f : whole.frames) {
    if (f.payload.size() > options.max_payload) __builtin_trap();
    if (f.heartbeat) {
      if (!options.osdial_heartbeat || f.k != as::kind::slin_12k || !f.payload.empty()) {
        __builtin_trap();
      }
      rebuilt.insert(rebuilt.end(), {0x11, 0x00, 0x10});
      continue;
    }
    const auto appended = as::append_frame(rebuilt, f.k, f.payload.data(),
                                           static_cast<std::uint16_t>(f.payload.size()));
    if (!appended) __builtin_trap();
  }
  if (rebuilt.size() > size || !std::equal(rebuilt.begin(), rebuilt.end(), data)) __builtin_trap();
  if (!whole.error && !whole.mid_frame && rebuilt.size() != size) __builtin_trap();
  return 0;
}
