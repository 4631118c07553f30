#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/control_api.hpp"

namespace api = cb::api;
using api::route_kind;

namespace {

template <class T>
api::request_error error_of(const cb::expected<T, api::request_error>& result) {
  REQUIRE_FALSE(result.has_value());
  return result.error();
}

}  // namespace

TEST_CASE("control_api percent_decode decodes escapes and optionally plus", "[control_api]") {
  CHECK(*api::percent_decode("a%20b+c%2Fd", true) == "a b c/d");
  CHECK(*api::percent_decode("a%20b+c", false) == "a b+c");
  CHECK(*api::percent_decode("%e2%82%AC", false) == "\xE2\x82\xAC");
  CHECK(error_of(api::percent_decode("100%", false)).message == "bad percent-escape at offset 3");
  CHECK(error_of(api::percent_decode("%4", false)).message == "bad percent-escape at offset 0");
  CHECK(error_of(api::percent_decode("%zz", false)).message == "bad percent-escape at offset 0");
}

TEST_CASE("control_api parse_form keeps order, repeats and empty values", "[control_api]") {
  const auto form = api::parse_form("a=1&b=&c&&d=x%26y&a=2&e+f=g+h");
  REQUIRE(form.has_value());
  const api::field_list expected = {{"a", "1"},   {"b", ""},  {"c", ""},
                                    {"d", "x&y"}, {"a", "2"}, {"e f", "g h"}};
  CHECK(*form == expected);
  CHECK(*api::find_field(*form, "a") == "1");
  CHECK(api::find_field(*form, "z") == nullptr);
  CHECK(api::parse_form("")->empty());
  CHECK(error_of(api::parse_form("ok=1&lead=%G1")).field == "lead");
}

TEST_CASE("control_api parse_target splits and decodes path and query", "[control_api]") {
  const auto target = api::parse_target("/api/history?agent=agent_1&q=refund+please#top");
  REQUIRE(target.has_value());
  CHECK(target->path == "/api/history");
  const api::field_list query = {{"agent", "agent_1"}, {"q", "refund please"}};
  CHECK(target->query == query);
  CHECK(api::parse_target("/api/calls/PJSIP%2F100-0001/redirect")->path ==
        "/api/calls/PJSIP/100-0001/redirect");
  CHECK(error_of(api::parse_target("api/calls")).field == "path");
  CHECK(error_of(api::parse_target("/a%2")).field == "path");
}

TEST_CASE("control_api match_route maps every endpoint", "[control_api]") {
  struct row {
    std::string_view method;
    std::string_view path;
    route_kind kind;
    std::string_view id;
  };
  const row rows[] = {
      {"GET", "/healthz", route_kind::health, ""},
      {"GET", "/readyz", route_kind::ready, ""},
      {"GET", "/metrics", route_kind::metrics, ""},
      {"GET", "/api/status", route_kind::status, ""},
      {"GET", "/api/calls", route_kind::list_calls, ""},
      {"POST", "/api/calls", route_kind::prepare_call, ""},
      {"POST", "/api/calls/originate", route_kind::originate_call, ""},
      {"GET", "/api/calls/abc", route_kind::get_call, "abc"},
      {"DELETE", "/api/calls/abc", route_kind::hangup_call, "abc"},
      {"POST", "/api/calls/PJSIP/100-0001/redirect", route_kind::redirect_call, "PJSIP/100-0001"},
      {"POST", "/api/calls/abc/transfer", route_kind::transfer_call, "abc"},
      {"POST", "/api/calls/abc/message", route_kind::message_call, "abc"},
      {"GET", "/api/history", route_kind::history, ""},
      {"GET", "/api/history/abc", route_kind::history_call, "abc"},
      {"POST", "/webhooks/elevenlabs", route_kind::elevenlabs_webhook, ""},
      {"GET", "/", route_kind::static_file, "/"},
      {"GET", "/app.js", route_kind::static_file, "/app.js"},
      {"POST", "/healthz", route_kind::method_not_allowed, ""},
      {"PUT", "/api/calls", route_kind::method_not_allowed, ""},
      {"GET", "/api/calls/originate", route_kind::method_not_allowed, ""},
      {"GET", "/api/calls/abc/transfer", route_kind::method_not_allowed, ""},
      {"POST", "/api/calls/abc", route_kind::method_not_allowed, ""},
      {"POST", "/api/calls/abc/dance", route_kind::not_found, ""},
      {"GET", "/api/calls/", route_kind::not_found, ""},
      {"GET", "/api/history/a/b", route_kind::not_found, ""},
      {"GET", "/api/nothing", route_kind::not_found, ""},
      {"GET", "/webhooks/other", route_kind::not_found, ""},
      {"POST", "/index.html", route_kind::method_not_allowed, ""},
  };
  for (const auto& r : rows) {
    INFO(r.method << " " << r.path);
    const auto matched = api::match_route(r.method, r.path);
    CHECK(matched.kind == r.kind);
    CHECK(matched.id == r.id);
  }
}

