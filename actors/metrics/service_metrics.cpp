#include "actors/metrics/service_metrics.hpp"

#include <string>

namespace cb::metrics {

service_metrics::service_metrics(registry& r)
    : ami_state_(r.gauges("callbridge_ami_link_state",
                          "1 for the AMI link's current state, 0 for states it was in before.",
                          {"state"})),
      ami_connects_(r.counters("callbridge_ami_connects_total", "Successful AMI logins.").with()),
      ami_failures_(r.counters("callbridge_ami_failures_total",
                               "Failed AMI connects or logins, and lost AMI links.")
                        .with()),
      el_open_(
          r.gauges("callbridge_elevenlabs_sessions_open", "Agent WebSocket sessions open.").with()),
      el_opened_(r.counters("callbridge_elevenlabs_sessions_opened_total",
                            "Agent WebSocket sessions opened.")
                     .with()),
      el_failed_(r.counters("callbridge_elevenlabs_session_failures_total",
                            "Agent WebSocket sessions that could not be opened.")
                     .with()),
      el_audio_dropped_(
          r.counters("callbridge_elevenlabs_audio_chunks_dropped_total",
                     "Caller audio chunks dropped unsent: they waited too long to be written.")
              .with()),
      pool_leased_(
          r.gauges("callbridge_port_pool_leased", "Legacy pool ports leased to calls.").with()),
      pool_size_(r.gauges("callbridge_port_pool_size", "Ports in the legacy pool.").with()),
      calls_live_(r.gauges("callbridge_calls_live", "Calls in progress.").with()),
      calls_started_(r.counters("callbridge_calls_total", "Calls started.").with()),
      calls_ended_(
          r.counters("callbridge_calls_ended_total", "Calls ended, by reason.", {"reason"})) {}

void service_metrics::ami_link_state(std::string_view state) {
  const std::lock_guard<std::mutex> lock(ami_mutex_);
  bool known = false;
  for (auto& [name, cell] : ami_states_) {
    const bool current = name == state;
    known = known || current;
    cell->set(current ? 1 : 0);
  }
  if (!known) {
    auto& cell = ami_state_.with({std::string(state)});
    cell.set(1);
    ami_states_.emplace_back(std::string(state), &cell);
  }
}

void service_metrics::call_ended(std::string_view reason) {
  calls_live_.add(-1);
  calls_ended_.with({std::string(reason)}).inc();
}

service_metrics& service_metrics::process() {
  static service_metrics instance(registry::process());
  return instance;
}

}  // namespace cb::metrics
