#include "actors/control/control_api.hpp"

#include <unistd.h>

#include <caf/send.hpp>

#include <charconv>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>

#include "actors/control/api_json.hpp"
#include "actors/log.hpp"
#include "protocol/elevenlabs_webhook.hpp"

namespace cb {

namespace {

using control::http_reply;
using control::json_reply;
using self_ptr = control_api_actor::stateful_pointer<control_api_state>;
using responder = std::function<void(http_reply)>;

constexpr const char* component = "control_api";
constexpr auto service_timeout = std::chrono::seconds(10);
constexpr auto probe_timeout = std::chrono::seconds(2);
constexpr auto metrics_period = std::chrono::seconds(1);
constexpr double memory_ready_fraction = 0.9;
constexpr char prometheus_content_type[] = "text/plain; version=0.0.4; charset=utf-8";

// One API call, from HTTP or from a WebSocket "request" message.
struct api_call {
  std::string method;
  std::string path;
  api::field_list query;
  std::string content_type;
  std::string body;
  std::string signature;
  std::string peer;
};

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http_reply failure(int status, std::string_view code, std::string_view message) {
  return json_reply(status, api::error_body(code, message));
}

http_reply bad_request(const api::request_error& error) {
  return json_reply(400, api::error_body(error));
}

enum class token_check : std::uint8_t { ok, missing, wrong };

token_check check_token(const settings& config, std::optional<std::string_view> presented) {
  if (config.api_token.empty()) return token_check::ok;
  if (!presented) return token_check::missing;
  return api::token_equals(*presented, config.api_token) ? token_check::ok : token_check::wrong;
}

http_reply auth_failure(token_check check) {
  if (check == token_check::missing) {
    auto reply =
        failure(401, "unauthorized", "a bearer token is required (Authorization: Bearer ...)");
    reply.headers.emplace_back("www-authenticate", "Bearer realm=\"callbridge\"");
    return reply;
  }
  return failure(403, "forbidden", "the token is not valid");
}

struct memory_use {
  std::uint64_t rss_bytes = 0;
  std::uint64_t limit_bytes = 0;  // the cgroup's memory.max; 0: no limit
};

std::uint64_t parse_u64(const std::string& text) {
  std::uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

memory_use process_memory() {
  memory_use use;
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    use.rss_bytes = resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  }
  std::ifstream limit("/sys/fs/cgroup/memory.max");
  std::string text;
  if (limit >> text && text != "max") use.limit_bytes = parse_u64(text);
  return use;
}

// A service that is switched off, or did not answer within the probe's timeout.
void write_state(api::json_writer& w, const char* state) {
  w.begin_object().key("state").string(state).end_object();
}

// --- readiness and status: several services asked at once --------------------------------------

// What the services answered to one round of status requests (nullopt: disabled or no answer).
struct service_probe {
  bool ami_enabled = false;
  std::optional<ami_status> ami;
  bool store_enabled = false;
  std::optional<store_status> store;
  bool pool_enabled = false;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> ports;  // leased, total
  int pending = 1;  // released by probe_services once every request is under way
  std::function<void(const service_probe&)> finish;