TEST_CASE("control_api needs a token everywhere but health, files and the webhook",
          "[control_api]") {
  CHECK_FALSE(api::needs_token(route_kind::health));
  CHECK_FALSE(api::needs_token(route_kind::ready));
  CHECK_FALSE(api::needs_token(route_kind::static_file));
  CHECK_FALSE(api::needs_token(route_kind::elevenlabs_webhook));
  CHECK(api::needs_token(route_kind::metrics));
  CHECK(api::needs_token(route_kind::list_calls));
  CHECK(api::needs_token(route_kind::history));
  CHECK(api::needs_token(route_kind::not_found));
}

TEST_CASE("control_api bearer_token reads the Bearer scheme only", "[control_api]") {
  CHECK(api::bearer_token("Bearer abc") == std::string_view("abc"));
  CHECK(api::bearer_token("  bearer \t abc.def  ") == std::string_view("abc.def"));
  CHECK(api::bearer_token("BEARER x") == std::string_view("x"));
  CHECK_FALSE(api::bearer_token("Basic YWJj"));
  CHECK_FALSE(api::bearer_token("Bearer"));
  CHECK_FALSE(api::bearer_token("Bearer   "));
  CHECK_FALSE(api::bearer_token("Bearerabc"));
  CHECK_FALSE(api::bearer_token(""));
}

TEST_CASE("control_api token_equals matches exactly", "[control_api]") {
  CHECK(api::token_equals("s3cret-token", "s3cret-token"));
  CHECK_FALSE(api::token_equals("s3cret-tokem", "s3cret-token"));
  CHECK_FALSE(api::token_equals("t3cret-token", "s3cret-token"));
  CHECK_FALSE(api::token_equals("s3cret", "s3cret-token"));
  CHECK_FALSE(api::token_equals("s3cret-token-and-more", "s3cret-token"));
  CHECK_FALSE(api::token_equals(std::string_view("s3cret-token\0", 13), "s3cret-token"));
  CHECK_FALSE(api::token_equals("", "s3cret-token"));
  CHECK(api::token_equals("", ""));
}

TEST_CASE("control_api format_of tells forms from JSON", "[control_api]") {
  CHECK(api::format_of("application/x-www-form-urlencoded") == api::body_format::form);
  CHECK(api::format_of("Application/X-WWW-Form-Urlencoded; charset=UTF-8") ==
        api::body_format::form);
  CHECK(api::format_of("application/json") == api::body_format::json);
  CHECK(api::format_of("") == api::body_format::json);
}

