#include "actors/elevenlabs_session.hpp"

#include <chrono>
#include <utility>

#include "actors/log.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace cb {

namespace {

using session_ptr =
    metrics::instrumented_pointer<elevenlabs_session_actor, elevenlabs_session_state>;
using phase = elevenlabs_session_state::phase;
constexpr const char* component = "elevenlabs";

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/')
    s.pop_back();
  return s;
}

void end_call(session_ptr self, end_reason reason, std::string detail) {
  auto& st = self->state;
  if (st.current == phase::closed) return;
  st.current = phase::closed;
  self->send(st.call, call_end{reason, std::move(detail)});
}

// The WebSocket ended after its handshake.
void socket_closed(elevenlabs_session_state& st) {
  if (!st.open) return;
  st.open = false;
  metrics::service_metrics::process().elevenlabs_session_closed();
}

// The session could not be opened: the signed URL, the connect, TLS or the handshake failed, or
// took too long. Counted once: a later event of the same attempt finds the session closed.
void open_failed(session_ptr self, std::string detail) {
  if (self->state.current != phase::closed) {
    metrics::service_metrics::process().elevenlabs_session_failed();
  }
  end_call(self, end_reason::agent_failed, std::move(detail));
}

void send_json(session_ptr self) {
  auto& st = self->state;
  if (st.conn != 0) st.ws->send_text(st.conn, std::exchange(st.tx, std::string{}));
}

void send_initiation(session_ptr self) {
  auto& st = self->state;
  elevenlabs::conversation_initiation_client_data init;
  if (!st.context.dynamic_variables.empty()) init.dynamic_variables = st.context.dynamic_variables;
  if (st.context.overrides) init.conversation_config_override = *st.context.overrides;
  st.tx.clear();
  elevenlabs::serialize(init, st.tx);
  send_json(self);
}

void on_event(session_ptr self, elevenlabs::server_event& event) {
  auto& st = self->state;
  using namespace elevenlabs;
  if (auto* audio = std::get_if<audio_event>(&event)) {
    if (audio->event_id < st.gate_event_id) {
      ++st.stale_chunks;
      return;
    }
    agent_audio out;
    out.bytes.assign(audio->audio.begin(), audio->audio.end());
    out.event_id = audio->event_id;
    out.received_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
    self->send(st.transcoder, std::move(out));
  } else if (auto* ping = std::get_if<ping_event>(&event)) {
    st.tx.clear();
    serialize(pong{ping->event_id}, st.tx);
    send_json(self);
  } else if (auto* meta = std::get_if<conversation_initiation_metadata_event>(&event)) {
    if (st.current != phase::awaiting_metadata) return;
    st.current = phase::ready;
    log::info(component, st.call_id, "conversation {} started (input {}, output {})",
              meta->conversation_id, meta->user_input_audio_format,
              meta->agent_output_audio_format);
    // Configure the transcoder before any audio of the greeting reaches it (same sender, so the
    // order holds).
    self->send(st.transcoder, atom::configure_v, meta->user_input_audio_format,
               meta->agent_output_audio_format);
    self->send(st.call, atom::ready_v, meta->conversation_id, meta->user_input_audio_format,
               meta->agent_output_audio_format);
  } else if (auto* interruption = std::get_if<interruption_event>(&event)) {
    st.gate_event_id = std::max(st.gate_event_id, interruption->event_id);
    self->send(st.playout, atom::flush_v, interruption->event_id);
    self->send(st.transcoder, atom::flush_v, interruption->event_id);
    self->send(st.call, call_event{"interruption", "", interruption->event_id});
  } else if (auto* user = std::get_if<user_transcript_event>(&event)) {
    self->send(st.call, call_event{"user_transcript", user->user_transcript, user->event_id});
  } else if (auto* agent = std::get_if<agent_response_event>(&event)) {
    self->send(st.call, call_event{"agent_response", agent->agent_response, agent->event_id});
  } else if (auto* correction = std::get_if<agent_response_correction_event>(&event)) {
    self->send(st.call, call_event{"agent_response_correction",
                                   correction->corrected_agent_response, correction->event_id});
  } else if (auto* tool = std::get_if<client_tool_call_event>(&event)) {
    self->send(st.call,
               call_event{"client_tool_call", tool->tool_name + " " + tool->parameters.text(),
                          tool->event_id});
    client_tool_result result;
    result.tool_call_id = tool->tool_call_id;
    const auto& cfg = *st.config;
    if (tool->tool_name == cfg.tool_transfer_call || tool->tool_name == cfg.tool_send_dtmf) {
      // Carried out over AMI by the call; it answers with atom::tool_result.
      self->send(st.call, client_tool_request{tool->tool_call_id, tool->tool_name,
                                              tool->parameters.text(), tool->event_id});
      return;
    }
    const bool ends_call = tool->tool_name == cfg.tool_end_call;
    if (ends_call) {
      result.result = "The call will end after the current message.";
      result.is_error = false;
    } else {
      result.result = "Unknown tool: " + tool->tool_name;
      result.is_error = true;
    }
    st.tx.clear();
    serialize(result, st.tx);
    send_json(self);
    self->send(st.call, call_event{"client_tool_result", result.result, tool->event_id});
    if (ends_call) {
      self->send(st.call, call_end{end_reason::agent_ended, "agent called the end_call tool"});
    }
  } else if (auto* response = std::get_if<agent_tool_response_event>(&event)) {
    self->send(st.call, call_event{"agent_tool_response", response->tool_name, response->event_id});
    if (response->tool_name == "end_call" && !response->is_error) {
      self->send(st.call, call_event{"agent_end_call", "", response->event_id});
    }
  } else if (auto* error = std::get_if<error_event>(&event)) {
    st.last_error = error->error_type ? *error->error_type + ": " + error->message : error->message;
    log::warn(component, st.call_id, "agent error: {}{}", st.last_error,
              error->code ? fmt::format(" (code {})", *error->code) : std::string{});
  } else if (auto* unknown = std::get_if<unknown_event>(&event)) {
    log::trace(component, st.call_id, "ignoring event type '{}'", unknown->type);
  }
}

}  // namespace