  void done() {
    if (--pending == 0) finish(*this);
  }
};

void probe_services(self_ptr self, bool ask_store,
                    std::function<void(const service_probe&)> finish) {
  const auto& h = self->state.handles;
  auto p = std::make_shared<service_probe>();
  p->finish = std::move(finish);
  if (h.ami) {
    p->ami_enabled = true;
    ++p->pending;
    self->request(h.ami, probe_timeout, atom::status_v)
        .then(
            [p](ami_status& status) {
              p->ami = std::move(status);
              p->done();
            },
            [p](caf::error&) { p->done(); });
  }
  if (ask_store && h.store) {
    p->store_enabled = true;
    ++p->pending;
    self->request(h.store, probe_timeout, atom::status_v)
        .then(
            [p](store_status& status) {
              p->store = std::move(status);
              p->done();
            },
            [p](caf::error&) { p->done(); });
  }
  if (h.ports) {
    p->pool_enabled = true;
    ++p->pending;
    self->request(h.ports, probe_timeout, atom::stats_v)
        .then(
            [p](std::uint32_t leased, std::uint32_t total) {
              p->ports = std::make_pair(leased, total);
              p->done();
            },
            [p](caf::error&) { p->done(); });
  }
  p->done();
}

// GET /readyz: 200 when calls can be taken now, else 503; each check says why.
http_reply render_readiness(const service_probe& p, const settings& config,
                            const std::optional<std::vector<std::uint16_t>>& audiosocket_ports) {
  std::string out;
  api::json_writer w(out);
  bool ready = true;
  w.begin_object().key("checks").begin_object();

  const bool audiosocket_ok = !audiosocket_ports || !audiosocket_ports->empty();
  ready = ready && audiosocket_ok;
  w.key("audiosocket").begin_object().key("ok").boolean(audiosocket_ok).key("ports").begin_array();
  if (audiosocket_ports) {
    for (auto port : *audiosocket_ports)
      w.integer(port);
  }
  w.end_array().end_object();

  const bool ami_ok = !p.ami_enabled || (p.ami && (p.ami->state == ami_link_state::connected ||
                                                   p.ami->state == ami_link_state::disabled));
  ready = ready && ami_ok;
  w.key("ami").begin_object().key("ok").boolean(ami_ok);
  w.key("state").string(!p.ami_enabled ? "disabled"
                        : p.ami        ? to_string(p.ami->state)
                                       : "no_answer");
  w.end_object();

  // With the shared port any number of calls fit; the legacy pool needs a free port.
  const auto [leased, total] = p.ports.value_or(std::make_pair(0U, 0U));
  const std::uint32_t free = total - std::min(leased, total);
  const bool pool_answered = !p.pool_enabled || p.ports.has_value();
  const bool ports_ok =
      config.audiosocket_port_enabled || (pool_answered && (total == 0 || free > 0));
  ready = ready && ports_ok;
  w.key("ports").begin_object().key("ok").boolean(ports_ok);
  w.key("shared_port").boolean(config.audiosocket_port_enabled);
  w.key("pool_free").unsigned_integer(free).key("pool_total").unsigned_integer(total);
  w.end_object();

  const auto memory = process_memory();
  const bool memory_ok = memory.limit_bytes == 0 ||
                         static_cast<double>(memory.rss_bytes) <
                             memory_ready_fraction * static_cast<double>(memory.limit_bytes);
  ready = ready && memory_ok;
  w.key("memory").begin_object().key("ok").boolean(memory_ok);
  w.key("rss_bytes").unsigned_integer(memory.rss_bytes);
  w.key("limit_bytes");
  if (memory.limit_bytes == 0) {
    w.null();
  } else {
    w.unsigned_integer(memory.limit_bytes);
  }
  w.end_object();

  w.end_object().key("ready").boolean(ready).end_object();
  return json_reply(ready ? 200 : 503, std::move(out));
}

// GET /api/status: the API's own figures and what the services report about themselves.
http_reply render_status(const service_probe& p, const control::http_server& server) {
  const auto stats = server.snapshot();
  std::string out;
  api::json_writer w(out);
  w.begin_object().key("api").begin_object();
  w.key("port").integer(server.port()).key("tls").boolean(server.tls());
  w.key("websocket_clients").unsigned_integer(stats.websocket_clients);
  w.key("http_requests").unsigned_integer(stats.http_requests);
  w.key("stream_messages_dropped").unsigned_integer(stats.stream_messages_dropped);
  w.key("log_records_dropped").unsigned_integer(stats.log_records_dropped);
  w.key("clients_dropped").unsigned_integer(stats.clients_dropped);
  w.end_object().key("ami");
  if (!p.ami_enabled) {
    write_state(w, "disabled");
  } else if (p.ami) {
    control::write_ami_status(w, *p.ami);
  } else {
    write_state(w, "no_answer");
  }
  w.key("store");
  if (!p.store_enabled) {
    write_state(w, "disabled");
  } else if (p.store) {
    control::write_store_status(w, *p.store);
  } else {
    write_state(w, "no_answer");
  }
  w.key("ports");
  if (!p.pool_enabled) {
    write_state(w, "disabled");
  } else if (p.ports) {
    w.begin_object()
        .key("leased")
        .unsigned_integer(p.ports->first)
        .key("total")
        .unsigned_integer(p.ports->second)
        .end_object();
  } else {
    write_state(w, "no_answer");
  }
  w.end_object();
  return json_reply(200, std::move(out));
}

void serve_ready(self_ptr self, responder respond) {
  const auto& st = self->state;
  std::optional<std::vector<std::uint16_t>> audiosocket_ports;
  if (st.handles.audiosocket_ports) audiosocket_ports = st.handles.audiosocket_ports();
  probe_services(self, false,
                 [config = st.config, audiosocket_ports = std::move(audiosocket_ports),
                  respond = std::move(respond)](const service_probe& p) {
                   respond(render_readiness(p, *config, audiosocket_ports));
                 });
}

void serve_status(self_ptr self, responder respond) {
  probe_services(self, true,
                 [server = self->state.server, respond = std::move(respond)](
                     const service_probe& p) { respond(render_status(p, *server)); });
}

// --- the routes ----------------------------------------------------------------------------------

auto on_error(const responder& respond) {
  return [respond](caf::error& e) { respond(control::error_reply(e)); };
}

bool pool_by_default(const settings& config) {
  return !config.audiosocket_port_enabled;
}

void serve_static(self_ptr self, const std::string& path, const responder& respond) {
  const auto& wanted = path == "/" ? std::string("/index.html") : path;
  for (const auto& asset : self->state.handles.assets) {
    if (asset.path == wanted) {
      respond(http_reply{200, asset.content_type, asset.body, {}});
      return;
    }
  }
  respond(failure(404, "not_found", "no such resource"));
}

void serve_webhook(self_ptr self, const api_call& call, const responder& respond) {
  auto& st = self->state;
  const auto now_s = now_unix_ms() / 1000;
  if (auto refused = elevenlabs::verify_webhook_signature(call.signature, call.body,
                                                          st.config->webhook_secret, now_s)) {
    log::warn(component, "", "ElevenLabs webhook from {} refused: {}", call.peer,
              elevenlabs::to_string(*refused));
    if (*refused == elevenlabs::webhook_auth_error::no_secret) {
      respond(failure(403, "webhook_disabled", "no ELEVENLABS_WEBHOOK_SECRET is configured"));
    } else {
      respond(failure(401, "bad_signature", elevenlabs::to_string(*refused)));
    }
    return;
  }
  auto webhook = elevenlabs::parse_post_call_webhook(call.body);
  if (!webhook) {
    if (webhook.error().code == elevenlabs::parse_error_code::unknown_type) {
      respond(json_reply(200, R"({"status":"ignored"})"));
    } else {
      respond(failure(400, "bad_request", elevenlabs::to_string(webhook.error())));
    }
    return;
  }
  if (!st.handles.store) {
    respond(failure(503, "store_disabled", "no call store is configured"));
    return;
  }
  std::string out;
  api::json_writer(out)
      .begin_object()
      .key("status")
      .string("stored")
      .key("conversation_id")
      .string(webhook->conversation_id)
      .end_object();
  log::info(component, "", "ElevenLabs {} webhook for conversation {}", webhook->kind,
            webhook->conversation_id);
  self->send(st.handles.store, store_record{std::move(*webhook)});
  respond(json_reply(200, std::move(out)));
}

// The live-call routes, all answered by the call registry.
void serve_calls(self_ptr self, const api::route& route, const api_call& call,
                 const responder& respond) {
  auto& st = self->state;
  const auto& h = st.handles;
  const auto format = api::format_of(call.content_type);
  if (!h.registry) {
    respond(failure(503, "unavailable", "the call registry is not running"));
    return;
  }
  switch (route.kind) {
    case api::route_kind::list_calls:
      self->request(h.registry, service_timeout, atom::list_v)
          .then(
              [respond](std::vector<call_summary>& calls) {
                respond(json_reply(200, control::render_calls(std::move(calls))));
              },
              on_error(respond));
      return;
    case api::route_kind::get_call:
      self->request(h.registry, service_timeout, atom::list_v, route.id)
          .then(
              [respond](call_detail& detail) {
                respond(json_reply(200, control::render_call(detail)));
              },
              on_error(respond));
      return;
    case api::route_kind::prepare_call: {
      auto setup = api::parse_call_setup(call.body, format);
      if (!setup) {
        respond(bad_request(setup.error()));
        return;
      }
      const bool pool = control::wants_pool_port(*setup, pool_by_default(*st.config));
      self->request(h.registry, service_timeout, atom::prepare_v,
                    control::to_call_context(std::move(*setup)), pool)
          .then(
              [respond](prepared_call& prepared) {
                log::info(component, prepared.uuid, "call prepared: dial {}:{}", prepared.host,
                          prepared.port);
                respond(json_reply(201, control::render_prepared(prepared)));
              },
              on_error(respond));
      return;
    }
    case api::route_kind::originate_call: {
      auto params = api::parse_originate(call.body, format);
      if (!params) {
        respond(bad_request(params.error()));
        return;
      }
      if (!h.ami) {
        respond(failure(503, "ami_disabled", "AMI is disabled (no ASTERISK_HOST)"));
        return;
      }
      self->request(h.registry, service_timeout, atom::originate_v,
                    control::to_originate_request(std::move(*params), pool_by_default(*st.config)))
          .then(
              [respond](prepared_call& prepared) {
                log::info(component, prepared.uuid, "outbound call queued");
                respond(json_reply(202, control::render_prepared(prepared)));
              },
              on_error(respond));
      return;
    }
    case api::route_kind::redirect_call: {
      auto setup = api::parse_call_setup(call.body, format);
      if (!setup) {
        respond(bad_request(setup.error()));
        return;
      }
      if (setup->pool_port) {
        respond(bad_request({"pool_port", "not used by redirect"}));
        return;
      }
      if (!h.ami) {
        respond(failure(503, "ami_disabled", "AMI is disabled (no ASTERISK_HOST)"));
        return;
      }
      const auto channel = route.id;
      self->request(h.registry, service_timeout, atom::redirect_v, channel,
                    control::to_call_context(std::move(*setup)))
          .then(
              [respond, channel](prepared_call& prepared) {
                log::info(component, prepared.uuid, "channel {} handed to the AI", channel);
                respond(json_reply(202, control::render_prepared(prepared)));
              },
              on_error(respond));
      return;
    }
    case api::route_kind::transfer_call: {
      auto params = api::parse_transfer(call.body, format);
      if (!params) {
        respond(bad_request(params.error()));
        return;
      }
      const auto uuid = route.id;
      log::info(component, uuid, "operator transfer requested from {}", call.peer);
      self->request(h.registry, service_timeout, atom::transfer_v, uuid,
                    control::to_transfer_request(std::move(*params)))
          .then(
              [respond, uuid](std::string& target) {
                std::string out;
                api::json_writer(out)
                    .begin_object()
                    .key("uuid")
                    .string(uuid)
                    .key("target")
                    .string(target)
                    .end_object();
                respond(json_reply(200, std::move(out)));
              },
              on_error(respond));
      return;
    }
    case api::route_kind::hangup_call: {
      const auto uuid = route.id;
      log::info(component, uuid, "operator hang-up requested from {}", call.peer);
      self->request(h.registry, service_timeout, atom::end_v, uuid)
          .then(
              [respond, uuid](bool ended) {
                std::string out;
                api::json_writer(out)
                    .begin_object()
                    .key("uuid")
                    .string(uuid)
                    .key("ended")
                    .boolean(ended)
                    .end_object();
                respond(json_reply(200, std::move(out)));
              },
              on_error(respond));
      return;
    }
    case api::route_kind::message_call: {
      auto params = api::parse_message(call.body, format);
      if (!params) {
        respond(bad_request(params.error()));
        return;
      }
      const auto uuid = route.id;
      const auto type = params->type;
      log::info(component, uuid, "operator {} from {}", type, call.peer);
      self->request(h.registry, service_timeout, atom::say_v, uuid, type, params->text)
          .then(
              [respond, uuid, type](bool delivered) {
                std::string out;
                api::json_writer(out)
                    .begin_object()
                    .key("uuid")
                    .string(uuid)
                    .key("type")
                    .string(type)
                    .key("delivered")
                    .boolean(delivered)
                    .end_object();
                respond(json_reply(202, std::move(out)));
              },
              on_error(respond));
      return;
    }
    default:
      respond(failure(404, "not_found", "no such resource"));
      return;
  }
}

void serve(self_ptr self, const api::route& route, const api_call& call, responder respond) {
  auto& st = self->state;
  const auto& h = st.handles;
  switch (route.kind) {
    case api::route_kind::health: {
      const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - st.started)
                              .count();
      respond(json_reply(200, R"({"status":"ok","uptime_ms":)" + std::to_string(uptime) + "}"));
      return;
    }
    case api::route_kind::ready:
      serve_ready(self, std::move(respond));
      return;
    case api::route_kind::metrics:
      if (!h.prometheus_text) {
        respond(failure(404, "not_found", "metrics are not enabled"));
      } else {
        respond(http_reply{200, prometheus_content_type, h.prometheus_text(), {}});
      }
      return;
    case api::route_kind::status:
      serve_status(self, std::move(respond));
      return;
    case api::route_kind::static_file:
      serve_static(self, route.id, respond);
      return;
    case api::route_kind::elevenlabs_webhook:
      serve_webhook(self, call, respond);
      return;
    case api::route_kind::method_not_allowed:
      respond(failure(405, "method_not_allowed", call.method + " is not allowed on " + call.path));
      return;
    case api::route_kind::not_found:
      respond(failure(404, "not_found", "no such resource"));
      return;
    case api::route_kind::history:
    case api::route_kind::history_call:
      if (!h.store) {
        respond(failure(503, "store_disabled", "no call store is configured"));
        return;
      }
      if (route.kind == api::route_kind::history_call) {
        self->request(h.store, service_timeout, atom::history_v, route.id)
            .then(
                [respond](call_history& history) {
                  respond(json_reply(200, control::render_call_history(history)));
                },
                on_error(respond));
        return;
      }
      if (auto params = api::parse_history_query(call.query); !params) {
        respond(bad_request(params.error()));
      } else {
        auto query = control::to_history_query(*params);
        self->request(h.store, service_timeout, atom::history_v, query)
            .then(
                [respond, query](history_page& page) {
                  respond(json_reply(200, control::render_history_page(page, query)));
                },
                on_error(respond));
      }
      return;
    default:
      serve_calls(self, route, call, respond);
      return;
  }
}

// --- WebSocket -----------------------------------------------------------------------------------

std::string ws_error(int status, std::string_view code, std::string_view message,
                     std::string_view field = {}) {
  std::string out;
  api::json_writer w(out);
  w.begin_object().key("type").string("error").key("status").integer(status);
  w.key("error").string(code).key("message").string(message);
  if (!field.empty()) w.key("field").string(field);
  w.end_object();
  return out;
}

// {"type":"response","id":<as sent>,"status":N,"body":<the JSON answer, or the text as a string>}
std::string ws_response(const std::string& id_json, const http_reply& reply) {
  std::string out = R"({"type":"response","id":)" + id_json +
                    ",\"status\":" + std::to_string(reply.status) + ",\"body\":";
  if (reply.content_type == "application/json" && !reply.body.empty()) {
    out += reply.body;
  } else {
    api::json_writer(out).string(reply.body);
  }
  out += '}';
  return out;
}

void send_ws(self_ptr self, std::uint64_t conn, const std::string& text) {
  self->state.server->send(conn, log::redact(text));
}

void refuse(self_ptr self, std::uint64_t conn, token_check check,
            const std::string& legacy_id_json) {
  auto& client = self->state.clients[conn];
  client.refused = true;
  const bool missing = check == token_check::missing;
  const auto* code = missing ? "unauthorized" : "forbidden";
  const auto* message =
      missing ? R"(authenticate first: {"type":"auth","token":"..."})" : "the token is not valid";
  log::warn(component, "", "WebSocket client {} ({}) refused: {}", conn, client.peer,
            missing ? "no token" : "wrong token");
  if (legacy_id_json != "null") {
    send_ws(self, conn, api::legacy_status(false, message, legacy_id_json, now_unix_ms()));
  } else {
    send_ws(self, conn, ws_error(missing ? 401 : 403, code, message));
  }
  self->state.server->close(conn, 1008, code);
}

void subscribe(self_ptr self, std::uint64_t conn, const api::ws_subscribe& request) {
  auto& client = self->state.clients[conn];
  if (!request.level.empty()) {
    const auto level = parse_log_level(request.level);
    if (!level) {
      send_ws(self, conn,
              ws_error(400, "bad_request", "level: expected trace, debug, info, warn or error",
                       "level"));
      return;
    }
    client.sub.min_level = *level;
  }
  for (auto s : request.streams)
    client.sub.streams[static_cast<std::size_t>(s)] = request.subscribe;
  if (request.subscribe) client.sub.call = request.call;
  self->state.server->subscribe(conn, client.sub);
  std::string out;
  api::json_writer w(out);
  w.begin_object().key("type").string("subscribed").key("streams").begin_array();
  for (auto s :
       {api::stream::logs, api::stream::events, api::stream::transcripts, api::stream::metrics}) {
    if (client.sub.streams[static_cast<std::size_t>(s)]) w.string(api::to_string(s));
  }
  w.end_array().key("level").string(to_string(client.sub.min_level));
  w.key("call").string(client.sub.call).end_object();
  send_ws(self, conn, out);
}

void legacy(self_ptr self, std::uint64_t conn, const api::legacy_request& request) {
  const auto id = request.request_id_json;
  const auto answer = [self, conn, id](bool ok, const std::string& message,
                                       const std::string& extra = {}) {
    send_ws(self, conn, api::legacy_status(ok, message, id, now_unix_ms(), extra));
  };
  if (request.action == "ping") {
    answer(true, "pong");
    return;
  }
  if (request.action != "start_call") {
    answer(false, "unknown action '" + request.action + "'");
    return;
  }
  auto params = api::parse_legacy_start_call(request.params_json);
  if (!params) {
    answer(false, params.error().field + ": " + params.error().message);
    return;
  }
  auto& st = self->state;
  if (!st.handles.ami) {
    answer(false, "AMI is disabled (no ASTERISK_HOST)");
    return;
  }
  if (!st.handles.registry) {
    answer(false, "the call registry is not running");
    return;
  }
  self->request(st.handles.registry, service_timeout, atom::originate_v,
                control::to_originate_request(std::move(*params), pool_by_default(*st.config)))
      .then(
          [answer](prepared_call& prepared) {
            log::info(component, prepared.uuid, "outbound call queued (legacy start_call)");
            std::string extra = "\"callId\":";
            api::json_writer(extra).string(prepared.uuid);
            answer(true, "call started", extra);
          },
          [answer](caf::error& e) { answer(false, control::describe_failure(e).message); });
}

void on_ws_message(self_ptr self, std::uint64_t conn, const std::string& text) {
  auto& st = self->state;
  auto it = st.clients.find(conn);
  if (it == st.clients.end() || it->second.refused) return;
  auto parsed = api::parse_ws_message(text);
  if (!it->second.authenticated) {
    const std::optional<std::string_view> token =
        parsed && parsed->token ? std::optional<std::string_view>(*parsed->token) : std::nullopt;
    const auto check = check_token(*st.config, token);
    if (check != token_check::ok) {
      refuse(self, conn, check, api::legacy_request_id(text));
      return;
    }
    it->second.authenticated = true;
    log::debug(component, "", "WebSocket client {} ({}) authenticated", conn, it->second.peer);
  }
  if (!parsed) {
    const auto id = api::legacy_request_id(text);
    const auto& e = parsed.error();
    if (id != "null") {
      send_ws(self, conn,
              api::legacy_status(false, e.field.empty() ? e.message : e.field + ": " + e.message,
                                 id, now_unix_ms()));
    } else {
      send_ws(self, conn,
              ws_error(400, "bad_request", e.field.empty() ? e.message : e.field + ": " + e.message,
                       e.field));
    }
    return;
  }
  auto& body = parsed->body;
  if (std::holds_alternative<api::ws_auth>(body)) {
    send_ws(self, conn, R"({"type":"auth","ok":true})");
  } else if (const auto* sub = std::get_if<api::ws_subscribe>(&body)) {
    subscribe(self, conn, *sub);
  } else if (const auto* request = std::get_if<api::ws_request>(&body)) {
    const auto id = request->id_json;
    responder respond = [self, conn, id](const http_reply& reply) {
      send_ws(self, conn, ws_response(id, reply));
    };
    auto target = api::parse_target(request->target);
    if (!target) {
      respond(bad_request(target.error()));
      return;
    }
    api_call call{request->method,    std::move(target->path), std::move(target->query),
                  "application/json", request->body,           {},
                  it->second.peer};
    const auto route = api::match_route(call.method, call.path);
    serve(self, route, call, std::move(respond));
  } else if (const auto* old = std::get_if<api::legacy_request>(&body)) {
    legacy(self, conn, *old);
  }
}

}  // namespace

