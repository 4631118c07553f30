#include "actors/call.hpp"

#include "actors/ami_watcher.hpp"
#include "actors/elevenlabs_session.hpp"
#include "actors/log.hpp"
#include "actors/metrics/service_metrics.hpp"
#include "actors/playout.hpp"
#include "actors/transcoder.hpp"

#include <functional>

namespace cb {

namespace {

using call_ptr = metrics::instrumented_pointer<call_actor, call_state>;
using std::chrono::steady_clock;
constexpr const char* component = "call";
constexpr std::size_t max_events = 500;
// The agent ended the call: its last words play out, but never longer than this.
constexpr auto max_drain = std::chrono::seconds(30);

// The agent asked for a transfer: its last words play out first, but never longer than this.
constexpr auto max_transfer_drain = std::chrono::seconds(10);

std::int64_t ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t).count();
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void publish(call_ptr self, call_event event) {
  auto& st = self->state;
  if (st.services.sink)
    self->send(st.services.sink, call_update{st.uuid, std::move(event), unix_ms_now()});
}

void store(call_ptr self, store_record record) {
  auto& st = self->state;
  if (st.services.store) self->send(st.services.store, std::move(record));
}

std::string variable_text(const elevenlabs::dynamic_variable_map& variables, const char* name) {
  auto it = variables.find(name);
  if (it == variables.end()) return {};
  if (const auto* text = std::get_if<std::string>(&it->second)) return *text;
  if (const auto* integer = std::get_if<std::int64_t>(&it->second)) return std::to_string(*integer);
  return {};
}

// The summary with the frame counts as the call's metrics have them now.
call_summary current_summary(const call_state& st) {
  auto summary = st.summary;
  const auto counts = st.metrics->read();
  summary.frames_in = counts.frames_in;
  summary.frames_out = counts.frames_out;
  summary.late_frames = counts.late_frames;
  summary.underruns = counts.underruns;
  summary.duration_ms = ms_since(st.answered);
  return summary;
}

call_record make_record(call_ptr self) {
  auto& st = self->state;
  const auto sum = current_summary(st);
  call_record record;
  record.uuid = st.uuid;
  record.conversation_id = sum.conversation_id;
  record.agent_id = sum.agent_id;
  record.channel = sum.channel;
  record.caller_id = sum.caller_id;
  record.called_number = sum.called_number;
  record.lead_id = variable_text(st.context.dynamic_variables, "lead_id");
  record.campaign = variable_text(st.context.dynamic_variables, "campaign");
  if (record.campaign.empty())
    record.campaign = variable_text(st.context.dynamic_variables, "campaign_id");
  record.dynamic_variables_json = st.dynamic_variables_json;
  record.started_unix_ms = sum.started_unix_ms;
  if (sum.first_word_ms >= 0) record.answered_unix_ms = sum.started_unix_ms + sum.first_word_ms;
  record.transfer_target = sum.transfer_target;
  record.frames_in = sum.frames_in;
  record.frames_out = sum.frames_out;
  record.late_frames = sum.late_frames;
  record.underruns = sum.underruns;
  record.first_word_ms = sum.first_word_ms;
  if (st.ending) {
    record.ended_unix_ms = unix_ms_now();
    record.end_reason = to_string(st.ending->reason);
    record.end_detail = st.ending->detail;
  }
  return record;
}

// Tears the tree down: hangup to Asterisk (0x00 then close), close 1000 to the agent (the
// session's state does it on exit), then this actor quits.
void finish(call_ptr self) {
  auto& st = self->state;
  const auto& end = *st.ending;
  log::info(component, st.uuid, "ended: {}{}{} after {} ms", to_string(end.reason),
            end.detail.empty() ? "" : ": ", end.detail, ms_since(st.answered));
  store(self, make_record(self));
  publish(self, call_event{"call_ended",
                           std::string(to_string(end.reason)) +
                               (end.detail.empty() ? "" : ": " + end.detail),
                           0});
  if (st.watcher) {
    // Only an ending decided here hangs the channel up; otherwise the channel is gone already, or
    // has left the AI (transfer), or its dialplan goes on after AudioSocket() (errors, shutdown).
    if (end.reason == end_reason::agent_ended || end.reason == end_reason::operator_ended) {
      self->send(st.watcher, atom::hangup_v);  // the watcher quits once Asterisk answered
    } else {
      self->send_exit(st.watcher, caf::exit_reason::user_shutdown);
    }
  }
  caf::anon_send(st.connection, atom::hangup_v);
  for (const auto& child :
       {caf::actor_cast<caf::actor>(st.session), caf::actor_cast<caf::actor>(st.transcoder),
        caf::actor_cast<caf::actor>(st.playout)}) {
    self->send_exit(child, caf::exit_reason::user_shutdown);
  }
  self->quit();
}

void end_call(call_ptr self, call_end end) {
  auto& st = self->state;
  if (st.ending) return;
  st.summary.state = call_phase::ending;
  st.ending = std::move(end);
  if (st.ending->reason == end_reason::agent_ended) {
    // Let what the agent already said play out; the playout reports drained.
    self->send(st.playout, atom::drain_v);
    self->delayed_send(self, max_drain, atom::drained_v);
    return;
  }
  finish(self);
}

void answer_tool(call_ptr self, const std::string& tool_call_id, std::string result,
                 bool is_error) {
  auto& st = self->state;
  publish(self, call_event{is_error ? "tool_error" : "tool_result", result, 0});
  tool_call_record record;
  record.uuid = st.uuid;
  record.tool_call_id = tool_call_id;
  record.result = result;
  record.is_error = is_error;
  record.offset_ms = ms_since(st.answered);
  store(self, std::move(record));
  self->send(st.session, atom::tool_result_v, tool_call_id, std::move(result), is_error);
}

// Redirects the channel; on success the AI leg ends as transferred.
void redirect(call_ptr self, transfer_request request,
              std::function<void(expected<std::string, caf::error>)> done) {
  auto& st = self->state;
  if (!st.watcher) {
    done(unexpected{make_error(bridge_errc::ami_disabled)});
    return;
  }
  self->request(st.watcher, st.config->ami_action_timeout * 3, atom::transfer_v, std::move(request))
      .then(
          [self, done](const std::string& target) {
            auto& s = self->state;
            s.summary.transfer_target = target;
            done(target);
            end_call(self, call_end{end_reason::transferred, "to " + target});
          },
          [done](caf::error& error) { done(unexpected{std::move(error)}); });
}

transfer_request transfer_from_tool(const std::string& parameters_json) {
  transfer_request request;
  auto parameters = elevenlabs::json_object::parse(parameters_json);
  if (!parameters) return request;
  for (auto& [name, value] : parameters->scalars()) {
    std::string text;
    if (const auto* s = std::get_if<std::string>(&value)) {
      text = *s;
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      text = std::to_string(*i);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      text = *b ? "true" : "false";
    } else {
      text = fmt::format("{}", std::get<double>(value));
    }
    request.parameters.emplace(name, std::move(text));
  }
  // The agent may name the target outright; otherwise the TRANSFER_* templates apply.
  for (auto [key, field] :
       {std::pair{"context", &request.context}, std::pair{"extension", &request.exten},
        std::pair{"priority", &request.priority}}) {
    if (auto it = request.parameters.find(key); it != request.parameters.end()) *field = it->second;
  }
  return request;
}

void on_tool(call_ptr self, client_tool_request& tool) {
  auto& st = self->state;
  tool_call_record record;
  record.uuid = st.uuid;
  record.tool_call_id = tool.tool_call_id;
  record.name = tool.name;
  record.parameters_json = tool.parameters_json;
  record.offset_ms = ms_since(st.answered);
  store(self, std::move(record));
  if (!st.watcher) {
    answer_tool(self, tool.tool_call_id, tool.name + " needs AMI, which is not configured", true);
    return;
  }
  if (tool.name == st.config->tool_transfer_call) {
    if (st.tool_transfer || st.ending) {
      answer_tool(self, tool.tool_call_id, "A transfer is already under way.", true);
      return;
    }
    // Let the agent's "let me transfer you" play out, then redirect (atom::drained).
    st.tool_transfer =
        pending_tool_transfer{tool.tool_call_id, transfer_from_tool(tool.parameters_json)};
    self->send(st.playout, atom::drain_v);
    self->delayed_send(self, max_transfer_drain, atom::drained_v);
    return;
  }
  // send_dtmf
  auto parameters = elevenlabs::json_object::parse(tool.parameters_json);
  std::optional<elevenlabs::json_scalar> digits;
  if (parameters) digits = parameters->scalar("digits");
  const auto* text = digits ? std::get_if<std::string>(&*digits) : nullptr;
  if (text == nullptr || text->empty()) {
    answer_tool(self, tool.tool_call_id, "send_dtmf needs a 'digits' string parameter", true);
    return;
  }
  const auto id = tool.tool_call_id;
  self->request(st.watcher, st.config->ami_action_timeout * 3, atom::dtmf_v, *text)
      .then(
          [self, id](const std::string& sent) {
            auto& s = self->state;
            store(self, dtmf_record{s.uuid, sent, "agent", ms_since(s.answered)});
            answer_tool(self, id, "Sent DTMF " + sent, false);
          },
          [self, id](const caf::error& error) {
            answer_tool(self, id, "DTMF not sent: " + describe(error), true);
          });
}

void start_tool_transfer(call_ptr self) {
  auto& st = self->state;
  if (!st.tool_transfer) return;
  auto pending = std::move(*st.tool_transfer);
  st.tool_transfer.reset();
  const auto id = pending.tool_call_id;
  redirect(self, std::move(pending.request), [self, id](expected<std::string, caf::error> result) {
    if (result) {
      answer_tool(self, id, "Transferred the caller to " + *result, false);
    } else {
      answer_tool(self, id, "Transfer failed: " + describe(result.error()), true);
    }
  });
}

end_reason reason_from_connection_exit(const caf::error& reason, std::string& detail) {
  if (!reason) return end_reason::caller_hung_up;
  if (reason.category() == caf::atom("callbridge")) {
    detail = describe(reason);
    return end_reason::protocol_error;
  }
  detail = describe(reason);
  return end_reason::bridge_error;
}

}  // namespace