TEST_CASE("control_api parse_call_setup reads a JSON body", "[control_api]") {
  const auto setup = api::parse_call_setup(
      R"({"agent_id":"agent_7","dynamic_variables":{"lead_id":42,"name":"Ana","vip":true,"score":0.5},
          "overrides":{"agent":{"first_message":"Hola"}},"pool_port":true})",
      api::body_format::json);
  REQUIRE(setup.has_value());
  CHECK(setup->agent_id == "agent_7");
  CHECK(setup->dynamic_variables.at("lead_id") ==
        cb::elevenlabs::dynamic_variable{std::int64_t{42}});
  CHECK(setup->dynamic_variables.at("name") ==
        cb::elevenlabs::dynamic_variable{std::string("Ana")});
  CHECK(setup->dynamic_variables.at("vip") == cb::elevenlabs::dynamic_variable{true});
  CHECK(setup->dynamic_variables.at("score") == cb::elevenlabs::dynamic_variable{0.5});
  REQUIRE(setup->overrides.has_value());
  CHECK(setup->overrides->text() == R"({"agent":{"first_message":"Hola"}})");
  CHECK(setup->pool_port == true);

  const auto alias = api::parse_call_setup(R"({"conversation_config_override":{"tts":{}}})",
                                           api::body_format::json);
  REQUIRE(alias.has_value());
  CHECK(alias->overrides->text() == R"({"tts":{}})");
}

TEST_CASE("control_api parse_call_setup takes an empty body as the defaults", "[control_api]") {
  for (std::string_view body : {"", "  \r\n", "{}", "{\"agent_id\":null}"}) {
    const auto setup = api::parse_call_setup(body, api::body_format::json);
    REQUIRE(setup.has_value());
    CHECK(*setup == api::call_setup{});
  }
  CHECK(*api::parse_call_setup("", api::body_format::form) == api::call_setup{});
}

TEST_CASE("control_api builds overrides from prompt, first_message and language", "[control_api]") {
  const auto setup = api::parse_call_setup(
      R"({"prompt":"Be brief","first_message":"Hi","language":"de"})", api::body_format::json);
  REQUIRE(setup.has_value());
  CHECK(setup->overrides->text() ==
        R"({"agent":{"prompt":{"prompt":"Be brief"},"first_message":"Hi","language":"de"}})");
  const auto only_language = api::parse_call_setup("language=pt-br", api::body_format::form);
  CHECK(only_language->overrides->text() == R"({"agent":{"language":"pt-br"}})");
}

TEST_CASE("control_api parse_call_setup names the field at fault", "[control_api]") {
  const auto json = api::body_format::json;
  const auto malformed = error_of(api::parse_call_setup(R"({"agent_id": "a" "x"})", json));
  CHECK(malformed.field.empty());
  CHECK(malformed.message.rfind("malformed JSON: ", 0) == 0);
  CHECK(malformed.message.find("offset 17") != std::string::npos);
  CHECK(error_of(api::parse_call_setup("[1]", json)).message == "the body must be a JSON object");

  const api::request_error agent{"agent_id", "expected a string"};
  CHECK(error_of(api::parse_call_setup(R"({"agent_id":7})", json)) == agent);
  const api::request_error variable{"dynamic_variables.tags",
                                    "expected a string, number or boolean"};
  CHECK(error_of(api::parse_call_setup(R"({"dynamic_variables":{"ok":1,"tags":[1]}})", json)) ==
        variable);
  CHECK(error_of(api::parse_call_setup(R"({"dynamic_variables":"x"})", json)) ==
        api::request_error{"dynamic_variables", "expected an object"});
  CHECK(error_of(api::parse_call_setup(R"({"agentId":"a"})", json)) ==
        api::request_error{"agentId", "unknown field"});
  CHECK(error_of(api::parse_call_setup(R"({"overrides":[]})", json)) ==
        api::request_error{"overrides", "expected an object"});
  CHECK(
      error_of(api::parse_call_setup(R"({"overrides":{},"language":"en"})", json)) ==
      api::request_error{"language", "give overrides or prompt/first_message/language, not both"});
  CHECK(
      error_of(api::parse_call_setup(R"({"overrides":{},"conversation_config_override":{}})", json))
          .field == "conversation_config_override");
  CHECK(error_of(api::parse_call_setup(R"({"pool_port":"yes"})", json)) ==
        api::request_error{"pool_port", "expected true or false"});
}