control_api_state::~control_api_state() {
  if (server) server->stop();
}

control_api_actor::behavior_type control_api(
    control_api_actor::stateful_pointer<control_api_state> self,
    std::shared_ptr<const settings> config, control_api_handles handles,
    std::shared_ptr<control::http_server> server) {
  self->state.config = std::move(config);
  self->state.handles = std::move(handles);
  self->state.server = std::move(server);
  self->state.started = std::chrono::steady_clock::now();
  if (self->state.handles.metrics_snapshot) {
    self->delayed_send(self, metrics_period, atom::tick_v);
  }
  return {
      [self](control::http_request& request) {
        responder respond = [srv = self->state.server, id = request.id,
                             what = request.method + " " + request.path,
                             peer = request.peer](http_reply reply) {
          log::debug(component, "", "{} from {}: {}", what, peer, reply.status);
          reply.body = log::redact(reply.body);
          srv->respond(id, std::move(reply));
        };
        const auto route = api::match_route(request.method, request.path);
        if (api::needs_token(route.kind)) {
          const auto check =
              check_token(*self->state.config, api::bearer_token(request.authorization));
          if (check != token_check::ok) {
            respond(auth_failure(check));
            return;
          }
        }
        api_call call{std::move(request.method), std::move(request.path),
                      std::move(request.query),  std::move(request.content_type),
                      std::move(request.body),   std::move(request.signature),
                      std::move(request.peer)};
        serve(self, route, call, std::move(respond));
      },
      [self](control::ws_connected& event) {
        auto& st = self->state;
        auto& client = st.clients[event.conn];
        client.peer = std::move(event.peer);
        log::debug(component, "", "WebSocket client {} connected from {}", event.conn, client.peer);
        if (event.authorization.empty()) {
          client.authenticated = check_token(*st.config, std::nullopt) == token_check::ok;
          // An idle unauthenticated socket must not hold a connection slot forever.
          if (!client.authenticated)
            self->delayed_send(self, ws_auth_timeout, atom::timeout_v, event.conn);
          return;
        }
        const auto check = check_token(*st.config, api::bearer_token(event.authorization));
        if (check == token_check::ok) {
          client.authenticated = true;
        } else {
          refuse(self, event.conn, check, "null");
        }
      },
      [self](control::ws_received& message) { on_ws_message(self, message.conn, message.text); },
      [self](atom::timeout, std::uint64_t conn) {
        auto& st = self->state;
        auto it = st.clients.find(conn);
        if (it == st.clients.end() || it->second.authenticated || it->second.refused) return;
        refuse(self, conn, token_check::missing, "null");
      },
      [self](control::ws_disconnected& event) {
        log::debug(component, "", "WebSocket client {} disconnected", event.conn);
        self->state.clients.erase(event.conn);
      },
      [self](const call_update& update) {
        auto& srv = *self->state.server;
        const auto s = api::stream_of_event(update.event.kind);
        if (!srv.has_subscribers(s)) return;
        srv.publish(s, update.uuid, log::redact(control::render_call_update(update)));
      },
      [self](atom::tick) {
        auto& st = self->state;
        self->delayed_send(self, metrics_period, atom::tick_v);
        if (!st.server->has_subscribers(api::stream::metrics)) return;
        auto snapshot = elevenlabs::json_object::parse(st.handles.metrics_snapshot());
        if (!snapshot) {
          log::debug(component, "", "metrics snapshot is not a JSON object; not published");
          return;
        }
        st.server->publish(
            api::stream::metrics, {},
            log::redact(R"({"type":"metrics","ts":)" + std::to_string(now_unix_ms()) +
                        ",\"data\":" + snapshot->text() + "}"));
      },
  };
}

expected<running_control_api, std::string> start_control_api(caf::actor_system& system,
                                                             std::shared_ptr<const settings> config,
                                                             control_api_handles handles) {
  control::http_server_options options;
  options.bind = config->api_bind;
  options.port = config->api_port;
  options.tls_cert = config->api_tls_cert;
  options.tls_key = config->api_tls_key;
  options.max_body = config->api_max_body;
  options.max_ws_message = config->api_max_body;
  auto server = std::make_shared<control::http_server>(std::move(options));
  auto actor = system.spawn(control_api, config, std::move(handles), server);
  auto port = server->start(caf::actor_cast<caf::actor>(actor));
  if (!port) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return unexpected{port.error()};
  }
  log::info(component, "", "control API listening on {}:{}{}", config->api_bind, *port,
            server->tls() ? " (HTTPS/WSS)" : "");
  return running_control_api{actor, *port, server->tls()};
}

}  // namespace cb
