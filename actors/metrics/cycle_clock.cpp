#include "actors/metrics/cycle_clock.hpp"

#include <thread>

namespace cb::metrics::cycle_clock {

namespace {

#if defined(__x86_64__)
struct clock_pair {
  std::uint64_t ticks;
  std::chrono::steady_clock::time_point time;
};

// A TSC reading and a steady_clock reading taken together; a preemption between them would skew
// the calibration, so a pair whose bracketing TSC readings lie far apart is taken again.
clock_pair read_pair() {
  constexpr std::uint64_t max_bracket_ticks = 20000;
  clock_pair pair{};
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto before = __rdtsc();
    pair.time = std::chrono::steady_clock::now();
    const auto after = __rdtsc();
    pair.ticks = before + (after - before) / 2;
    if (after - before < max_bracket_ticks) break;
  }
  return pair;
}
#endif

double calibrate() {
#if defined(__x86_64__)
  // 1 ms against two ~30 ns readings: an error near 5e-5, once per process.
  const auto start = read_pair();
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto end = read_pair();
  const auto ns = std::chrono::duration<double, std::nano>(end.time - start.time).count();
  const auto ticks = static_cast<double>(end.ticks - start.ticks);
  return ticks > 0 ? ns / ticks : 1.0;
#else
  return 1.0;
#endif
}

}  // namespace

const double detail::ns_per_tick = calibrate();

}  // namespace cb::metrics::cycle_clock
