#include "actors/control/api_json.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

#include <algorithm>
#include <optional>
#include <utility>

#include "actors/types.hpp"

namespace cb::control {

namespace {

using api::json_writer;

// The API's names: snake_case, where to_string(context_source) reads as words for the logs.
const char* source_name(context_source source) {
  switch (source) {
    case context_source::prepared:
      return "prepared";
    case context_source::port_binding:
      return "port_binding";
    case context_source::default_agent:
      return "default_agent";
  }
  return "unknown";
}

// Stored JSON goes out as JSON when it is an object, else as the string it is.
void write_stored_json(json_writer& w, const std::string& text) {
  if (text.empty()) {
    w.null();
    return;
  }
  if (auto object = elevenlabs::json_object::parse(text)) {
    w.raw(*object);
  } else {
    w.string(text);
  }
}

void write_summary_members(json_writer& w, const call_summary& s) {
  w.key("uuid").string(s.uuid);
  w.key("agent_id").string(s.agent_id);
  w.key("conversation_id").string(s.conversation_id);
  w.key("state").string(to_string(s.state));
  w.key("source").string(source_name(s.source));
  w.key("listen_port").integer(s.listen_port);
  w.key("started_unix_ms").integer(s.started_unix_ms);
  w.key("duration_ms").integer(s.duration_ms);
  w.key("first_word_ms").integer(s.first_word_ms);
  w.key("frames_in").unsigned_integer(s.frames_in);
  w.key("frames_out").unsigned_integer(s.frames_out);
  w.key("late_frames").unsigned_integer(s.late_frames);
  w.key("underruns").unsigned_integer(s.underruns);
  w.key("caller_level_dbfs").number(s.caller_level_dbfs);
  w.key("agent_level_dbfs").number(s.agent_level_dbfs);
  w.key("channel").string(s.channel);
  w.key("caller_id").string(s.caller_id);
  w.key("called_number").string(s.called_number);
  w.key("transfer_target").string(s.transfer_target);
}

void write_event(json_writer& w, const call_event& e) {
  w.begin_object()
      .key("kind")
      .string(e.kind)
      .key("text")
      .string(e.text)
      .key("event_id")
      .integer(e.event_id)
      .end_object();
}

void write_record(json_writer& w, const call_record& r) {
  w.begin_object();
  w.key("uuid").string(r.uuid);
  w.key("conversation_id").string(r.conversation_id);
  w.key("agent_id").string(r.agent_id);
  w.key("channel").string(r.channel);
  w.key("caller_id").string(r.caller_id);
  w.key("called_number").string(r.called_number);
  w.key("lead_id").string(r.lead_id);
  w.key("campaign").string(r.campaign);
  w.key("dynamic_variables");
  write_stored_json(w, r.dynamic_variables_json);
  w.key("started_unix_ms").integer(r.started_unix_ms);
  w.key("answered_unix_ms").integer(r.answered_unix_ms);
  w.key("ended_unix_ms").integer(r.ended_unix_ms);
  w.key("end_reason").string(r.end_reason);
  w.key("end_detail").string(r.end_detail);
  w.key("transfer_target").string(r.transfer_target);
  w.key("frames_in").unsigned_integer(r.frames_in);
  w.key("frames_out").unsigned_integer(r.frames_out);
  w.key("late_frames").unsigned_integer(r.late_frames);
  w.key("underruns").unsigned_integer(r.underruns);
  w.key("first_word_ms").integer(r.first_word_ms);
  w.end_object();
}

void write_post_call(json_writer& w, const post_call_record& p) {
  w.begin_object();
  w.key("conversation_id").string(p.conversation_id);
  w.key("agent_id").string(p.agent_id);
  w.key("kind").string(p.kind);
  w.key("event_unix_s").integer(p.event_unix_s);
  w.key("summary").string(p.summary);
  w.key("analysis");
  write_stored_json(w, p.analysis_json);
  w.key("termination_reason").string(p.termination_reason);
  w.key("cost");
  if (p.cost) {
    w.number(*p.cost);
  } else {
    w.null();
  }
  w.key("payload");
  write_stored_json(w, p.payload_json);
  w.end_object();
}

std::string error_detail(const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return {};
}

struct status_code {
  int status;
  const char* code;
  const char* message;
};

status_code classify(bridge_errc e) {
  switch (e) {
    case bridge_errc::unknown_call:
      return {404, "unknown_call", "no such call"};
    case bridge_errc::unknown_port:
      return {404, "unknown_port", "no such AudioSocket port"};
    case bridge_errc::duplicate_call:
      return {409, "duplicate_call", "a call with this id is live"};
    case bridge_errc::no_channel:
      return {409, "no_channel", "the call's Asterisk channel is not known"};
    case bridge_errc::pool_exhausted:
      return {503, "pool_exhausted", "every AudioSocket pool port is in use"};
    case bridge_errc::shutting_down:
      return {503, "shutting_down", "callbridge is stopping"};
    case bridge_errc::store_unavailable:
      return {503, "store_unavailable", "the call store's database is unavailable"};
    case bridge_errc::ami_disabled:
      return {503, "ami_disabled", "AMI is disabled (no ASTERISK_HOST)"};
    case bridge_errc::ami_not_connected:
      return {503, "ami_not_connected", "AMI is not connected"};
    case bridge_errc::ami_timeout:
      return {504, "ami_timeout", "Asterisk did not answer in time"};
    case bridge_errc::ami_action_failed:
      return {502, "ami_action_failed", "Asterisk refused the action"};
    case bridge_errc::ami_bad_action:
    case bridge_errc::bad_request:
      return {400, "bad_request", "bad request"};
    case bridge_errc::malformed_frame:
    case bridge_errc::no_call_id:
    case bridge_errc::out_of_descriptors:
      break;
  }
  return {500, "internal_error", "internal error"};
}

}  // namespace

call_context to_call_context(api::call_setup setup) {
  call_context context;
  context.agent_id = std::move(setup.agent_id);
  context.dynamic_variables = std::move(setup.dynamic_variables);
  context.overrides = std::move(setup.overrides);
  context.source = context_source::prepared;
  return context;
}

bool wants_pool_port(const api::call_setup& setup, bool pool_by_default) {
  return setup.pool_port.value_or(pool_by_default);
}

originate_request to_originate_request(api::originate_params params, bool pool_by_default) {
  originate_request request;
  request.number = std::move(params.number);
  request.channel = std::move(params.channel);
  request.caller_id = std::move(params.caller_id);
  request.want_pool_port = wants_pool_port(params.setup, pool_by_default);
  request.context = to_call_context(std::move(params.setup));
  return request;
}

transfer_request to_transfer_request(api::transfer_params params) {
  transfer_request request;
  request.parameters = std::move(params.parameters);
  request.context = std::move(params.context);
  request.exten = std::move(params.exten);
  request.priority = std::move(params.priority);
  return request;
}

history_query to_history_query(const api::history_params& params) {
  history_query query;
  query.from_unix_ms = params.from_unix_ms;
  query.to_unix_ms = params.to_unix_ms;
  query.agent_id = params.agent_id;
  query.text = params.text;
  query.limit = params.limit;
  query.offset = params.offset;
  return query;
}

std::string render_calls(std::vector<call_summary> calls) {
  std::stable_sort(calls.begin(), calls.end(), [](const call_summary& a, const call_summary& b) {
    return a.started_unix_ms < b.started_unix_ms;
  });
  std::string out;
  json_writer w(out);
  w.begin_object().key("calls").begin_array();
  for (const auto& call : calls) {
    w.begin_object();
    write_summary_members(w, call);
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

std::string render_call(const call_detail& detail) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  write_summary_members(w, detail.summary);
  w.key("events").begin_array();
  for (const auto& event : detail.events)
    write_event(w, event);
  w.end_array().end_object();
  return out;
}

std::string render_prepared(const prepared_call& prepared) {
  std::string out;
  json_writer w(out);
  const bool v6 = prepared.host.find(':') != std::string::npos;
  const auto address =
      (v6 ? "[" + prepared.host + "]" : prepared.host) + ":" + std::to_string(prepared.port);
  w.begin_object()
      .key("uuid")
      .string(prepared.uuid)
      .key("host")
      .string(prepared.host)
      .key("port")
      .integer(prepared.port)
      .key("address")
      .string(address)
      .end_object();
  return out;
}

void write_ami_status(json_writer& w, const ami_status& status) {
  w.begin_object();
  w.key("state").string(to_string(status.state));
  w.key("server").string(status.server);
  w.key("asterisk_version").string(status.banner_version);
  w.key("last_error").string(status.last_error);
  w.key("connects").unsigned_integer(status.connects);
  w.key("failures").unsigned_integer(status.failures);
  w.key("state_since_unix_ms").integer(status.state_since_unix_ms);
  w.key("channels").unsigned_integer(status.channels);
  w.key("watched").unsigned_integer(status.watched);
  w.key("actions_sent").unsigned_integer(status.actions_sent);
  w.key("events_seen").unsigned_integer(status.events_seen);
  w.end_object();
}

void write_store_status(json_writer& w, const store_status& status) {
  w.begin_object();
  w.key("backend").string(status.backend);
  w.key("database_up").boolean(status.database_up);
  w.key("last_error").string(status.last_error);
  w.key("written").unsigned_integer(status.written);
  w.key("queued").unsigned_integer(status.queued);
  w.key("journaled").unsigned_integer(status.journaled);
  w.key("rejected").unsigned_integer(status.rejected);
  w.key("dropped").unsigned_integer(status.dropped);
  w.end_object();
}

std::string render_history_page(const history_page& page, const history_query& query) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("calls").begin_array();
  for (const auto& record : page.calls)
    write_record(w, record);
  w.end_array();
  w.key("total").unsigned_integer(page.total);
  w.key("limit").unsigned_integer(query.limit);
  w.key("offset").unsigned_integer(query.offset);
  w.end_object();
  return out;
}

std::string render_call_history(const call_history& history) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("call");
  write_record(w, history.call);
  w.key("transcript").begin_array();
  for (const auto& t : history.transcript) {
    w.begin_object();
    w.key("role").string(t.role);
    w.key("text").string(t.text);
    w.key("event_id").integer(t.event_id);
    w.key("offset_ms").integer(t.offset_ms);
    w.key("interrupted").boolean(t.interrupted);
    w.key("corrected").boolean(t.corrected);
    w.end_object();
  }
  w.end_array().key("tool_calls").begin_array();
  for (const auto& t : history.tool_calls) {
    w.begin_object();
    w.key("tool_call_id").string(t.tool_call_id);
    w.key("name").string(t.name);
    w.key("parameters");
    write_stored_json(w, t.parameters_json);
    w.key("result").string(t.result);
    w.key("is_error").boolean(t.is_error);
    w.key("offset_ms").integer(t.offset_ms);
    w.end_object();
  }
  w.end_array().key("dtmf").begin_array();
  for (const auto& d : history.dtmf) {
    w.begin_object();
    w.key("digits").string(d.digits);
    w.key("direction").string(d.direction);
    w.key("offset_ms").integer(d.offset_ms);
    w.end_object();
  }
  w.end_array().key("post_call");
  if (history.post_call) {
    write_post_call(w, *history.post_call);
  } else {
    w.null();
  }
  w.end_object();
  return out;
}