TEST_CASE("control_api parse_call_setup reads form-encoded bodies", "[control_api]") {
  const auto form = api::body_format::form;
  const auto setup = api::parse_call_setup(
      "agent_id=agent_9&dynamic_variables%5Blead_id%5D=42&dynamic_variables[name]=Ana+Lu"
      "&overrides=%7B%22agent%22%3A%7B%22language%22%3A%22es%22%7D%7D&pool_port=yes",
      form);
  REQUIRE(setup.has_value());
  CHECK(setup->agent_id == "agent_9");
  CHECK(setup->dynamic_variables.at("lead_id") ==
        cb::elevenlabs::dynamic_variable{std::string("42")});
  CHECK(setup->dynamic_variables.at("name") ==
        cb::elevenlabs::dynamic_variable{std::string("Ana Lu")});
  CHECK(setup->overrides->text() == R"({"agent":{"language":"es"}})");
  CHECK(setup->pool_port == true);

  const auto as_json =
      api::parse_call_setup("dynamic_variables=%7B%22n%22%3A1%7D&pool_port=0", form);
  REQUIRE(as_json.has_value());
  CHECK(as_json->dynamic_variables.at("n") == cb::elevenlabs::dynamic_variable{std::int64_t{1}});
  CHECK(as_json->pool_port == false);

  CHECK(error_of(api::parse_call_setup("overrides=%7Bnope", form)).field == "overrides");
  CHECK(error_of(api::parse_call_setup("dynamic_variables=%7B%22a%22%3A%5B%5D%7D", form)) ==
        api::request_error{"dynamic_variables.a", "expected a string, number or boolean"});
  CHECK(error_of(api::parse_call_setup("pool_port=maybe", form)).field == "pool_port");
  CHECK(error_of(api::parse_call_setup("agent=x", form)) ==
        api::request_error{"agent", "unknown field"});
}

TEST_CASE("control_api parse_originate needs a number or a channel", "[control_api]") {
  const auto json = api::body_format::json;
  const auto by_number =
      api::parse_originate(R"({"number":5551234,"caller_id":"Sales <100>","agent_id":"a"})", json);
  REQUIRE(by_number.has_value());
  CHECK(by_number->number == "5551234");
  CHECK(by_number->caller_id == "Sales <100>");
  CHECK(by_number->setup.agent_id == "a");
  const auto by_channel = api::parse_originate("channel=PJSIP%2F100", api::body_format::form);
  CHECK(by_channel->channel == "PJSIP/100");
  CHECK(error_of(api::parse_originate(R"({"agent_id":"a"})", json)) ==
        api::request_error{"number", "give the number to call (or a channel)"});
  CHECK(error_of(api::parse_originate(R"({"number":true})", json)) ==
        api::request_error{"number", "expected a string or a number"});
}

TEST_CASE("control_api parse_transfer turns other members into template parameters",
          "[control_api]") {
  const auto transfer = api::parse_transfer(
      R"({"destination":200,"context":"from-internal","priority":1,"parameters":{"queue":"sales","vip":true}})",
      api::body_format::json);
  REQUIRE(transfer.has_value());
  CHECK(transfer->context == "from-internal");
  CHECK(transfer->exten.empty());
  CHECK(transfer->priority == "1");
  const std::map<std::string, std::string> parameters = {
      {"destination", "200"}, {"queue", "sales"}, {"vip", "true"}};
  CHECK(transfer->parameters == parameters);

  const auto form = api::parse_transfer("destination=300&exten=s", api::body_format::form);
  REQUIRE(form.has_value());
  CHECK(form->exten == "s");
  CHECK(form->parameters == std::map<std::string, std::string>{{"destination", "300"}});
  CHECK(error_of(api::parse_transfer(R"({"where":{"a":1}})", api::body_format::json)) ==
        api::request_error{"where", "expected a string, a number or a boolean"});
  CHECK(error_of(api::parse_transfer(R"({"parameters":{"a":[]}})", api::body_format::json)).field ==
        "parameters.a");
}

