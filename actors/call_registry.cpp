#include "actors/call_registry.hpp"

#include "actors/call.hpp"
#include "actors/log.hpp"
#include "protocol/audiosocket.hpp"

namespace cb {

namespace {

using registry_ptr = call_registry_actor::stateful_pointer<call_registry_state>;
constexpr const char* component = "registry";

call_context context_for(call_registry_state& st, const std::string& uuid, std::uint16_t port) {
  if (auto it = st.prepared.find(uuid); it != st.prepared.end()) {
    auto ctx = std::move(it->second);
    st.prepared.erase(it);
    return ctx;
  }
  for (const auto& binding : st.config->port_bindings) {
    if (binding.port == port) {
      call_context ctx;
      ctx.agent_id = binding.agent_id;
      ctx.dynamic_variables = binding.dynamic_variables;
      ctx.source = context_source::port_binding;
      return ctx;
    }
  }
  call_context ctx;
  ctx.agent_id = st.config->elevenlabs_agent_id;
  ctx.source = context_source::default_agent;
  return ctx;
}

std::string advertised_host(const settings& config) {
  if (!config.audiosocket_advertise_host.empty()) return config.audiosocket_advertise_host;
  if (config.audiosocket_host.empty() || config.audiosocket_host == "0.0.0.0" ||
      config.audiosocket_host == "::") {
    return "127.0.0.1";
  }
  return config.audiosocket_host;
}

void remember_prepared(registry_ptr self, const std::string& uuid, call_context context) {
  auto& st = self->state;
  st.prepared[uuid] = std::move(context);
  self->delayed_send(self, st.config->prepared_call_timeout, atom::expire_v, uuid);
}

}  // namespace

std::string random_uuid(std::mt19937_64& rng) {
  std::array<std::uint8_t, audiosocket::uuid_size> bytes{};
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    auto word = rng();
    for (std::size_t j = 0; j < 8; ++j)
      bytes[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return audiosocket::format_uuid(bytes);
}

call_registry_actor::behavior_type call_registry(
    call_registry_actor::stateful_pointer<call_registry_state> self,
    std::shared_ptr<const settings> config, std::shared_ptr<ws_client> ws,
    port_allocator_actor ports) {
  auto& st = self->state;
  st.config = std::move(config);
  st.ws = std::move(ws);
  st.ports = std::move(ports);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    auto it = s.uuid_of.find(dm.source);
    if (it == s.uuid_of.end()) return;
    auto entry = s.live.find(it->second);
    if (entry != s.live.end()) {
      if (entry->second.context.pool_port != 0) {
        self->send(s.ports, atom::release_v, entry->second.context.pool_port, it->second);
      }
      s.live.erase(entry);
    }
    s.uuid_of.erase(it);
  });
  // Shutdown: every live call ends with reason shutdown (hangup to Asterisk, 1000 to the agent).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [uuid, entry] : self->state.live) {
      self->send(entry.call, call_end{end_reason::shutdown, "callbridge is stopping"});
    }
    self->quit(msg.reason);
  });
  return {
      [self](atom::connected, const std::string& uuid, std::uint16_t port,
             const caf::actor& connection) -> caf::result<call_actor> {
        auto& s = self->state;
        if (s.live.count(uuid) != 0) {
          return make_error(bridge_errc::duplicate_call, "a call with id " + uuid + " is live");
        }
        auto context = context_for(s, uuid, port);
        if (context.agent_id.empty()) {
          log::warn(component, uuid,
                    "no agent for this call: set ELEVENLABS_AGENT_ID or prepare it");
          return make_error(bridge_errc::unknown_call, "no agent configured for this call");
        }
        auto call_handle =
            self->spawn<caf::monitored>(call, s.config, s.ws, uuid, context, port, connection);
        if (context.pool_port != 0) {
          self->send(s.ports, atom::claim_v, context.pool_port, uuid,
                     caf::actor_cast<caf::actor>(call_handle));
        }
        s.uuid_of[call_handle.address()] = uuid;
        s.live[uuid] = {call_handle, std::move(context), port};
        return call_handle;
      },
      [self](atom::prepare, call_context& context,
             bool want_pool_port) -> caf::result<prepared_call> {
        auto& s = self->state;
        if (context.agent_id.empty()) context.agent_id = s.config->elevenlabs_agent_id;
        context.source = context_source::prepared;
        const auto uuid = random_uuid(s.rng);
        const auto host = advertised_host(*s.config);
        if (!want_pool_port) {
          remember_prepared(self, uuid, std::move(context));
          return prepared_call{uuid, host, s.config->audiosocket_port};
        }
        auto promise = self->make_response_promise<prepared_call>();
        self->request(s.ports, std::chrono::seconds(5), atom::allocate_v, uuid)
            .then(
                [self, promise, uuid, host, context](std::uint16_t port) mutable {
                  auto ctx = context;
                  ctx.pool_port = port;
                  remember_prepared(self, uuid, std::move(ctx));
                  promise.deliver(prepared_call{uuid, host, port});
                },
                [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      },
      [self](atom::list) -> caf::result<std::vector<call_summary>> {
        auto& s = self->state;
        auto promise = self->make_response_promise<std::vector<call_summary>>();
        if (s.live.empty()) {
          promise.deliver(std::vector<call_summary>{});
          return promise;
        }
        struct gather {
          std::vector<call_summary> summaries;
          std::size_t pending = 0;
        };
        auto acc = std::make_shared<gather>();
        acc->pending = s.live.size();
        auto done = [acc, promise]() mutable {
          if (--acc->pending == 0) promise.deliver(std::move(acc->summaries));
        };
        for (auto& [uuid, entry] : s.live) {
          self->request(entry.call, std::chrono::seconds(1), atom::stats_v)
              .then(
                  [acc, done](call_summary& summary) mutable {
                    acc->summaries.push_back(std::move(summary));
                    done();
                  },
                  [done](caf::error&) mutable { done(); });
        }
        return promise;
      },
      [self](atom::expire, const std::string& uuid) {
        auto& s = self->state;
        auto it = s.prepared.find(uuid);
        if (it == s.prepared.end()) return;
        log::warn(component, uuid, "prepared call expired: Asterisk did not connect within {} ms",
                  s.config->prepared_call_timeout.count());
        s.prepared.erase(it);
      },
  };
}

}  // namespace cb
