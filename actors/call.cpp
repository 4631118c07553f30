#include "actors/call.hpp"

#include "actors/elevenlabs_session.hpp"
#include "actors/log.hpp"
#include "actors/playout.hpp"
#include "actors/transcoder.hpp"

namespace cb {

namespace {

using call_ptr = call_actor::stateful_pointer<call_state>;
using std::chrono::steady_clock;
constexpr const char* component = "call";
constexpr std::size_t max_events = 500;
// The agent ended the call: its last words play out, but never longer than this.
constexpr auto max_drain = std::chrono::seconds(30);

std::int64_t ms_since(steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t).count();
}

// Tears the tree down: hangup to Asterisk (0x00 then close), close 1000 to the agent (the
// session's state does it on exit), then this actor quits.
void finish(call_ptr self) {
  auto& st = self->state;
  const auto& end = *st.ending;
  log::info(component, st.uuid, "ended: {}{}{} after {} ms", to_string(end.reason),
            end.detail.empty() ? "" : ": ", end.detail, ms_since(st.answered));
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

call_actor::behavior_type call(call_actor::stateful_pointer<call_state> self,
                               std::shared_ptr<const settings> config,
                               std::shared_ptr<ws_client> ws, std::string uuid,
                               call_context context, std::uint16_t listen_port,
                               caf::actor connection) {
  auto& st = self->state;
  st.config = config;
  st.uuid = uuid;
  st.context = context;
  st.connection = connection;
  st.answered = steady_clock::now();
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
  st.playout = self->spawn<caf::linked>(playout, connection, me, config->barge_in_fade,
                                        config->jitter_buffer);
  st.transcoder = self->spawn<caf::linked>(transcoder, me, st.playout, config->uplink_buffer);
  st.session = self->spawn<caf::linked>(elevenlabs_session, config, std::move(ws), uuid, context,
                                        me, st.transcoder, st.playout);
  self->send(st.transcoder, atom::attach_v, caf::actor_cast<caf::actor>(st.session));
  caf::anon_send(connection, atom::attach_v, caf::actor_cast<caf::actor>(self),
                 caf::actor_cast<caf::actor>(st.transcoder));
  log::info(component, uuid, "call started: agent {} ({})", context.agent_id,
            to_string(context.source));
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
        if (s.events.size() >= max_events) s.events.pop_front();
        s.events.push_back(std::move(event));
      },
      [self](call_end& end) { end_call(self, std::move(end)); },
      [self](atom::ready, const std::string& conversation_id, const std::string& input,
             const std::string& output) {
        auto& s = self->state;
        s.summary.conversation_id = conversation_id;
        if (s.summary.state == call_phase::connecting) s.summary.state = call_phase::active;
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
        if (s.ending && s.ending->reason == end_reason::agent_ended) finish(self);
      },
      [self](const playout_report& report) {
        auto& s = self->state;
        s.summary.frames_out = report.frames_out;
        s.summary.late_frames = report.late_frames;
        s.summary.underruns = report.underruns;
        s.summary.agent_level_dbfs = report.agent_level_dbfs;
      },
      [self](const uplink_report& report) {
        auto& s = self->state;
        s.summary.frames_in = report.frames_in;
        s.summary.caller_level_dbfs = report.caller_level_dbfs;
      },
      [self](atom::stats) {
        auto& s = self->state;
        auto summary = s.summary;
        summary.duration_ms = ms_since(s.answered);
        return summary;
      },
  };
}

}  // namespace cb