TEST_CASE("control_api parse_message defaults to a contextual update", "[control_api]") {
  const auto json = api::body_format::json;
  const auto whisper = api::parse_message(R"({"text":"Offer the discount"})", json);
  REQUIRE(whisper.has_value());
  CHECK(whisper->type == "contextual_update");
  CHECK(whisper->text == "Offer the discount");
  CHECK(api::parse_message("type=user_message&text=hello", api::body_format::form)->type ==
        "user_message");
  CHECK(error_of(api::parse_message(R"({"type":"shout","text":"x"})", json)) ==
        api::request_error{"type", "expected contextual_update or user_message"});
  CHECK(error_of(api::parse_message(R"({"text":""})", json)) ==
        api::request_error{"text", "required"});
}

TEST_CASE("control_api parse_history_query reads bounds, filters and paging", "[control_api]") {
  const auto params = api::parse_history_query({{"from", "2026-11-24T18:00:00.123Z"},
                                                {"to", "1795543300000"},
                                                {"agent", "agent_1"},
                                                {"q", "refund"},
                                                {"limit", "20"},
                                                {"offset", "40"},
                                                {"_", "ignored"}});
  REQUIRE(params.has_value());
  CHECK(params->from_unix_ms == 1795543200123);
  CHECK(params->to_unix_ms == 1795543300000);
  CHECK(params->agent_id == "agent_1");
  CHECK(params->text == "refund");
  CHECK(params->limit == 20);
  CHECK(params->offset == 40);
  CHECK(*api::parse_history_query({}) == api::history_params{});
  CHECK(error_of(api::parse_history_query({{"from", "yesterday"}})).field == "from");
  CHECK(error_of(api::parse_history_query({{"limit", "0"}})) ==
        api::request_error{"limit", "expected 1 to 500"});
  CHECK(error_of(api::parse_history_query({{"limit", "501"}})).field == "limit");
  CHECK(error_of(api::parse_history_query({{"offset", "-1"}})).field == "offset");
  CHECK(error_of(api::parse_history_query({{"from", "2000"}, {"to", "1000"}})) ==
        api::request_error{"to", "before from"});
}

TEST_CASE("control_api classifies call events into streams", "[control_api]") {
  for (std::string_view kind : {"user_transcript", "agent_response", "agent_response_correction",
                                "interruption", "client_tool_call", "agent_tool_response"}) {
    CHECK(api::stream_of_event(kind) == api::stream::transcripts);
  }
  for (std::string_view kind : {"dtmf", "call_started", "call_ended", "transfer"}) {
    CHECK(api::stream_of_event(kind) == api::stream::events);
  }
  CHECK(api::parse_stream("metrics") == api::stream::metrics);
  CHECK_FALSE(api::parse_stream("Logs"));
  CHECK(std::string(api::to_string(api::stream::transcripts)) == "transcripts");
}

TEST_CASE("control_api parse_ws_message reads auth, subscriptions and requests", "[control_api]") {
  const auto auth = api::parse_ws_message(R"({"type":"auth","token":"t0k"})");
  REQUIRE(auth.has_value());
  CHECK(std::get<api::ws_auth>(auth->body).token == "t0k");
  CHECK(auth->token == std::string("t0k"));

  const auto sub = api::parse_ws_message(
      R"({"type":"subscribe","streams":["logs","transcripts"],"level":"warn","call":"c1"})");
  REQUIRE(sub.has_value());
  const auto& s = std::get<api::ws_subscribe>(sub->body);
  CHECK(s.subscribe);
  CHECK(s.streams == std::vector<api::stream>{api::stream::logs, api::stream::transcripts});
  CHECK(s.level == "warn");
  CHECK(s.call == "c1");
  const auto unsub = api::parse_ws_message(R"({"type":"unsubscribe","streams":"metrics"})");
  CHECK_FALSE(std::get<api::ws_subscribe>(unsub->body).subscribe);
  CHECK(std::get<api::ws_subscribe>(unsub->body).streams ==
        std::vector<api::stream>{api::stream::metrics});

  const auto request = api::parse_ws_message(
      R"({"type":"request","id":7,"method":"post","path":"/api/calls","body":{"agent_id":"a"},"token":"t"})");
  REQUIRE(request.has_value());
  const auto& r = std::get<api::ws_request>(request->body);
  CHECK(r.id_json == "7");
  CHECK(r.method == "POST");
  CHECK(r.target == "/api/calls");
  CHECK(r.body == R"({"agent_id":"a"})");
  CHECK(request->token == std::string("t"));
  const auto plain =
      api::parse_ws_message(R"({"type":"request","id":"x","method":"GET","path":"/api/calls"})");
  CHECK(std::get<api::ws_request>(plain->body).id_json == "\"x\"");
  CHECK(std::get<api::ws_request>(plain->body).body == "{}");
}

