#include "actors/ami_watcher.hpp"

#include "actors/log.hpp"
#include "protocol/dialplan_template.hpp"

namespace cb {

namespace {

using watcher_ptr = metrics::instrumented_pointer<ami_watcher_actor, ami_watcher_state>;
constexpr const char* component = "ami_watcher";
constexpr int normal_clearing = 16;

ami_request make_request(const watcher_ptr& self, ami::action action,
                         std::string completion_event = {}) {
  return ami_request{std::move(action), std::move(completion_event),
                     self->state.config->ami_action_timeout};
}

// Tells the call (and through it the agent session) what is known, once.
void report(watcher_ptr self) {
  auto& st = self->state;
  if (st.reported) return;
  st.reported = true;
  self->send(st.call, st.link);
}

std::string scalar_text(const elevenlabs::json_scalar& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* boolean = std::get_if<bool>(&value)) return *boolean ? "true" : "false";
  return fmt::format("{}", std::get<double>(value));
}

void on_linked(watcher_ptr self, ami_channel channel) {
  auto& st = self->state;
  if (st.channel) return;  // the first link holds; a later rename does not move the call
  log::info(component, st.uuid, "linked to Asterisk channel {} (uniqueid {}, caller {})",
            channel.name, channel.uniqueid, channel.caller_id_num);
  st.link.linked = true;
  st.link.channel = channel.name;
  st.link.caller_id = channel.caller_id_num;
  st.link.called_number = channel.exten;
  for (auto& [name, value] : channel_identity_variables(*st.config, channel)) {
    st.link.variables.emplace(name, std::move(value));
  }
  st.channel = std::move(channel);
  const auto& wanted = st.config->ami_channel_variables;
  if (wanted.empty()) {
    report(self);
    return;
  }
  st.pending_variables = wanted.size();
  for (const auto& [asterisk_name, dynamic_name] : wanted) {
    self->request(st.ami, st.config->ami_action_timeout * 2,
                  make_request(self, ami::getvar(st.channel->name, asterisk_name)))
        .then(
            [self, dynamic_name = dynamic_name](const ami_result& result) {
              auto& s = self->state;
              const auto value = result.response.get("Value");
              if (value && !value->empty()) {
                s.link.variables.insert_or_assign(dynamic_name, std::string(*value));
              }
              if (--s.pending_variables == 0) report(self);
            },
            [self, asterisk_name = asterisk_name](const caf::error& error) {
              auto& s = self->state;
              log::warn(component, s.uuid, "cannot read channel variable {}: {}", asterisk_name,
                        describe(error));
              if (--s.pending_variables == 0) report(self);
            });
  }
}

}  // namespace

elevenlabs::dynamic_variable_map channel_identity_variables(const settings& config,
                                                            const ami_channel& channel) {
  elevenlabs::dynamic_variable_map out;
  if (!config.ami_caller_id_variable.empty() && !channel.caller_id_num.empty()) {
    out.emplace(config.ami_caller_id_variable, channel.caller_id_num);
  }
  if (!config.ami_called_number_variable.empty() && !channel.exten.empty() &&
      channel.exten != "s") {
    out.emplace(config.ami_called_number_variable, channel.exten);
  }
  return out;
}

