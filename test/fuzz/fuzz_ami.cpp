// The parser must give the same banner, messages and error however TCP splits the stream, and
// stay within its bounds; no header it delivers may span a line.
//
// Input: a flags byte (bit 0: expect the banner; bit 1: small limits, to reach the bound checks),
// two bytes choosing the split points, then the stream.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ami.hpp"

namespace {

namespace ami = cb::ami;

struct run {
  std::vector<std::string> banners;
  std::vector<ami::message> messages;
  std::optional<ami::parse_error> error;
  bool mid_message = false;

  friend bool operator==(const run& a, const run& b) {
    return a.banners == b.banners && a.messages == b.messages && a.error == b.error &&
           a.mid_message == b.mid_message;
  }
};

run parse(std::string_view text, std::size_t first, std::size_t second,
          const ami::parser_options& options) {
  ami::parser p(options);
  run out;
  const std::size_t cuts[] = {0, first, second, text.size()};
  for (std::size_t i = 0; i + 1 < 4; ++i) {
    const auto result = p.feed(
        text.substr(cuts[i], cuts[i + 1] - cuts[i]),
        [&](std::string_view version) { out.banners.emplace_back(version); },
        [&](ami::message&& m) { out.messages.push_back(std::move(m)); });
    if (!result) {
      out.error = result.error();
      break;
    }
  }
  out.mid_message = p.mid_message();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  ami::parser_options options;
  options.expect_banner = (data[0] & 1) != 0;
  if ((data[0] & 2) != 0) {
    options.max_line = 64;
    options.max_headers = 8;
    options.max_message = 256;
  }
  const std::size_t split_seed = static_cast<std::size_t>(data[1]) << 8 | data[2];
  const std::string_view text(reinterpret_cast<const char*>(data) + 3, size - 3);

  const auto whole = parse(text, text.size(), text.size(), options);
  const std::size_t first = text.empty() ? 0 : split_seed % (text.size() + 1);
  const std::size_t second = first + (text.size() - first) / 2;
  if (!(parse(text, first, second, options) == whole)) __builtin_trap();

  if (whole.banners.size() > 1) __builtin_trap();
  for (const auto& m : whole.messages) {
    if (m.headers.empty() || m.headers.size() > options.max_headers) __builtin_trap();
    for (const auto& [key, value] : m.headers) {
      if (key.find('\n') != std::string::npos || value.find('\n') != std::string::npos) {
        __builtin_trap();
      }
      if (key.size() + value.size() > options.max_line) __builtin_trap();
    }
  }
  return 0;
}
