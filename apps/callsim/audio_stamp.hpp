// Latency probes carried inside the audio itself. A sender overwrites the first samples of a frame
// with a stamp holding its CLOCK_MONOTONIC send time; a receiver on the same host (the clock is
// system-wide) subtracts it from the arrival time. The call simulator stamps what it sends (the
// fake agent measures the bridge's uplink delay) and reads stamps in what it hears (the downlink
// delay, agent to caller).
//
// Layout, in 16-bit samples (on the wire each is little-endian, like all AudioSocket and agent
// PCM):
//   sample 0     magic (0x7e5a, +32346: near full scale, so test tones at sane levels never
//                start a frame with it)
//   samples 1-4  the send time in ns, 16 bits per sample, least significant first
// A stamp survives only a bit-exact path: same sample rate, linear PCM, no gain or mixing.
// Resampling or G.711 destroys it, and receivers then simply find no stamps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace cb::callsim::stamp {

inline constexpr std::uint16_t magic = 0x7e5a;
inline constexpr std::size_t samples = 5;
inline constexpr std::size_t bytes = samples * 2;

// out must hold at least `samples` samples. A negative time is not a valid stamp; it is written
// anyway and read() refuses it.
constexpr void write(std::int16_t* out, std::int64_t monotonic_ns) {
  const auto t = static_cast<std::uint64_t>(monotonic_ns);
  out[0] = static_cast<std::int16_t>(magic);
  for (std::size_t i = 0; i < 4; ++i) {
    out[1 + i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(t >> (16 * i)));
  }
}

// The send time in a frame of n samples, or nullopt when the frame carries no stamp.
constexpr std::optional<std::int64_t> read(const std::int16_t* in, std::size_t n) {
  if (n < samples || static_cast<std::uint16_t>(in[0]) != magic) return std::nullopt;
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    t |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(in[1 + i])) << (16 * i);
  }
  if (t >> 63 != 0) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

// The same on s16le payload bytes; out must hold at least `bytes` bytes.
constexpr void write_s16le(std::uint8_t* out, std::int64_t monotonic_ns) {
  std::int16_t words[samples]{};
  write(words, monotonic_ns);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto word = static_cast<std::uint16_t>(words[i]);
    out[2 * i] = static_cast<std::uint8_t>(word & 0xff);
    out[2 * i + 1] = static_cast<std::uint8_t>(word >> 8);
  }
}

constexpr std::optional<std::int64_t> read_s16le(const std::uint8_t* in, std::size_t n_bytes) {
  if (n_bytes < bytes) return std::nullopt;
  std::int16_t words[samples]{};
  for (std::size_t i = 0; i < samples; ++i) {
    words[i] =
        static_cast<std::int16_t>(static_cast<std::uint16_t>(in[2 * i] | (in[2 * i + 1] << 8)));
  }
  return read(words, samples);
}

}  // namespace cb::callsim::stamp