std::string render_call_update(const call_update& update) {
  const bool transcript = api::stream_of_event(update.event.kind) == api::stream::transcripts;
  std::string out;
  json_writer w(out);
  w.begin_object()
      .key("type")
      .string(transcript ? "transcript" : "event")
      .key("call")
      .string(update.uuid)
      .key("kind")
      .string(update.event.kind)
      .key("text")
      .string(update.event.text)
      .key("event_id")
      .integer(update.event.event_id)
      .key("ts")
      .integer(update.unix_ms)
      .end_object();
  return out;
}

api_failure describe_failure(const caf::error& error) {
  if (error.category() == caf::atom("callbridge")) {
    const auto c = classify(static_cast<bridge_errc>(error.code()));
    auto detail = error_detail(error);
    return {c.status, c.code, detail.empty() ? std::string(c.message) : std::move(detail)};
  }
  if (error.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(error.code())) {
      case caf::sec::request_timeout:
        return {504, "timeout", "the bridge did not answer in time"};
      case caf::sec::request_receiver_down:
        return {503, "unavailable", "the service is not running"};
      default:
        break;
    }
  }
  return {500, "internal_error", caf::to_string(error)};
}

http_reply error_reply(const caf::error& error) {
  const auto failure = describe_failure(error);
  return json_reply(failure.status, api::error_body(failure.code, failure.message));
}

http_reply json_reply(int status, std::string body) {
  return http_reply{status, "application/json", std::move(body), {}};
}

}  // namespace cb::control
