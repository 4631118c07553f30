#include "test/control/fixture.hpp"

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/make_message.hpp>
#include <caf/send.hpp>

#include <stdexcept>

#include "actors/log.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::test {

namespace {

call_summary summary(std::string uuid, std::int64_t started) {
  call_summary s;
  s.uuid = std::move(uuid);
  s.agent_id = "agent_1";
  s.conversation_id = "conv_" + s.uuid;
  s.state = call_phase::active;
  s.source = context_source::prepared;
  s.listen_port = 5050;
  s.started_unix_ms = started;
  s.duration_ms = 5000;
  s.first_word_ms = 640;
  s.frames_in = 250;
  s.frames_out = 240;
  s.late_frames = 1;
  s.caller_level_dbfs = -20.5;
  s.agent_level_dbfs = -18.0;
  s.channel = "PJSIP/100-0001";
  s.caller_id = "100";
  s.called_number = "200";
  // A service that leaked a secret into a value: the API must still never show it.
  s.transfer_target = "leaked " + std::string(elevenlabs_key);
  return s;
}

prepared_call prepared(std::string uuid, bool pool) {
  return prepared_call{std::move(uuid), "127.0.0.1",
                       static_cast<std::uint16_t>(pool ? 5052 : 5050)};
}

caf::behavior fake_registry(caf::event_based_actor* /*self*/,
                            const std::shared_ptr<recorder>& record) {
  return {
      [](atom::list) {
        return std::vector<call_summary>{summary("c2", 2000), summary("c1", 1000)};
      },
      [](atom::list, const std::string& uuid) -> caf::result<call_detail> {
        if (uuid != "c1") return bridge_error(bridge_errc::unknown_call, "no live call " + uuid);
        call_detail detail;
        detail.summary = summary("c1", 1000);
        detail.events = {{"user_transcript", "hello", 1},
                         {"agent_response", "your code is " + std::string(api_token), 2}};
        return detail;
      },
      [record](atom::prepare, const call_context& context, bool pool) {
        record->with([&](recorded& r) { r.prepared.emplace_back(context, pool); });
        return prepared("p-1", pool);
      },
      [record](atom::originate, const originate_request& request) -> caf::result<prepared_call> {
        record->with([&](recorded& r) { r.originated.push_back(request); });
        if (request.number == "down") {
          return bridge_error(bridge_errc::ami_not_connected, "AMI link is down");
        }
        return prepared("o-1", request.want_pool_port);
      },
      [record](atom::redirect, const std::string& channel, const call_context& context) {
        record->with([&](recorded& r) { r.redirected.emplace_back(channel, context); });
        return prepared("r-1", false);
      },
      [record](atom::transfer, const std::string& uuid,
               const transfer_request& request) -> caf::result<std::string> {
        record->with([&](recorded& r) { r.transfers.emplace_back(uuid, request); });
        if (uuid != "c1") return bridge_error(bridge_errc::unknown_call, "no live call " + uuid);
        return std::string("from-internal,200,1");
      },
      [record](atom::end, const std::string& uuid) -> caf::result<bool> {
        record->with([&](recorded& r) { r.ended.push_back(uuid); });
        if (uuid != "c1") return bridge_error(bridge_errc::unknown_call, "no live call " + uuid);
        return true;
      },
      [record](atom::say, const std::string& uuid, const std::string& type,
               const std::string& text) -> caf::result<bool> {
        record->with([&](recorded& r) { r.said.emplace_back(uuid, type, text); });
        if (uuid != "c1") return bridge_error(bridge_errc::unknown_call, "no live call " + uuid);
        return true;
      },
  };
}

// A service that takes every request and never answers.
class silent_service : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override {
    set_default_handler(caf::drop);
    return {[](const std::string&) {}};  // a behavior, so the actor stays up
  }
};

caf::behavior fake_ami(caf::event_based_actor* /*self*/, ami_link_state state) {
  return {
      [state](atom::status) {
        ami_status status;
        status.state = state;
        status.server = "pbx:5038";
        status.banner_version = "11.0.0";
        status.last_error = "login with " + std::string(ami_secret) + " refused";
        status.connects = 3;
        status.channels = 2;
        return status;
      },
  };
}

call_record stored_call() {
  call_record r;
  r.uuid = "c1";
  r.conversation_id = "conv_c1";
  r.agent_id = "agent_1";
  r.caller_id = "100";
  r.dynamic_variables_json = R"({"lead_id":42})";
  r.started_unix_ms = 1000;
  r.ended_unix_ms = 61000;
  r.end_reason = "caller hung up";
  return r;
}

caf::behavior fake_store(caf::event_based_actor* /*self*/,
                         const std::shared_ptr<recorder>& record) {
  return {
      [record](const store_record& stored) {
        record->with([&](recorded& r) { r.stored.push_back(stored); });
      },
      [record](atom::history, const history_query& query) {
        record->with([&](recorded& r) { r.history_queries.push_back(query); });
        return history_page{{stored_call()}, 7};
      },
      [](atom::history, const std::string& id) -> caf::result<call_history> {
        if (id != "c1") return bridge_error(bridge_errc::unknown_call, "no call " + id);
        call_history history;
        history.call = stored_call();
        history.transcript = {
            {"c1", "user", "my password is " + std::string(ami_secret), 1, 800, false, false},
            {"c1", "agent", "noted", 2, 1500, true, false}};
        history.tool_calls = {
            {"c1", "t1", "transfer_call", R"({"destination":"200"})", "ok", false, 2000}};
        history.dtmf = {{"c1", "5", "caller", 2500}};
        post_call_record post;
        post.conversation_id = "conv_c1";
        post.kind = "post_call_transcription";
        post.analysis_json = R"({"call_successful":"success"})";
        post.cost = 0.25;
        history.post_call = post;
        return history;
      },
      [](atom::status) {
        store_status status;
        status.backend = "sqlite";
        status.database_up = true;
        status.written = 12;
        return status;
      },
  };
}

