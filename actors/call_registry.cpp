#include "actors/call_registry.hpp"

#include "actors/call.hpp"
#include "actors/log.hpp"
#include "protocol/audiosocket.hpp"
#include "protocol/dialplan_template.hpp"

#include <functional>

namespace cb {

namespace {

using registry_ptr = metrics::instrumented_pointer<call_registry_actor, call_registry_state>;
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

using prepared_callback = std::function<void(expected<prepared_call, caf::error>)>;

// Registers the context under a new UUID (with a pool port when asked) and says where Asterisk
// must connect.
void prepare(registry_ptr self, call_context context, bool want_pool_port, prepared_callback done) {
  auto& s = self->state;
  if (context.agent_id.empty()) context.agent_id = s.config->elevenlabs_agent_id;
  if (context.agent_id.empty()) {
    done(unexpected{make_error(bridge_errc::bad_request,
                               "no agent id given and no ELEVENLABS_AGENT_ID configured")});
    return;
  }
  context.source = context_source::prepared;
  const auto uuid = random_uuid(s.rng);
  const auto host = advertised_host(*s.config);
  if (!want_pool_port) {
    if (!s.config->audiosocket_port_enabled) {
      done(unexpected{make_error(bridge_errc::bad_request,
                                 "the shared AudioSocket port is off: ask for a pool port")});
      return;
    }
    remember_prepared(self, uuid, std::move(context));
    done(prepared_call{uuid, host, s.shared_port});
    return;
  }
  self->request(s.ports, std::chrono::seconds(5), atom::allocate_v, uuid)
      .then(
          [self, done, uuid, host, context](std::uint16_t port) mutable {
            context.pool_port = port;
            remember_prepared(self, uuid, std::move(context));
            done(prepared_call{uuid, host, port});
          },
          [done](caf::error& err) { done(unexpected{std::move(err)}); });
}

// A prepared call Asterisk will never connect (the Originate or Redirect failed): forget it now
// and give its port back.
void forget_prepared(registry_ptr self, const prepared_call& call) {
  auto& s = self->state;
  auto it = s.prepared.find(call.uuid);
  if (it == s.prepared.end()) return;
  if (it->second.pool_port != 0)
    self->send(s.ports, atom::release_v, it->second.pool_port, call.uuid);
  s.prepared.erase(it);
}

template <class T>
void deliver(caf::typed_response_promise<T>& promise, expected<T, caf::error>& result) {
  if (result) {
    promise.deliver(std::move(*result));
  } else {
    promise.deliver(std::move(result.error()));
  }
}

std::string originate_reason_text(std::string_view reason) {
  // Asterisk's originate reasons (include/asterisk/frame.h, AST_CONTROL_*).
  if (reason == "0") return "no such channel or it failed";
  if (reason == "1") return "hung up";
  if (reason == "3") return "no answer";
  if (reason == "5") return "busy";
  if (reason == "8") return "congestion";
  return "reason " + std::string(reason);
}

void originate(registry_ptr self, originate_request& request,
               caf::typed_response_promise<prepared_call> promise) {
  auto& s = self->state;
  if (!s.services.ami || s.config->asterisk_host.empty()) {
    promise.deliver(make_error(bridge_errc::ami_disabled));
    return;
  }
  std::string channel = request.channel;
  if (channel.empty()) {
    auto filled = dialplan::fill(s.config->originate_channel,
                                 [&request](std::string_view name) -> std::optional<std::string> {
                                   if (name == "number" && !request.number.empty())
                                     return request.number;
                                   return std::nullopt;
                                 });
    if (!filled) {
      promise.deliver(
          make_error(bridge_errc::bad_request, "number: " + dialplan::to_string(filled.error())));
      return;
    }
    channel = std::move(*filled);
  }
  auto caller_id = request.caller_id.empty() ? s.config->originate_caller_id : request.caller_id;
  prepare(
      self, std::move(request.context), request.want_pool_port,
      [self, promise, channel, caller_id](expected<prepared_call, caf::error> prepared) mutable {
        if (!prepared) {
          deliver(promise, prepared);
          return;
        }
        auto& st = self->state;
        ami::originate_fields fields;
        fields.channel = channel;
        fields.target = ami::dialplan_target{st.config->ai_context, st.config->ai_exten, "1"};
        fields.timeout = st.config->originate_timeout;
        fields.caller_id = caller_id;
        fields.variables = audiosocket_variables(*st.config, *prepared);
        fields.async = true;
        const auto call = *prepared;
        log::info(component, call.uuid, "originating {} into {},{}", channel, st.config->ai_context,
                  st.config->ai_exten);
        // The answer comes with OriginateResponse: after the callee answered or not.
        self->request(st.services.ami,
                      st.config->originate_timeout + st.config->ami_action_timeout * 2,
                      ami_request{ami::originate(fields), "OriginateResponse",
                                  st.config->originate_timeout + st.config->ami_action_timeout})
            .then(
                [self, promise, call](const ami_result& result) mutable {
                  const auto* event = result.events.empty() ? nullptr : &result.events.back();
                  const auto response = event ? event->get("Response") : std::nullopt;
                  if (response && ami::iequals(*response, "Success")) {
                    promise.deliver(call);
                    return;
                  }
                  const auto reason = event ? event->get("Reason") : std::nullopt;
                  const auto text = originate_reason_text(reason.value_or("?"));
                  log::warn(component, call.uuid, "originate failed: {}", text);
                  forget_prepared(self, call);
                  promise.deliver(
                      make_error(bridge_errc::ami_action_failed, "originate failed: " + text));
                },
                [self, promise, call](caf::error& error) mutable {
                  log::warn(component, call.uuid, "originate failed: {}", describe(error));
                  forget_prepared(self, call);
                  promise.deliver(std::move(error));
                });
      });
}

// Hands a live channel to the AI: its variables say where to connect, then a Redirect into the
// AI context (shared/protocols/ami.md: Setvar, Redirect).
void redirect_into_ai(registry_ptr self, const std::string& channel, call_context context,
                      caf::typed_response_promise<prepared_call> promise) {
  auto& s = self->state;
  if (!s.services.ami || s.config->asterisk_host.empty()) {
    promise.deliver(make_error(bridge_errc::ami_disabled));
    return;
  }
  const bool want_pool = !s.config->audiosocket_port_enabled;
  prepare(self, std::move(context), want_pool,
          [self, promise, channel](expected<prepared_call, caf::error> prepared) mutable {
            if (!prepared) {
              deliver(promise, prepared);
              return;
            }
            auto& st = self->state;
            const auto call = *prepared;
            const auto timeout = st.config->ami_action_timeout;
            std::vector<ami::action> actions;
            for (const auto& [name, value] : audiosocket_variables(*st.config, call)) {
              actions.push_back(ami::setvar(channel, name, value));
            }
            ami::redirect_fields fields;
            fields.channel = channel;
            fields.context = st.config->ai_context;
            fields.exten = st.config->ai_exten;
            actions.push_back(ami::redirect(fields));
            // One after the other: the Redirect must not overtake the variables.
            auto run = std::make_shared<std::function<void(std::size_t)>>();
            *run = [self, promise, call, actions, timeout, run](std::size_t i) mutable {
              if (i == actions.size()) {
                log::info(component, call.uuid, "channel redirected into the AI");
                promise.deliver(call);
                *run = nullptr;  // break the cycle
                return;
              }
              self->request(self->state.services.ami, timeout * 2,
                            ami_request{actions[i], {}, timeout})
                  .then([run, i](const ami_result&) { (*run)(i + 1); },
                        [self, promise, call, run](caf::error& error) mutable {
                          log::warn(component, call.uuid, "redirect into the AI failed: {}",
                                    describe(error));
                          forget_prepared(self, call);
                          promise.deliver(std::move(error));
                          *run = nullptr;
                        });
            };
            (*run)(0);
          });
}

}  // namespace

std::vector<std::pair<std::string, std::string>> audiosocket_variables(const settings& config,
                                                                       const prepared_call& call) {
  const auto address = call.host.find(':') != std::string::npos
                           ? "[" + call.host + "]:" + std::to_string(call.port)
                           : call.host + ":" + std::to_string(call.port);
  return {{config.ami_uuid_variable, call.uuid},
          {"AUDIOSOCKET_ADDRESS", address},
          {"AUDIOSOCKET_HOST", call.host},
          {"AUDIOSOCKET_PORT", std::to_string(call.port)}};
}

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

call_registry_actor::behavior_type call_registry(registry_ptr self,
                                                 std::shared_ptr<const settings> config,
                                                 std::vector<std::shared_ptr<ws_client>> ws,
                                                 port_allocator_actor ports,
                                                 call_services services) {
  auto& st = self->state;
  st.services = std::move(services);
  st.config = std::move(config);
  st.shared_port = st.config->audiosocket_port;
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
             const caf::actor& connection,
             const audiosocket_writer_ptr& writer) -> caf::result<call_actor> {
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
        const auto& agent_ws = s.ws[s.next_ws++ % s.ws.size()];
        auto call_handle = self->spawn<caf::monitored>(call, s.config, agent_ws, uuid, context,
                                                       port, connection, writer, s.services);
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
        auto promise = self->make_response_promise<prepared_call>();
        prepare(self, std::move(context), want_pool_port,
                [promise](expected<prepared_call, caf::error> result) mutable {
                  deliver(promise, result);
                });
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
      [self](atom::list, const std::string& uuid) -> caf::result<call_detail> {
        auto& s = self->state;
        auto it = s.live.find(uuid);
        if (it == s.live.end()) return make_error(bridge_errc::unknown_call, uuid);
        return self->delegate(it->second.call, atom::stats_v, atom::list_v);
      },
      [self](atom::end, const std::string& uuid) -> caf::result<bool> {
        auto& s = self->state;
        auto it = s.live.find(uuid);
        if (it == s.live.end()) return make_error(bridge_errc::unknown_call, uuid);
        self->send(it->second.call, call_end{end_reason::operator_ended, "ended by an operator"});
        return true;
      },
      [self](atom::say, const std::string& uuid, std::string& kind,
             std::string& text) -> caf::result<bool> {
        auto& s = self->state;
        auto it = s.live.find(uuid);
        if (it == s.live.end()) return make_error(bridge_errc::unknown_call, uuid);
        if (kind != "user_message" && kind != "contextual_update") {
          return make_error(bridge_errc::bad_request,
                            "kind must be user_message or contextual_update");
        }
        if (text.empty()) return make_error(bridge_errc::bad_request, "text is empty");
        self->send(it->second.call, atom::say_v, std::move(kind), std::move(text));
        return true;
      },
      [self](atom::transfer, const std::string& uuid,
             transfer_request& request) -> caf::result<std::string> {
        auto& s = self->state;
        auto it = s.live.find(uuid);
        if (it == s.live.end()) return make_error(bridge_errc::unknown_call, uuid);
        return self->delegate(it->second.call, atom::transfer_v, std::move(request));
      },
      [self](atom::originate, originate_request& request) -> caf::result<prepared_call> {
        auto promise = self->make_response_promise<prepared_call>();
        originate(self, request, promise);
        return promise;
      },
      [self](atom::redirect, const std::string& channel,
             call_context& context) -> caf::result<prepared_call> {
        auto promise = self->make_response_promise<prepared_call>();
        redirect_into_ai(self, channel, std::move(context), promise);
        return promise;
      },
      [self](atom::connected, std::uint16_t port) { self->state.shared_port = port; },
      [self](atom::subscribe, call_update_sink_actor& sink) {
        self->state.services.sink = std::move(sink);
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
