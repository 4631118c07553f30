#include "actors/metrics/actor_metrics.hpp"

#include <memory>
#include <mutex>
#include <vector>

namespace cb::metrics {

actor_kind_metrics::actor_kind_metrics(registry& r, const std::string& kind)
    : kind_(kind),
      live_(r.gauges("callbridge_actors_live", "Actors of this kind alive now.", {"kind"})
                .with({kind})),
      spawned_(r.counters("callbridge_actors_spawned_total",
                          "Actors of this kind started (initialized).", {"kind"})
                   .with({kind})),
      stopped_(r.counters("callbridge_actors_stopped_total",
                          "Actors of this kind terminated, normally or not.", {"kind"})
                   .with({kind})),
      restarts_(r.counters("callbridge_actor_restarts_total",
                           "Actors of this kind re-spawned by their supervisor after a failure.",
                           {"kind"})
                    .with({kind})),
      handler_(r.histograms("callbridge_actor_handler_seconds",
                            "Time to consume one message (CAF dispatch plus the handler).",
                            buckets::handler_ns, {"kind"})
                   .with({kind})),
      depth_(r.histograms("callbridge_actor_mailbox_depth",
                          "Messages waiting in an actor's mailbox, sampled every " +
                              std::to_string(actor_metrics::depth_sample_period) + "th message.",
                          buckets::mailbox_depth, {"kind"})
                 .with({kind})) {
  const striped_histogram* handler = &handler_;
  r.counters("callbridge_actor_messages_total", "Messages consumed by actors of this kind.",
             {"kind"})
      .computed({kind}, [handler] { return static_cast<double>(handler->read().count()); });
}

namespace actor_metrics {

namespace {

struct kind_table {
  std::mutex mutex;
  std::vector<std::unique_ptr<actor_kind_metrics>> kinds;
};

kind_table& table() {
  static kind_table instance;
  return instance;
}

}  // namespace

actor_kind_metrics& kind(std::string_view name) {
  auto& t = table();
  const std::lock_guard<std::mutex> lock(t.mutex);
  for (const auto& k : t.kinds) {
    if (k->kind() == name) return *k;
  }
  t.kinds.push_back(std::make_unique<actor_kind_metrics>(registry::process(), std::string(name)));
  return *t.kinds.back();
}

void restarted(std::string_view kind_name) {
  kind(kind_name).restarted();
}

}  // namespace actor_metrics

}  // namespace cb::metrics
