// Sample-rate conversion of 16-bit mono PCM over speexdsp, one instance per call and direction.
// speexdsp allocates its filter once, at construction; process() never allocates, so it can run on
// every 20 ms frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "codecs/expected.hpp"

struct SpeexResamplerState_;

namespace cb::codecs {

enum class resampler_error : std::uint8_t {
  unsupported_rate,  // outside [min_rate_hz, max_rate_hz]
  bad_quality,       // outside [0, 10]
  out_of_memory,     // speexdsp could not allocate its filter
};

const char* to_string(resampler_error e);

class resampler {
 public:
  static constexpr int min_rate_hz = 1000;
  static constexpr int max_rate_hz = 192000;
  // speexdsp quality 0..10. 5 is the lowest that keeps an 8k -> 16k -> 8k round trip above 60 dB
  // SNR for tones across 300-3400 Hz (67 dB worst, at 3.4 kHz; quality 4 manages 55 dB because its
  // passband ends too close to 3.4 kHz). Quality 6 buys 100+ dB, inaudible after G.711, for ~15%
  // more CPU. The filter has 80 taps at the lower rate of a pair and delays audio by 5 ms.
  static constexpr int default_quality = 5;

  // For rates that come from outside (an agent's announced format): reports bad arguments.
  [[nodiscard]] static expected<resampler, resampler_error> create(int in_rate, int out_rate,
                                                                   int quality = default_quality);

  // For rates the caller knows are valid. Throws std::invalid_argument if they are not, and
  // std::bad_alloc if speexdsp cannot allocate.
  resampler(int in_rate, int out_rate, int quality = default_quality);

  resampler(resampler&&) noexcept = default;
  resampler& operator=(resampler&&) noexcept = default;
  resampler(const resampler&) = delete;
  resampler& operator=(const resampler&) = delete;
  ~resampler() = default;

  // Upper bound on the samples process() writes for in_len input samples, whatever the filter's
  // phase; size output buffers with it.
  [[nodiscard]] static constexpr std::size_t max_output(std::size_t in_len, int in_rate,
                                                        int out_rate) {
    const auto in = static_cast<std::size_t>(in_rate);
    const auto out = static_cast<std::size_t>(out_rate);
    return (in_len * out + in - 1) / in + 1;
  }
  [[nodiscard]] std::size_t max_output(std::size_t in_len) const {
    return max_output(in_len, in_rate_, out_rate_);
  }

  // Consumes all in_len samples and returns how many were written to out. Any length works,
  // including frames that do not map to a whole number of output samples; the fractional
  // position carries over to the next call, so splitting a stream into chunks does not change
  // the output. out_capacity must be at least max_output(in_len): output beyond it is dropped
  // (the stream stays in step). in and out must not overlap.
  std::size_t process(const std::int16_t* in, std::size_t in_len, std::int16_t* out,
                      std::size_t out_capacity);

  // Forgets the signal history (after a barge-in the next audio is unrelated to the last).
  void reset();

  [[nodiscard]] int in_rate() const { return in_rate_; }
  [[nodiscard]] int out_rate() const { return out_rate_; }
  [[nodiscard]] int quality() const { return quality_; }
  // The filter's delay, in input and in output samples (0 when the rates are equal).
  [[nodiscard]] int input_latency() const;
  [[nodiscard]] int output_latency() const;

 private:
  struct state_deleter {
    void operator()(SpeexResamplerState_* state) const;
  };
  using state_ptr = std::unique_ptr<SpeexResamplerState_, state_deleter>;

  resampler(int in_rate, int out_rate, int quality, state_ptr state);

  int in_rate_;
  int out_rate_;
  int quality_;
  state_ptr state_;  // null when the rates are equal: process() copies
};

}  // namespace cb::codecs
