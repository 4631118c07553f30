// The clock that times message handlers: read twice per message on every actor, so its cost
// counts. On x86-64 it is the time-stamp counter (rdtsc, about 10 ns on the reference VM against
// about 22 ns for clock_gettime(CLOCK_MONOTONIC) through the vDSO), calibrated against
// steady_clock once at start-up; the TSC is invariant on every x86-64 server CPU of the last decade
// (constant_tsc, nonstop_tsc). Elsewhere it is steady_clock itself.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace cb::metrics::cycle_clock {

// An opaque tick count: only differences mean anything, through to_ns.
[[nodiscard]] inline std::uint64_t now() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
#endif
}

namespace detail {
// Nanoseconds per tick, measured before main() runs.
extern const double ns_per_tick;
}  // namespace detail

// Ticks between two now() readings as nanoseconds; 0 if `end` precedes `start`.
[[nodiscard]] inline std::uint64_t elapsed_ns(std::uint64_t start, std::uint64_t end) noexcept {
  if (end <= start) return 0;
  return static_cast<std::uint64_t>(static_cast<double>(end - start) * detail::ns_per_tick);
}

}  // namespace cb::metrics::cycle_clock
