#include "actors/bridge.hpp"

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <thread>

#include "actors/ami/ami_client.hpp"
#include "actors/audiosocket_connection.hpp"
#include "actors/call_registry.hpp"
#include "actors/control/control_api.hpp"
#include "actors/control/dashboard/dashboard_assets.hpp"
#include "actors/log.hpp"
#include "actors/metrics/exposition.hpp"
#include "actors/playout_clock.hpp"
#include "actors/port_allocator.hpp"
#include "actors/store/call_store.hpp"

namespace cb {

void tune_scheduler(caf::actor_system_config& config) {
  // One read per readiness event: an AudioSocket frame arrives every 20 ms, so a second read only
  // finds EAGAIN (epoll is level-triggered; data left over wakes the multiplexer again).
  config.set("middleman.max-consecutive-reads", 1);
  config.set("scheduler.max-threads",
             static_cast<std::size_t>(std::max(2U, std::thread::hardware_concurrency())));
  config.set("work-stealing.moderate-poll-attempts", 5);
  config.set("work-stealing.moderate-sleep-duration",
             caf::timespan{std::chrono::microseconds(500)});
}

bridge::bridge(caf::actor_system& system, std::shared_ptr<const settings> config,
               const ws_client_options& ws_options)
    : system_(system), config_(std::move(config)) {
  const auto threads = ws_thread_count(*config_);
  for (std::size_t i = 0; i < threads; ++i)
    ws_.push_back(std::make_shared<ws_client>(ws_options));
}

bridge::~bridge() {
  stop();
}

std::optional<std::string> bridge::start() {
  for (const auto& ws : ws_)
    ws->start();
  const auto& cfg = *config_;
  const bool pool =
      cfg.audiosocket_port_min != 0 && cfg.audiosocket_port_min <= cfg.audiosocket_port_max;
  ports_ =
      system_.spawn(port_allocator, pool ? cfg.audiosocket_port_min : std::uint16_t{0},
                    pool ? cfg.audiosocket_port_max : std::uint16_t{0}, cfg.prepared_call_timeout);
  ami_ = system_.spawn(ami_client, config_);
  if (!cfg.db_url.empty()) store_ = spawn_call_store(system_, config_);
  clock_ = system_.spawn(playout_clock, std::chrono::microseconds(1000));
  registry_ =
      system_.spawn(call_registry, config_, ws_, ports_, call_services{ami_, store_, {}, clock_});
  running_ = true;

  audiosocket::parser_options options;
  options.osdial_heartbeat = cfg.osdial_heartbeat;
  std::vector<std::uint16_t> wanted;
  if (cfg.audiosocket_port_enabled) wanted.push_back(cfg.audiosocket_port);
  if (pool) {
    for (std::uint32_t p = cfg.audiosocket_port_min; p <= cfg.audiosocket_port_max; ++p) {
      wanted.push_back(static_cast<std::uint16_t>(p));
    }
  }
  caf::scoped_actor self{system_};
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    listeners_.push_back(system_.middleman().spawn_broker(audiosocket_listener,
                                                          cfg.audiosocket_host, wanted[i],
                                                          registry_, options, caf::actor{self}));
    std::uint16_t bound = 0;
    self->receive([&](atom::connected, std::uint16_t, std::uint16_t actual) { bound = actual; },
                  caf::after(std::chrono::seconds(5)) >> [] {});
    if (bound == 0) {
      stop();
      return "cannot listen for AudioSocket on " + cfg.audiosocket_host + ":" +
             std::to_string(wanted[i]);
    }
    if (i == 0 && cfg.audiosocket_port_enabled) {
      shared_port_ = bound;
      self->send(registry_, atom::connected_v, bound);
    } else {
      pool_ports_.push_back(bound);
    }
  }
  log::info("bridge", "", "AudioSocket listening on {}:{}{}", cfg.audiosocket_host, shared_port_,
            pool_ports_.empty()
                ? std::string{}
                : fmt::format(", pool {}-{}", pool_ports_.front(), pool_ports_.back()));
  if (cfg.api_enabled) {
    control_api_handles handles;
    handles.registry = registry_;
    if (pool) handles.ports = ports_;
    if (!cfg.asterisk_host.empty()) handles.ami = ami_;
    handles.store = store_;
    handles.prometheus_text = [] { return metrics::render_prometheus(metrics::take_snapshot()); };
    handles.metrics_snapshot = [] { return metrics::render_json(metrics::take_snapshot()); };
    std::vector<std::uint16_t> listening = pool_ports_;
    if (cfg.audiosocket_port_enabled) listening.insert(listening.begin(), shared_port_);
    handles.audiosocket_ports = [listening] { return listening; };
    handles.assets = dashboard_assets();
    auto api = start_control_api(system_, config_, std::move(handles));
    if (!api) {
      stop();
      return "cannot start the control API: " + api.error();
    }
    api_ = caf::actor_cast<caf::actor>(api->actor);
    api_port_ = api->port;
    self->send(registry_, atom::subscribe_v, caf::actor_cast<call_update_sink_actor>(api->actor));
    log::info("bridge", "", "control API on {}://{}:{}", api->tls ? "https" : "http", cfg.api_bind,
              api_port_);
  }
  return std::nullopt;
}

void bridge::stop(std::chrono::milliseconds grace) {
  if (!running_) return;
  running_ = false;
  for (auto& listener : listeners_)
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  listeners_.clear();
  if (api_) {
    caf::anon_send_exit(api_, caf::exit_reason::user_shutdown);
    api_ = caf::actor{};
  }
  {
    // Ask for the live calls first so we know when they are gone.
    caf::scoped_actor self{system_};
    std::vector<call_summary> calls;
    self->request(registry_, std::chrono::seconds(2), atom::list_v)
        .receive([&](std::vector<call_summary>& xs) { calls = std::move(xs); }, [](caf::error&) {});
    self->send_exit(registry_, caf::exit_reason::user_shutdown);
    self->send_exit(ports_, caf::exit_reason::user_shutdown);
    if (!calls.empty()) {
      log::info("bridge", "", "ending {} live call(s)", calls.size());
      const auto deadline = std::chrono::steady_clock::now() + grace;
      // Calls go down asynchronously; each one's tree is 5 actors, 6 with an AMI watcher.
      const std::size_t per_call = config_->asterisk_host.empty() ? 5 : 6;
      const auto before = system_.registry().running();
      const auto tree = calls.size() * per_call;
      const auto expected_remaining = before > tree ? before - tree : 0;
      while (system_.registry().running() > expected_remaining &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    // Last: ending calls may still have hung their channels up through it and sent their records.
    self->send_exit(clock_, caf::exit_reason::user_shutdown);
    self->send_exit(ami_, caf::exit_reason::user_shutdown);
    if (store_) {
      // The store writes (or journals) what it holds before it goes.
      self->monitor(store_);
      self->send_exit(store_, caf::exit_reason::user_shutdown);
      self->receive([](const caf::down_msg&) {},
                    caf::after(std::chrono::seconds(10)) >>
                        [] { log::warn("bridge", "", "the call store did not stop within 10 s"); });
    }
  }
  // The first client did lws's OpenSSL global init and must go last (ws_client::start).
  for (auto it = ws_.rbegin(); it != ws_.rend(); ++it)
    (*it)->stop();
}

std::vector<ws_client::stats> bridge::ws_snapshots() const {
  std::vector<ws_client::stats> out;
  out.reserve(ws_.size());
  for (const auto& ws : ws_)
    out.push_back(ws->snapshot());
  return out;
}

}  // namespace cb