TEST_CASE("control_api parse_ws_message reads the legacy shape", "[control_api]") {
  const auto legacy =
      api::parse_ws_message(R"({"action":"start_call","requestId":12,"params":{"channel":"100"}})");
  REQUIRE(legacy.has_value());
  const auto& l = std::get<api::legacy_request>(legacy->body);
  CHECK(l.action == "start_call");
  CHECK(l.request_id_json == "12");
  CHECK(l.params_json == R"({"channel":"100"})");
  const auto ping = api::parse_ws_message(R"({"action":"ping"})");
  CHECK(std::get<api::legacy_request>(ping->body).request_id_json == "null");
  CHECK(std::get<api::legacy_request>(ping->body).params_json == "{}");
}

TEST_CASE("control_api parse_ws_message names what is wrong", "[control_api]") {
  CHECK(error_of(api::parse_ws_message("{}")) == api::request_error{"type", "required"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"dance"})")) ==
        api::request_error{"type", "unknown message type 'dance'"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"auth"})")) ==
        api::request_error{"token", "required"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"subscribe","streams":["logs","audio"]})")) ==
        api::request_error{"streams[1]",
                           "unknown stream 'audio' (logs, events, transcripts or metrics)"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"subscribe"})")) ==
        api::request_error{"streams", "required"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"request","path":"/api/calls"})")) ==
        api::request_error{"method", "required"});
  CHECK(error_of(api::parse_ws_message(R"({"type":"request","method":"GET","path":"/","body":1})"))
            .field == "body");
  CHECK(error_of(api::parse_ws_message(R"({"action":"ping","params":[]})")).field == "params");
  CHECK(error_of(api::parse_ws_message("not json")).message.rfind("malformed JSON", 0) == 0);
}

TEST_CASE("control_api legacy_request_id recovers the id of a bad request", "[control_api]") {
  CHECK(api::legacy_request_id(R"({"action":5,"requestId":"r-1"})") == "\"r-1\"");
  CHECK(api::legacy_request_id(R"({"requestId":{"n":1}})") == R"({"n":1})");
  CHECK(api::legacy_request_id(R"({"action":"x"})") == "null");
  CHECK(api::legacy_request_id("garbage") == "null");
}

TEST_CASE("control_api parse_legacy_start_call maps the Node app's params", "[control_api]") {
  const auto nested = api::parse_legacy_start_call(
      R"({"channel":"5551234","agent_id":"agent_3","params":{"prompt":"Sell","first_message":"Hi","language":"en"}})");
  REQUIRE(nested.has_value());
  CHECK(nested->number == "5551234");
  CHECK(nested->channel.empty());
  CHECK(nested->setup.agent_id == "agent_3");
  CHECK(nested->setup.overrides->text() ==
        R"({"agent":{"prompt":{"prompt":"Sell"},"first_message":"Hi","language":"en"}})");

  const auto flat = api::parse_legacy_start_call(R"({"channel":100,"first_message":"Yo"})");
  REQUIRE(flat.has_value());
  CHECK(flat->number == "100");
  CHECK(flat->setup.overrides->text() == R"({"agent":{"first_message":"Yo"}})");
  CHECK_FALSE(api::parse_legacy_start_call(R"({"number":"1"})")->setup.overrides.has_value());

  CHECK(error_of(api::parse_legacy_start_call(R"({"agent_id":"a"})")) ==
        api::request_error{"channel", "required: the number to call"});
  CHECK(error_of(api::parse_legacy_start_call(R"({"channel":"1","params":{"prompt":3}})")) ==
        api::request_error{"params.prompt", "expected a string"});
  CHECK(error_of(api::parse_legacy_start_call(R"({"channel":"1","number":"2"})")).field ==
        "channel");
}