ami_watcher_actor::behavior_type ami_watcher(watcher_ptr self,
                                             std::shared_ptr<const settings> config,
                                             std::string uuid, call_actor call,
                                             ami_client_actor ami) {
  auto& st = self->state;
  st.config = std::move(config);
  st.uuid = std::move(uuid);
  st.call = std::move(call);
  st.ami = std::move(ami);
  self->send(st.ami, atom::watch_v, st.uuid, caf::actor_cast<ami_subscriber_actor>(self));
  // With the link down nobody will tell us about the channel soon: start the agent at once.
  self->request(st.ami, st.config->ami_action_timeout, atom::status_v)
      .then(
          [self](const ami_status& status) {
            if (status.state != ami_link_state::connected) report(self);
          },
          [self](const caf::error&) { report(self); });
  self->delayed_send(self, st.config->ami_variables_wait, atom::timeout_v);
  return {
      [self](ami_channel_linked& linked) { on_linked(self, std::move(linked.channel)); },
      [](const ami_channel_event&) {},
      [self](const ami_channel_gone& gone) {
        auto& s = self->state;
        if (s.gone) return;
        s.gone = true;
        report(self);
        self->send(s.call, call_end{end_reason::caller_hung_up,
                                    fmt::format("Asterisk channel {} hung up (cause {} {})",
                                                s.channel ? s.channel->name : std::string("?"),
                                                gone.cause, gone.cause_text)});
      },
      [self](atom::timeout) {
        auto& s = self->state;
        if (!s.reported) {
          log::info(component, s.uuid,
                    s.channel ? "channel variables not read within {} ms; starting without them"
                              : "no Asterisk channel linked within {} ms; starting without it",
                    s.config->ami_variables_wait.count());
        }
        report(self);
      },
      // The call is ending; this is the watcher's last job, it quits once the action is answered.
      [self](atom::hangup) {
        auto& s = self->state;
        if (!s.channel || s.gone) {
          self->quit();
          return;
        }
        self->request(s.ami, s.config->ami_action_timeout * 2,
                      make_request(self, ami::hangup(s.channel->name, normal_clearing)))
            .then(
                [self](const ami_result&) {
                  log::info(component, self->state.uuid, "hung up channel {}",
                            self->state.channel->name);
                  self->quit();
                },
                [self](const caf::error& error) {
                  log::warn(component, self->state.uuid, "AMI Hangup of {} failed: {}",
                            self->state.channel->name, describe(error));
                  self->quit();
                });
      },
      [self](atom::transfer, transfer_request& request) -> caf::result<std::string> {
        auto& s = self->state;
        if (!s.channel || s.gone) {
          return make_error(bridge_errc::no_channel,
                            s.gone ? "the channel has hung up" : "AMI has not linked this call");
        }
        const auto lookup = [&s, &request](std::string_view name) -> std::optional<std::string> {
          if (auto it = request.parameters.find(std::string(name)); it != request.parameters.end())
            return it->second;
          if (auto it = s.link.variables.find(std::string(name)); it != s.link.variables.end())
            return scalar_text(it->second);
          return std::nullopt;
        };
        ami::redirect_fields fields;
        fields.channel = s.channel->name;
        std::string* parts[] = {&fields.context, &fields.exten, &fields.priority};
        const std::string* given[] = {&request.context, &request.exten, &request.priority};
        const std::string* templates[] = {&s.config->transfer_context, &s.config->transfer_exten,
                                          &s.config->transfer_priority};
        for (std::size_t i = 0; i < 3; ++i) {
          if (!given[i]->empty()) {
            if (!dialplan::is_safe_value(*given[i])) {
              return make_error(bridge_errc::bad_request,
                                "transfer target holds characters a dialplan cannot take");
            }
            *parts[i] = *given[i];
            continue;
          }
          auto filled = dialplan::fill(*templates[i], lookup);
          if (!filled)
            return make_error(bridge_errc::bad_request, dialplan::to_string(filled.error()));
          *parts[i] = std::move(*filled);
        }
        const auto target = fields.context + "," + fields.exten + "," + fields.priority;
        auto promise = self->make_response_promise<std::string>();
        self->request(s.ami, s.config->ami_action_timeout * 2,
                      make_request(self, ami::redirect(fields)))
            .then(
                [self, promise, target](const ami_result&) mutable {
                  log::info(component, self->state.uuid, "redirected {} to {}",
                            self->state.channel->name, target);
                  promise.deliver(target);
                },
                [self, promise, target](caf::error& error) mutable {
                  log::warn(component, self->state.uuid, "Redirect to {} failed: {}", target,
                            describe(error));
                  promise.deliver(std::move(error));
                });
        return promise;
      },
      [self](atom::dtmf, const std::string& digits) -> caf::result<std::string> {
        auto& s = self->state;
        if (!s.channel || s.gone) {
          return make_error(bridge_errc::no_channel,
                            s.gone ? "the channel has hung up" : "AMI has not linked this call");
        }
        if (digits.empty()) return make_error(bridge_errc::bad_request, "no digits to send");
        // Build every action first: one bad digit sends none.
        std::vector<ami::action> actions;
        for (const char digit : digits) {
          auto action = ami::play_dtmf(s.channel->name, digit);
          if (!action.serialize()) {
            return make_error(bridge_errc::bad_request,
                              fmt::format("'{}' is not a DTMF digit (0-9 * # A-D)", digit));
          }
          actions.push_back(std::move(action));
        }
        // Asterisk queues the digits on the channel in the order the actions arrive.
        auto promise = self->make_response_promise<std::string>();
        auto remaining = std::make_shared<std::size_t>(actions.size());
        auto failed = std::make_shared<bool>(false);
        for (auto& action : actions) {
          self->request(s.ami, s.config->ami_action_timeout * 2,
                        make_request(self, std::move(action)))
              .then(
                  [promise, remaining, failed, digits](const ami_result&) mutable {
                    if (--*remaining == 0 && !*failed) promise.deliver(digits);
                  },
                  [promise, failed](caf::error& error) mutable {
                    if (*failed) return;
                    *failed = true;
                    promise.deliver(std::move(error));
                  });
        }
        return promise;
      },
  };
}

}  // namespace cb
