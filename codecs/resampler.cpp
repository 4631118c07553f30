#include "codecs/resampler.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <array>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

namespace cb::codecs {
namespace {

bool valid_rate(int rate) {
  return rate >= resampler::min_rate_hz && rate <= resampler::max_rate_hz;
}

bool valid_quality(int quality) {
  return quality >= SPEEX_RESAMPLER_QUALITY_MIN && quality <= SPEEX_RESAMPLER_QUALITY_MAX;
}

// speexdsp counts in 32 bits; longer inputs are fed in slices.
constexpr std::size_t max_slice = std::numeric_limits<spx_uint32_t>::max();

spx_uint32_t slice(std::size_t n) {
  return static_cast<spx_uint32_t>(std::min(n, max_slice));
}

}  // namespace

const char* to_string(resampler_error e) {
  switch (e) {
    case resampler_error::unsupported_rate:
      return "sample rate outside the supported range";
    case resampler_error::bad_quality:
      return "resampler quality outside 0..10";
    case resampler_error::out_of_memory:
      return "resampler could not allocate its filter";
  }
  return "unknown resampler error";
}

void resampler::state_deleter::operator()(SpeexResamplerState_* state) const {
  speex_resampler_destroy(state);
}

resampler::resampler(int in_rate, int out_rate, int quality, state_ptr state)
    : in_rate_(in_rate), out_rate_(out_rate), quality_(quality), state_(std::move(state)) {}

expected<resampler, resampler_error> resampler::create(int in_rate, int out_rate, int quality) {
  if (!valid_rate(in_rate) || !valid_rate(out_rate)) {
    return unexpected{resampler_error::unsupported_rate};
  }
  if (!valid_quality(quality)) return unexpected{resampler_error::bad_quality};
  if (in_rate == out_rate) return resampler(in_rate, out_rate, quality, nullptr);

  int err = RESAMPLER_ERR_SUCCESS;
  state_ptr state(speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                                       static_cast<spx_uint32_t>(out_rate), quality, &err));
  // Arguments were checked above, so the only way left to fail is allocation.
  if (!state || err != RESAMPLER_ERR_SUCCESS) return unexpected{resampler_error::out_of_memory};
  return resampler(in_rate, out_rate, quality, std::move(state));
}

resampler::resampler(int in_rate, int out_rate, int quality)
    : resampler([&] {
        auto created = create(in_rate, out_rate, quality);
        if (created) return std::move(created).value();
        if (created.error() == resampler_error::out_of_memory) throw std::bad_alloc();
        throw std::invalid_argument(to_string(created.error()));
      }()) {}

std::size_t resampler::process(const std::int16_t* in, std::size_t in_len, std::int16_t* out,
                               std::size_t out_capacity) {
  if (!state_) {
    const std::size_t n = std::min(in_len, out_capacity);
    std::copy_n(in, n, out);
    return n;
  }

  std::size_t written = 0;
  // speexdsp stops when the output is full; whatever input is left still has to advance the
  // filter, or the stream would slip. That output lands here and is dropped; left uninitialised
  // because it is only ever written.
  std::array<std::int16_t, 256> overflow;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  while (in_len > 0) {
    const bool has_room = written < out_capacity;
    std::int16_t* dst = has_room ? out + written : overflow.data();
    spx_uint32_t consumed = slice(in_len);
    spx_uint32_t produced = has_room ? slice(out_capacity - written) : overflow.size();
    speex_resampler_process_int(state_.get(), 0, in, &consumed, dst, &produced);
    if (has_room) written += produced;
    in += consumed;
    in_len -= consumed;
  }
  return written;
}

void resampler::reset() {
  if (state_) speex_resampler_reset_mem(state_.get());
}

int resampler::input_latency() const {
  return state_ ? speex_resampler_get_input_latency(state_.get()) : 0;
}

int resampler::output_latency() const {
  return state_ ? speex_resampler_get_output_latency(state_.get()) : 0;
}

}  // namespace cb::codecs