TEST_CASE("control_api legacy_status renders the Node app's answer", "[control_api]") {
  CHECK(
      api::legacy_status(true, "pong", "\"r1\"", 1795543200123) ==
      R"({"type":"status","status":"success","message":"pong","timestamp":"2026-11-24T18:00:00.123Z","requestId":"r1"})");
  CHECK(
      api::legacy_status(false, "bad \"x\"", "null", 0, R"("callId":"c")") ==
      R"({"type":"status","status":"error","message":"bad \"x\"","timestamp":"1970-01-01T00:00:00.000Z","requestId":null,"callId":"c"})");
}

TEST_CASE("control_api error_body renders code, message and field", "[control_api]") {
  CHECK(api::error_body("not_found", "no such call") ==
        R"({"error":"not_found","message":"no such call"})");
  CHECK(api::error_body(api::request_error{"agent_id", "expected a string"}) ==
        R"({"error":"bad_request","message":"agent_id: expected a string","field":"agent_id"})");
  CHECK(api::error_body(api::request_error{"", "malformed JSON: x"}) ==
        R"({"error":"bad_request","message":"malformed JSON: x"})");
}

TEST_CASE("control_api formats timestamps like Date.toISOString", "[control_api]") {
  CHECK(api::format_timestamp(0) == "1970-01-01T00:00:00.000Z");
  CHECK(api::format_timestamp(1795543200123) == "2026-11-24T18:00:00.123Z");
  CHECK(api::format_timestamp(1709251199999) == "2024-02-29T23:59:59.999Z");
  CHECK(api::format_timestamp(951868800000) == "2000-03-01T00:00:00.000Z");
  CHECK(api::format_timestamp(-1) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("control_api parses Unix milliseconds and ISO 8601 times", "[control_api]") {
  CHECK(api::parse_timestamp("1795543200123") == 1795543200123);
  CHECK(api::parse_timestamp("2026-11-24T18:00:00.123Z") == 1795543200123);
  CHECK(api::parse_timestamp("2026-11-24t18:00:00.1239z") == 1795543200123);
  CHECK(api::parse_timestamp("2026-11-24 18:00") == 1795543200000);
  CHECK(api::parse_timestamp("2026-11-24T20:30:00+02:30") == 1795543200000);
  CHECK(api::parse_timestamp("2026-11-24T15:00:00-03:00") == 1795543200000);
  CHECK(api::parse_timestamp("2024-02-29") == 1709164800000);
  for (std::string_view bad :
       {"", "2023-02-29", "2026-13-01", "2026-11-24T24:00", "2026-11-24T18", "2026-11-24T18:00:00.",
        "2026-11-24T18:00Zx", "2026-11-24T18:00+2", "99999999999999999999", "-5", "26-11-24"}) {
    INFO(bad);
    CHECK_FALSE(api::parse_timestamp(bad));
  }
}

TEST_CASE("control_api parse_call_setup refuses shortcut text JSON cannot carry", "[control_api]") {
  // Found by fuzz_control_api: a form's percent-decoding can produce invalid UTF-8.
  for (const char* body : {"language=%FF", "first_message=a%80b", "prompt=%C3"}) {
    INFO(body);
    const auto setup = api::parse_call_setup(body, api::body_format::form);
    REQUIRE_FALSE(setup);
    CHECK(setup.error().message.find("UTF-8") != std::string::npos);
  }
  const auto ok =
      api::parse_call_setup("language=es&first_message=%C2%A1Hola%21", api::body_format::form);
  REQUIRE(ok);
  REQUIRE(ok->overrides.has_value());
  CHECK(ok->overrides->text() == R"({"agent":{"first_message":"¡Hola!","language":"es"}})");
}