// (CAF 0.17 spawns a function without arguments through a null pointer, which UBSan reports, so
// the figures are arguments.)
caf::behavior fake_ports(caf::event_based_actor* /*self*/, std::uint32_t leased,
                         std::uint32_t total) {
  return {
      [leased, total](atom::stats) { return std::make_tuple(leased, total); },
  };
}

const elevenlabs::detail::json_value* walk(const elevenlabs::detail::json_value& root,
                                           std::initializer_list<json_step> path) {
  const auto* v = &root;
  for (const auto& step : path) {
    if (step.index < 0) {
      if (!v->IsObject()) return nullptr;
      const elevenlabs::detail::json_value* next = nullptr;
      for (const auto& m : v->GetObject()) {
        if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == step.name) {
          next = &m.value;
          break;
        }
      }
      if (next == nullptr) return nullptr;
      v = next;
    } else {
      const auto index = static_cast<rapidjson::SizeType>(step.index);
      if (!v->IsArray() || index >= v->Size()) return nullptr;
      v = &(*v)[index];
    }
  }
  return v;
}

}  // namespace

caf::error bridge_error(bridge_errc code, std::string detail) {
  return caf::error{static_cast<std::uint8_t>(code), caf::atom("callbridge"),
                    caf::make_message(std::move(detail))};
}

fixture::fixture(fixture_options options) {
  caf_config.add_message_types<caf::id_block::callbridge>();
  system = std::make_unique<caf::actor_system>(caf_config);
  config->api_bind = "127.0.0.1";
  config->api_port = 0;
  if (options.with_token) config->api_token = std::string(api_token);
  config->elevenlabs_api_key = std::string(elevenlabs_key);
  config->asterisk_pass = std::string(ami_secret);
  config->webhook_secret = std::string(webhook_secret);
  config->api_max_body = options.max_body;
  config->api_tls_cert = options.tls_cert;
  config->api_tls_key = options.tls_key;
  config->audiosocket_port_enabled = options.shared_port;
  tls = !options.tls_cert.empty();
  log::configure(log_level::debug, log_format::text, config->secrets());
  log::set_output(nullptr);

  control_api_handles handles;
  auto registry = system->spawn(fake_registry, record);
  fakes.push_back(registry);
  handles.registry = caf::actor_cast<call_registry_actor>(registry);
  const auto service = [&](caf::actor fake) {
    return options.silent_services ? caf::actor{system->spawn<silent_service>()} : std::move(fake);
  };
  if (options.with_ami) {
    auto ami = service(system->spawn(fake_ami, options.ami_state));
    fakes.push_back(ami);
    handles.ami = caf::actor_cast<ami_client_actor>(ami);
  }
  if (options.with_store) {
    auto store = service(system->spawn(fake_store, record));
    fakes.push_back(store);
    handles.store = caf::actor_cast<call_store_actor>(store);
  }
  if (options.with_ports) {
    auto ports = service(system->spawn(fake_ports, std::uint32_t{1}, std::uint32_t{8}));
    fakes.push_back(ports);
    handles.ports = caf::actor_cast<port_allocator_actor>(ports);
  }
  handles.prometheus_text = [] {
    return std::string("# TYPE callbridge_calls_active gauge\ncallbridge_calls_active 2\n");
  };
  handles.metrics_snapshot = [] { return std::string(R"({"calls_active":2})"); };
  handles.audiosocket_ports = [ports = options.audiosocket_ports] { return ports; };
  handles.assets = {{"/index.html", "text/html; charset=utf-8", "<!doctype html><title>cb</title>"},
                    {"/app.js", "text/javascript", "console.log('cb')"}};
  auto started = start_control_api(*system, config, std::move(handles));
  if (!started) throw std::runtime_error("control API did not start: " + started.error());
  api = *started;
}

fixture::~fixture() {
  caf::anon_send_exit(api.actor, caf::exit_reason::user_shutdown);
  for (const auto& fake : fakes)
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
}

http_answer fixture::call(std::string_view method, std::string_view target, std::string_view body,
                          const headers& extra) const {
  auto all = auth();
  all.insert(all.end(), extra.begin(), extra.end());
  return http(port(), method, target, body, all, tls);
}

std::unique_ptr<ws_client> fixture::websocket() {
  return std::make_unique<ws_client>(port(), auth(), tls);
}

std::string json_at(const std::string& json, std::initializer_list<json_step> path) {
  std::string buffer = elevenlabs::detail::padded_copy(json);
  elevenlabs::detail::parsed_document document;
  if (document.parse_object_in_place(buffer)) return "<invalid json>";
  const auto* v = walk(document.root(), path);
  if (v == nullptr) return "<absent>";
  std::string out;
  api::json_writer(out).value(*v);
  return out;
}

std::vector<std::string> json_keys(const std::string& json, std::initializer_list<json_step> path) {
  std::string buffer = elevenlabs::detail::padded_copy(json);
  elevenlabs::detail::parsed_document document;
  std::vector<std::string> keys;
  if (document.parse_object_in_place(buffer)) return keys;
  const auto* v = walk(document.root(), path);
  if (v == nullptr || !v->IsObject()) return keys;
  for (const auto& m : v->GetObject())
    keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
  return keys;
}

}  // namespace cb::test