std::string agent_websocket_url(const settings& config, const std::string& agent_id) {
  return trim_slash(websocket_url_from_base(config.elevenlabs_base_url)) +
         "/v1/convai/conversation?agent_id=" + url_encode(agent_id);
}

std::string signed_url_endpoint(const settings& config, const std::string& agent_id) {
  return trim_slash(config.elevenlabs_base_url) +
         "/v1/convai/conversation/get-signed-url?agent_id=" + url_encode(agent_id);
}

elevenlabs_session_actor::behavior_type elevenlabs_session(
    session_ptr self, std::shared_ptr<const settings> config, std::shared_ptr<ws_client> ws,
    std::string call_id, call_context context, call_actor call,
    std::shared_ptr<metrics::call_metrics> metrics, transcoder_actor transcoder,
    playout_actor playout, bool await_channel_link) {
  auto& st = self->state;
  st.awaiting_link = await_channel_link;
  st.config = std::move(config);
  st.ws = std::move(ws);
  st.call_id = std::move(call_id);
  st.context = std::move(context);
  st.call = std::move(call);
  st.metrics = std::move(metrics);
  st.transcoder = std::move(transcoder);
  st.playout = std::move(playout);
  st.rx.reserve(16384);
  st.tx.reserve(1024);
  const auto owner = caf::actor_cast<caf::actor>(self);
  if (!st.config->elevenlabs_api_key.empty()) {
    st.current = phase::fetching_url;
    st.request = st.ws->http_get(signed_url_endpoint(*st.config, st.context.agent_id),
                                 {{"xi-api-key", st.config->elevenlabs_api_key}}, owner);
  } else {
    st.current = phase::connecting;
    st.conn = st.ws->connect(agent_websocket_url(*st.config, st.context.agent_id), {}, owner);
  }
  self->delayed_send(self, st.config->metadata_timeout, atom::timeout_v);
  return {
      [self](agent_uplink& up) {
        auto& s = self->state;
        if (s.current != phase::ready) return;
        s.tx.clear();
        elevenlabs::append_user_audio_chunk(s.tx, up.bytes.data(), up.bytes.size());
        if (s.conn != 0) s.ws->send_stream(s.conn, std::exchange(s.tx, std::string{}));
        s.metrics->uplink_latency(std::chrono::steady_clock::now().time_since_epoch() -
                                  std::chrono::nanoseconds(up.received_ns));
      },
      [self](http_response& response) {
        auto& s = self->state;
        if (response.request != s.request || s.current != phase::fetching_url) return;
        if (!response.error.empty() || response.status != 200) {
          open_failed(self,
                      response.error.empty()
                          ? fmt::format("signed URL request refused: HTTP {}", response.status)
                          : "signed URL request failed: " + response.error);
          return;
        }
        auto body = elevenlabs::json_object::parse(response.body);
        std::optional<elevenlabs::json_scalar> url;
        if (body) url = body->scalar("signed_url");
        const auto* text = url ? std::get_if<std::string>(&*url) : nullptr;
        if (text == nullptr || text->empty()) {
          open_failed(self, "signed URL response has no signed_url");
          return;
        }
        s.current = phase::connecting;
        s.conn = s.ws->connect(*text, {}, caf::actor_cast<caf::actor>(self));
      },
      [self](const ws_opened& opened) {
        auto& s = self->state;
        if (opened.conn != s.conn || s.current != phase::connecting) return;
        s.current = phase::awaiting_metadata;
        s.open = true;
        metrics::service_metrics::process().elevenlabs_session_opened();
        if (s.awaiting_link) {
          s.initiation_held = true;
          return;
        }
        send_initiation(self);
      },
      [self](ami_call_link& link) {
        auto& s = self->state;
        if (!s.awaiting_link) return;
        s.awaiting_link = false;
        // What the API or a port binding gave wins over what the channel says.
        for (auto& [name, value] : link.variables) {
          s.context.dynamic_variables.emplace(name, std::move(value));
        }
        if (s.initiation_held && s.current == phase::awaiting_metadata) {
          s.initiation_held = false;
          send_initiation(self);
        }
      },
      [self](ws_text& message) {
        auto& s = self->state;
        if (message.conn != s.conn || s.current == phase::closed) return;
        s.rx.swap(message.text);
        if (auto err = elevenlabs::parse_server_event_into(s.rx, s.event)) {
          log::warn(component, s.call_id, "malformed message from the agent: {}",
                    elevenlabs::to_string(*err));
          end_call(self, end_reason::agent_failed,
                   "malformed message from the agent: " + elevenlabs::to_string(*err));
          return;
        }
        on_event(self, s.event);
      },
      [self](const ws_closed& closed) {
        auto& s = self->state;
        if (closed.conn != s.conn) return;
        s.conn = 0;
        socket_closed(s);
        const auto error = s.last_error.empty() ? std::string{} : " [" + s.last_error + "]";
        if (closed.clean && closed.code == 1000) {
          end_call(self, end_reason::agent_ended,
                   fmt::format("agent closed the conversation (1000 {}){}", closed.reason, error));
        } else {
          end_call(self, end_reason::agent_failed,
                   fmt::format("agent connection closed with {} {}{}", closed.code, closed.reason,
                               error));
        }
      },
      [self](const ws_failed& failed) {
        auto& s = self->state;
        if (failed.conn != s.conn) return;
        s.conn = 0;
        auto detail = failed.http_status != 0
                          ? fmt::format("agent refused the connection: HTTP {} {}",
                                        failed.http_status, failed.reason)
                          : "agent connection failed: " + failed.reason;
        if (s.open) {  // dropped after the handshake (overflow, oversized message)
          socket_closed(s);
          end_call(self, end_reason::agent_failed, std::move(detail));
        } else {
          open_failed(self, std::move(detail));
        }
      },
      [self](atom::say, const std::string& kind, const std::string& text) {
        auto& s = self->state;
        if (s.current != phase::ready) return;
        s.tx.clear();
        if (kind == "contextual_update") {
          elevenlabs::serialize(elevenlabs::contextual_update{text, std::nullopt}, s.tx);
        } else {
          elevenlabs::serialize(elevenlabs::user_message{text, std::nullopt}, s.tx);
        }
        send_json(self);
      },
      [self](atom::tool_result, const std::string& id, const std::string& result, bool is_error) {
        auto& s = self->state;
        if (s.current != phase::ready) return;
        s.tx.clear();
        elevenlabs::serialize(elevenlabs::client_tool_result{id, result, is_error}, s.tx);
        send_json(self);
      },
      [self](atom::timeout) {
        auto& s = self->state;
        if (s.current == phase::ready || s.current == phase::closed) return;
        auto detail = fmt::format("no conversation_initiation_metadata within {} ms",
                                  s.config->metadata_timeout.count());
        if (s.open) {
          end_call(self, end_reason::agent_failed, std::move(detail));
        } else {
          open_failed(self, std::move(detail));
        }
      },
  };
}

}  // namespace cb
