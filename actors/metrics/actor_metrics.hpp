// Per actor kind metrics without touching a single message handler. CAF 0.17's scheduled_actor
// runs every mailbox element through the virtual consume(); instrumented_actor<Base> overrides it
// to count and time the message and, every depth_sample_period messages, to sample the mailbox
// depth; initialize() and on_cleanup() count spawns and stops. The kind is the actor's name(),
// which for a stateful actor is its state's `static inline const char* name`.
//
// Converting an actor is a change of its self pointer's type, nothing else:
//
//   playout_actor::behavior_type playout(playout_actor::stateful_pointer<playout_state> self, ...)
// becomes
//   playout_actor::behavior_type playout(metrics::instrumented_pointer<playout_actor,
//   playout_state>
//                                        self, ...)
//
// in the declaration, the definition and any helper taking that pointer. CAF infers the actor
// class from that parameter, so system.spawn(playout, ...) and self->spawn<caf::linked>(playout,
// ...) are unchanged, as is everything self offers (state, send, delayed_send, request().then,
// make_response_promise, set_exit_handler, ...). Dynamically typed actors use
// instrumented_pointer<caf::actor, State> with a caf::behavior result.
#pragma once

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/metrics/cycle_clock.hpp"
#include "actors/metrics/registry.hpp"

namespace cb::metrics {

// The cells of one actor kind, in the process registry (see docs/metrics.md for the families).
class actor_kind_metrics {
 public:
  actor_kind_metrics(registry& r, const std::string& kind);

  void spawned() noexcept {
    spawned_.inc();
    live_.add(1);
  }
  void stopped() noexcept {
    stopped_.inc();
    live_.add(-1);
  }
  void restarted() noexcept { restarts_.inc(); }
  // One message consumed; the messages counter is this histogram's count.
  void handled(std::uint64_t handler_ns) noexcept { handler_.record(handler_ns); }
  void mailbox_depth(std::uint64_t depth) noexcept { depth_.record(depth); }

  [[nodiscard]] const std::string& kind() const noexcept { return kind_; }

 private:
  std::string kind_;
  gauge& live_;
  striped_counter& spawned_;
  striped_counter& stopped_;
  striped_counter& restarts_;
  striped_histogram& handler_;
  striped_histogram& depth_;
};

namespace actor_metrics {

// Messages between two mailbox depth samples of one actor.
inline constexpr std::uint32_t depth_sample_period = 16;

// The kind's cells in registry::process(), registered the first time the kind is named (that
// once, it locks and allocates; later lookups lock only). Cells live as long as the process.
actor_kind_metrics& kind(std::string_view name);

// A supervisor re-spawned an actor of this kind after a failure.
void restarted(std::string_view kind);

}  // namespace actor_metrics

template <class Base>
class instrumented_actor : public Base {
 public:
  explicit instrumented_actor(caf::actor_config& cfg) : Base(cfg) {}

  void initialize() override {
    metrics_ = &actor_metrics::kind(this->name());
    metrics_->spawned();
    Base::initialize();
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    const auto start = cycle_clock::now();
    const auto result = Base::consume(x);
    // Skipped messages stay in the mailbox and come back; dropped ones ran no handler.
    if (result == caf::invoke_message_result::consumed && metrics_ != nullptr) {
      metrics_->handled(cycle_clock::elapsed_ns(start, cycle_clock::now()));
      if (++since_depth_sample_ == actor_metrics::depth_sample_period) {
        since_depth_sample_ = 0;
        // What the mailbox fetched and this actor has not consumed yet; only the owner may read
        // it, which consume() is.
        metrics_->mailbox_depth(this->mailbox().queue().total_task_size());
      }
    }
    return result;
  }

 protected:
  void on_cleanup(const caf::error& reason) override {
    if (metrics_ != nullptr) metrics_->stopped();
    Base::on_cleanup(reason);
  }

 private:
  actor_kind_metrics* metrics_ = nullptr;  // set once initialized
  std::uint32_t since_depth_sample_ = 0;
};

namespace detail {

template <class Handle>
struct event_based_base {
  using type = typename Handle::base;  // typed_event_based_actor<Sigs...>
};

template <>
struct event_based_base<caf::actor> {
  using type = caf::event_based_actor;
};

}  // namespace detail

// The self pointer of an instrumented stateful actor with handle type Handle (a caf::typed_actor
// or caf::actor): the drop-in replacement for Handle::stateful_pointer<State>.
template <class Handle, class State>
using instrumented_pointer =
    caf::stateful_actor<State,
                        instrumented_actor<typename detail::event_based_base<Handle>::type>>*;

}  // namespace cb::metrics