call_state::~call_state() {
  if (!counted) return;
  metrics::service_metrics::process().call_ended(
      to_string(ending ? ending->reason : end_reason::bridge_error));
}

call_actor::behavior_type call(call_ptr self, std::shared_ptr<const settings> config,
                               std::shared_ptr<ws_client> ws, std::string uuid,
                               call_context context, std::uint16_t listen_port,
                               caf::actor connection, audiosocket_writer_ptr writer,
                               call_services services) {
  auto& st = self->state;
  st.services = std::move(services);
  st.config = config;
  st.uuid = uuid;
  st.context = context;
  st.connection = connection;
  st.answered = steady_clock::now();
  st.metrics = metrics::call_metrics::open(uuid);
  st.summary.uuid = uuid;
  st.summary.agent_id = context.agent_id;
  st.summary.source = context.source;
  st.summary.listen_port = listen_port;
  st.summary.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  self->link_to(connection);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& s = self->state;
    if (msg.source == s.connection.address()) {
      std::string detail;
      const auto reason = reason_from_connection_exit(msg.reason, detail);
      end_call(self, call_end{reason, detail});
      return;
    }
    if (s.watcher && msg.source == s.watcher.address()) {
      // AMI trouble never ends a call: it goes on without channel control.
      if (msg.reason && !s.ending) {
        log::warn(component, s.uuid, "AMI watcher failed ({}); the call goes on without AMI",
                  describe(msg.reason));
      }
      s.watcher = ami_watcher_actor{};
      return;
    }
    if (s.ending) return;  // children going down as part of the ending
    const char* child = msg.source == s.session.address()      ? "elevenlabs_session"
                        : msg.source == s.transcoder.address() ? "transcoder"
                        : msg.source == s.playout.address()    ? "playout"
                                                               : nullptr;
    if (child == nullptr) {  // the parent (shutdown) or an unknown linked actor
      end_call(self, call_end{end_reason::shutdown, describe(msg.reason)});
      return;
    }
    end_call(self, call_end{end_reason::bridge_error,
                            std::string(child) + " failed: " + describe(msg.reason)});
  });
  const auto me = caf::actor_cast<call_actor>(self);
  // Open the agent session first: time to first word starts now.
  st.playout = self->spawn<caf::linked>(playout, std::move(writer), me, st.services.clock,
                                        st.metrics, config->barge_in_fade, config->jitter_buffer);
  st.transcoder =
      self->spawn<caf::linked>(transcoder, me, st.metrics, st.playout, config->uplink_buffer);
  const bool with_ami = st.services.ami && !config->asterisk_host.empty();
  if (with_ami) {
    st.watcher = self->spawn<caf::linked>(ami_watcher, config, uuid, me, st.services.ami);
  }
  st.session = self->spawn<caf::linked>(elevenlabs_session, config, std::move(ws), uuid, context,
                                        me, st.metrics, st.transcoder, st.playout, with_ami);
  self->send(st.transcoder, atom::attach_v, caf::actor_cast<caf::actor>(st.session));
  caf::anon_send(connection, atom::attach_v, caf::actor_cast<caf::actor>(self),
                 caf::actor_cast<caf::actor>(st.transcoder));
  st.counted = true;
  metrics::service_metrics::process().call_started();
  log::info(component, uuid, "call started: agent {} ({})", context.agent_id,
            to_string(context.source));
  elevenlabs::serialize(st.context.dynamic_variables, st.dynamic_variables_json);
  store(self, make_record(self));
  publish(self, call_event{"call_started", context.agent_id, 0});
  return {
      [self](atom::caller_rate, std::int32_t rate) {
        auto& s = self->state;
        self->send(s.transcoder, atom::caller_rate_v, rate);
        self->send(s.playout, atom::caller_rate_v, rate);
      },
      [self](atom::dtmf, const std::string& digit) {
        auto& s = self->state;
        log::info(component, s.uuid, "DTMF {}", digit);
        s.events.push_back(call_event{"dtmf", digit, 0});
        publish(self, call_event{"dtmf", digit, 0});
        store(self, dtmf_record{s.uuid, digit, "caller", ms_since(s.answered)});
        switch (s.config->dtmf) {
          case dtmf_mode::user_message:
            self->send(s.session, atom::say_v, std::string("user_message"), digit);
            break;
          case dtmf_mode::contextual_update:
            self->send(s.session, atom::say_v, std::string("contextual_update"),
                       "The caller pressed the key " + digit + " on their phone keypad.");
            break;
          case dtmf_mode::ignore:
            break;
        }
      },
      [self](call_event& event) {
        auto& s = self->state;
        if (!event.text.empty()) {
          log::info(component, s.uuid, "{} #{}: {}", event.kind, event.event_id, event.text);
        } else {
          log::info(component, s.uuid, "{} #{}", event.kind, event.event_id);
        }
        const bool user = event.kind == "user_transcript";
        const bool correction = event.kind == "agent_response_correction";
        if (user || correction || event.kind == "agent_response" || event.kind == "interruption") {
          transcript_record turn;
          turn.uuid = s.uuid;
          turn.role = user ? "user" : "agent";
          turn.text = event.text;
          turn.event_id = event.event_id;
          turn.offset_ms = ms_since(s.answered);
          turn.corrected = correction;
          turn.interrupted = event.kind == "interruption";
          store(self, std::move(turn));
        }
        publish(self, event);
        if (s.events.size() >= max_events) s.events.pop_front();
        s.events.push_back(std::move(event));
      },
      [self](call_end& end) { end_call(self, std::move(end)); },
      [self](atom::ready, const std::string& conversation_id, const std::string& input,
             const std::string& output) {
        auto& s = self->state;
        s.summary.conversation_id = conversation_id;
        if (s.summary.state == call_phase::connecting) s.summary.state = call_phase::active;
        publish(self, call_event{"conversation_started", conversation_id, 0});
        store(self, make_record(self));
        log::debug(component, s.uuid, "agent formats: input {}, output {}", input, output);
      },
      [self](atom::first_audio) {
        auto& s = self->state;
        s.summary.first_word_ms = ms_since(s.answered);
        log::info(component, s.uuid, "first agent audio played {} ms after answer",
                  s.summary.first_word_ms);
      },
      [self](atom::drained) {
        auto& s = self->state;
        if (s.ending && s.ending->reason == end_reason::agent_ended) {
          finish(self);
          return;
        }
        start_tool_transfer(self);
      },
      [self](const playout_report& report) {
        self->state.summary.agent_level_dbfs = report.agent_level_dbfs;
      },
      [self](const uplink_report& report) {
        self->state.summary.caller_level_dbfs = report.caller_level_dbfs;
      },
      [self](atom::stats) { return current_summary(self->state); },
      [self](atom::stats, atom::list) {
        auto& s = self->state;
        call_detail detail;
        detail.summary = current_summary(s);
        detail.events.assign(s.events.begin(), s.events.end());
        return detail;
      },
      [self](atom::transfer, transfer_request& request) -> caf::result<std::string> {
        auto& s = self->state;
        if (s.ending) return make_error(bridge_errc::unknown_call, "the call is ending");
        auto promise = self->make_response_promise<std::string>();
        redirect(self, std::move(request),
                 [promise](expected<std::string, caf::error> result) mutable {
                   if (result) {
                     promise.deliver(std::move(*result));
                   } else {
                     promise.deliver(std::move(result.error()));
                   }
                 });
        return promise;
      },
      [self](ami_call_link& link) {
        auto& s = self->state;
        if (link.linked) {
          s.summary.channel = link.channel;
          s.summary.caller_id = link.caller_id;
          s.summary.called_number = link.called_number;
          publish(self, call_event{"channel_linked", link.channel, 0});
        }
        for (const auto& [name, value] : link.variables)
          s.context.dynamic_variables.emplace(name, value);
        s.dynamic_variables_json.clear();
        elevenlabs::serialize(s.context.dynamic_variables, s.dynamic_variables_json);
        self->send(s.session, std::move(link));
      },
      [self](client_tool_request& tool) { on_tool(self, tool); },
      [self](atom::say, std::string& kind, std::string& text) {
        auto& s = self->state;
        log::info(component, s.uuid, "operator {}: {}", kind, text);
        publish(self, call_event{"operator_" + kind, text, 0});
        self->send(s.session, atom::say_v, std::move(kind), std::move(text));
      },
  };
}

}  // namespace cb
