#include "protocol/control_api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <system_error>

#include "protocol/ami.hpp"

namespace cb::api {

namespace {

namespace detail = elevenlabs::detail;
using detail::json_value;

using ami::iequals;

std::string_view trim(std::string_view text) {
  constexpr std::string_view blanks = " \t\r\n";
  const auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(blanks);
  return text.substr(first, last - first + 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view view_of(const json_value& v) {
  return {v.GetString(), v.GetStringLength()};
}

std::string render(const json_value& v) {
  std::string text;
  json_writer(text).value(v);
  return text;
}

std::string describe(const elevenlabs::parse_error& e) {
  if (e.code == elevenlabs::parse_error_code::not_an_object)
    return "the body must be a JSON object";
  return "malformed JSON: " + e.detail;
}

// "dynamic_variables[lead_id]" -> {"dynamic_variables", "lead_id"}; a plain name has no key.
std::pair<std::string_view, std::optional<std::string_view>> split_bracket(std::string_view name) {
  const auto open = name.find('[');
  if (open == std::string_view::npos || open == 0 || name.back() != ']') return {name, {}};
  return {name.substr(0, open), name.substr(open + 1, name.size() - open - 2)};
}

// The members of one request body, JSON or form, read into value types. The first error is kept
// and later reads do nothing, so a body is read straight through and checked once at the end.
class body_reader {
 public:
  body_reader(const json_value& object, std::string prefix)
      : json_(&object), prefix_(std::move(prefix)) {}
  explicit body_reader(const field_list& form) : form_(&form) {}

  std::optional<request_error> error;

  [[nodiscard]] bool ok() const { return !error.has_value(); }

  void fail(std::string_view name, std::string message) {
    if (ok()) error = request_error{path(name), std::move(message)};
  }

  // Every member must be one of `known` (forms: by the name before any [key]).
  template <std::size_t N>
  void only(const std::array<std::string_view, N>& known) {
    for (const auto& name : names()) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        fail(name, "unknown field");
        return;
      }
    }
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    if (json_ != nullptr) {
      for (const auto& m : json_->GetObject())
        out.emplace_back(view_of(m.name));
    } else {
      for (const auto& [name, value] : *form_)
        out.emplace_back(split_bracket(name).first);
    }
    return out;
  }

  [[nodiscard]] bool has(std::string_view name) const {
    if (json_ != nullptr) {
      const auto* v = member(name);
      return v != nullptr && !v->IsNull();
    }
    return std::any_of(form_->begin(), form_->end(),
                       [&](const auto& f) { return split_bracket(f.first).first == name; });
  }

  // A string (or, when numbers_allowed, a number written as text); nullopt when absent or null.
  std::optional<std::string> text(std::string_view name, bool numbers_allowed = false) {
    if (!ok()) return std::nullopt;
    if (form_ != nullptr) {
      const auto* value = find_field(*form_, name);
      return value == nullptr ? std::nullopt : std::optional<std::string>(*value);
    }
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (v->IsString()) return std::string(view_of(*v));
    if (numbers_allowed && v->IsNumber()) return render(*v);
    fail(name, numbers_allowed ? "expected a string or a number" : "expected a string");
    return std::nullopt;
  }

  std::optional<bool> flag(std::string_view name) {
    if (!ok()) return std::nullopt;
    if (form_ != nullptr) {
      const auto* value = find_field(*form_, name);
      if (value == nullptr) return std::nullopt;
      for (std::string_view yes : {"true", "1", "yes", "on"}) {
        if (iequals(*value, yes)) return true;
      }
      for (std::string_view no : {"false", "0", "no", "off"}) {
        if (iequals(*value, no)) return false;
      }
      fail(name, "expected true or false");
      return std::nullopt;
    }
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (v->IsBool()) return v->GetBool();
    fail(name, "expected true or false");
    return std::nullopt;
  }

  std::optional<elevenlabs::json_object> object(std::string_view name) {
    if (!ok()) return std::nullopt;
    if (form_ != nullptr) {
      const auto* value = find_field(*form_, name);
      if (value == nullptr) return std::nullopt;
      auto parsed = elevenlabs::json_object::parse(*value);
      if (!parsed) {
        fail(name, "expected a JSON object (" + describe(parsed.error()) + ")");
        return std::nullopt;
      }
      return std::move(*parsed);
    }
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsObject()) {
      fail(name, "expected an object");
      return std::nullopt;
    }
    return detail::json_object_access::from_value(*v);
  }

  // An object of strings, numbers and booleans (forms: JSON text and/or name[key]=value pairs).
  elevenlabs::dynamic_variable_map variables(std::string_view name) {
    elevenlabs::dynamic_variable_map out;
    if (!ok()) return out;
    if (form_ != nullptr) {
      for (const auto& [field, value] : *form_) {
        const auto [base, key] = split_bracket(field);
        if (base != name) continue;
        if (key) {
          out.emplace(std::string(*key), value);
        } else {
          merge_variables(name, value, out);
        }
      }
      return out;
    }
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return out;
    if (!v->IsObject()) {
      fail(name, "expected an object");
      return out;
    }
    merge_variables(name, render(*v), out);
    return out;
  }

  // An object whose values are strings, numbers or booleans, as text.
  std::map<std::string, std::string> string_map(std::string_view name) {
    std::map<std::string, std::string> out;
    if (!ok()) return out;
    if (form_ != nullptr) {
      for (const auto& [field, value] : *form_) {
        const auto [base, key] = split_bracket(field);
        if (base != name) continue;
        if (key) {
          out.emplace(std::string(*key), value);
          continue;
        }
        std::string buffer = detail::padded_copy(value);
        detail::parsed_document document;
        if (auto e = document.parse_object_in_place(buffer)) {
          fail(name, "expected a JSON object (" + describe(*e) + ")");
          return out;
        }
        add_scalars(document.root(), std::string(name) + ".", {}, out);
      }
      return out;
    }
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return out;
    if (!v->IsObject()) {
      fail(name, "expected an object");
      return out;
    }
    add_scalars(*v, std::string(name) + ".", {}, out);
    return out;
  }

  // Every top-level member except `skip`, as text (a transfer's template parameters).
  std::map<std::string, std::string> other_scalars(std::initializer_list<std::string_view> skip) {
    std::map<std::string, std::string> out;
    if (!ok()) return out;
    if (form_ != nullptr) {
      for (const auto& [field, value] : *form_) {
        if (std::find(skip.begin(), skip.end(), split_bracket(field).first) == skip.end()) {
          out.emplace(field, value);
        }
      }
      return out;
    }
    add_scalars(*json_, {}, skip, out);
    return out;
  }

  // The member as JSON text, whatever its type (JSON bodies only); nullopt when absent.
  [[nodiscard]] std::optional<std::string> raw(std::string_view name) const {
    if (json_ == nullptr) return std::nullopt;
    const auto* v = member(name);
    return v == nullptr ? std::nullopt : std::optional<std::string>(render(*v));
  }

  // An array of strings, or one string (JSON bodies only); empty when absent.
  std::vector<std::string> strings(std::string_view name) {
    std::vector<std::string> out;
    if (!ok() || json_ == nullptr) return out;
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return out;
    if (v->IsString()) {
      out.emplace_back(view_of(*v));
      return out;
    }
    if (!v->IsArray()) {
      fail(name, "expected an array of strings");
      return out;
    }
    for (const auto& element : v->GetArray()) {
      if (!element.IsString()) {
        fail(std::string(name) + "[" + std::to_string(out.size()) + "]", "expected a string");
        return out;
      }
      out.emplace_back(view_of(element));
    }
    return out;
  }

  // A reader for the member object `name` (JSON bodies only); nullopt when absent or in error.
  std::optional<body_reader> child(std::string_view name) {
    if (!ok() || json_ == nullptr) return std::nullopt;
    const auto* v = member(name);
    if (v == nullptr || v->IsNull()) return std::nullopt;
    if (!v->IsObject()) {
      fail(name, "expected an object");
      return std::nullopt;
    }
    return body_reader(*v, path(name) + ".");
  }

  // Takes over the first error of a child reader.
  void adopt(const body_reader& child) {
    if (ok() && child.error) error = child.error;
  }

 private:
  [[nodiscard]] const json_value* member(std::string_view name) const {
    for (const auto& m : json_->GetObject()) {
      if (view_of(m.name) == name) return &m.value;
    }
    return nullptr;
  }

  [[nodiscard]] std::string path(std::string_view name) const {
    return prefix_ + std::string(name);
  }

  void merge_variables(std::string_view name, std::string_view json,
                       elevenlabs::dynamic_variable_map& out) {
    auto parsed = elevenlabs::parse_dynamic_variables(json);
    if (!parsed) {
      const auto& e = parsed.error();
      if (e.field.empty()) {
        fail(name, "expected a JSON object (" + describe(e) + ")");
      } else {
        fail(e.field, e.detail);
      }
      return;
    }
    for (auto& [k, v] : *parsed)
      out.emplace(k, std::move(v));
  }

  void add_scalars(const json_value& object, const std::string& prefix,
                   std::initializer_list<std::string_view> skip,
                   std::map<std::string, std::string>& out) {
    for (const auto& m : object.GetObject()) {
      const auto name = view_of(m.name);
      if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
      const auto& v = m.value;
      std::string value;
      if (v.IsString()) {
        value = std::string(view_of(v));
      } else if (v.IsNumber()) {
        value = render(v);
      } else if (v.IsBool()) {
        value = v.GetBool() ? "true" : "false";
      } else {
        fail(prefix + std::string(name), "expected a string, a number or a boolean");
        return;
      }
      out.emplace(std::string(name), std::move(value));
    }
  }

  const json_value* json_ = nullptr;
  const field_list* form_ = nullptr;
  std::string prefix_;
};

// Parses the body (an empty one is {}) and hands a reader to `read`; the reader's first error, if
// any, is the result.
template <class T, class Read>
expected<T, request_error> read_body(std::string_view body, body_format format, Read read) {
  if (format == body_format::form) {
    auto form = parse_form(body);
    if (!form) return unexpected{form.error()};
    body_reader reader(*form);
    T out = read(reader);
    if (reader.error) return unexpected{std::move(*reader.error)};
    return out;
  }
  const auto text = trim(body);
  std::string buffer = detail::padded_copy(text.empty() ? std::string_view("{}") : text);
  detail::parsed_document document;
  if (auto e = document.parse_object_in_place(buffer)) {
    return unexpected{request_error{{}, describe(*e)}};
  }
  body_reader reader(document.root(), {});
  T out = read(reader);
  if (reader.error) return unexpected{std::move(*reader.error)};
  return out;
}

constexpr std::array<std::string_view, 8> call_setup_fields = {
    "agent_id", "dynamic_variables", "overrides", "conversation_config_override",
    "prompt",   "first_message",     "language",  "pool_port"};

constexpr std::array<std::string_view, 11> originate_fields = {
    "agent_id", "dynamic_variables", "overrides", "conversation_config_override",
    "prompt",   "first_message",     "language",  "pool_port",
    "number",   "channel",           "caller_id"};

constexpr std::array<std::string_view, 2> message_fields = {"type", "text"};

// overrides.agent from the prompt/first_message/language shortcuts; nullopt when a string is not
// text JSON can carry (a form body may hold invalid UTF-8).
std::optional<elevenlabs::json_object> agent_override(
    const std::optional<std::string>& prompt, const std::optional<std::string>& first_message,
    const std::optional<std::string>& language) {
  std::string text;
  json_writer w(text);
  w.begin_object().key("agent").begin_object();
  if (prompt) w.key("prompt").begin_object().key("prompt").string(*prompt).end_object();
  w.member("first_message", first_message).member("language", language);
  w.end_object().end_object();
  auto parsed = elevenlabs::json_object::parse(text);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

void read_overrides(body_reader& r, std::optional<elevenlabs::json_object>& out) {
  if (r.has("overrides") && r.has("conversation_config_override")) {
    r.fail("conversation_config_override", "give overrides or conversation_config_override");
    return;
  }
  out = r.has("overrides") ? r.object("overrides") : r.object("conversation_config_override");
  auto prompt = r.text("prompt");
  auto first_message = r.text("first_message");
  auto language = r.text("language");
  if (!prompt && !first_message && !language) return;
  if (out) {
    r.fail(prompt          ? "prompt"
           : first_message ? "first_message"
                           : "language",
           "give overrides or prompt/first_message/language, not both");
    return;
  }
  out = agent_override(prompt, first_message, language);
  if (!out) {
    for (const auto* field : {"prompt", "first_message", "language"}) {
      const auto& value = field[0] == 'p' ? prompt : field[0] == 'f' ? first_message : language;
      if (value && !agent_override(value, std::nullopt, std::nullopt)) {
        r.fail(field, "must be valid UTF-8 text");
        return;
      }
    }
    r.fail("prompt", "prompt, first_message and language must be UTF-8 text");
  }
}

call_setup read_call_setup(body_reader& r) {
  call_setup setup;
  setup.agent_id = r.text("agent_id").value_or("");
  setup.dynamic_variables = r.variables("dynamic_variables");
  read_overrides(r, setup.overrides);
  setup.pool_port = r.flag("pool_port");
  return setup;
}

std::optional<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  const auto* last = text.data() + text.size();
  const auto result = std::from_chars(text.data(), last, value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != last) return std::nullopt;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

civil_date civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  constexpr std::array<unsigned, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Exactly `n` digits at text[pos]; advances pos.
std::optional<unsigned> fixed_digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  return value;
}

bool take(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

}  // namespace

expected<std::string, request_error> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return unexpected{request_error{{}, "bad percent-escape at offset " + std::to_string(i)}};
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

expected<field_list, request_error> parse_form(std::string_view text) {
  field_list out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const auto pair = text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    if (!name) return unexpected{name.error()};
    auto value = percent_decode(
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!value) return unexpected{request_error{*name, value.error().message}};
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

const std::string* find_field(const field_list& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return &value;
  }
  return nullptr;
}

expected<request_target, request_error> parse_target(std::string_view target) {
  target = target.substr(0, target.find('#'));
  const auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  if (!path) return unexpected{request_error{"path", path.error().message}};
  if (path->empty() || path->front() != '/') {
    return unexpected{request_error{"path", "must start with '/'"}};
  }
  request_target out;
  out.path = std::move(*path);
  if (question != std::string_view::npos) {
    auto query = parse_form(target.substr(question + 1));
    if (!query) return unexpected{query.error()};
    out.query = std::move(*query);
  }
  return out;
}

route match_route(std::string_view method, std::string_view path) {
  const auto with = [&](std::string_view wanted, route_kind kind, std::string id = {}) {
    return method == wanted ? route{kind, std::move(id)}
                            : route{route_kind::method_not_allowed, {}};
  };
  if (path == "/healthz") return with("GET", route_kind::health);
  if (path == "/readyz") return with("GET", route_kind::ready);
  if (path == "/metrics") return with("GET", route_kind::metrics);
  if (path == "/api/status") return with("GET", route_kind::status);
  if (path == "/webhooks/elevenlabs") return with("POST", route_kind::elevenlabs_webhook);
  if (path == "/api/calls") {
    if (method == "GET") return {route_kind::list_calls, {}};
    return with("POST", route_kind::prepare_call);
  }
  if (path == "/api/calls/originate") return with("POST", route_kind::originate_call);
  if (path == "/api/history") return with("GET", route_kind::history);

  constexpr std::string_view calls = "/api/calls/";
  if (path.substr(0, calls.size()) == calls) {
    const auto rest = path.substr(calls.size());
    // A channel name ("PJSIP/100-00000001") keeps its slashes: only redirect takes one.
    constexpr std::string_view redirect = "/redirect";
    if (rest.size() > redirect.size() && rest.substr(rest.size() - redirect.size()) == redirect) {
      return with("POST", route_kind::redirect_call,
                  std::string(rest.substr(0, rest.size() - redirect.size())));
    }
    const auto slash = rest.find('/');
    const auto id = rest.substr(0, slash);
    if (id.empty()) return {route_kind::not_found, {}};
    if (slash == std::string_view::npos) {
      if (method == "GET") return {route_kind::get_call, std::string(id)};
      return with("DELETE", route_kind::hangup_call, std::string(id));
    }
    const auto action = rest.substr(slash);
    if (action == "/transfer") return with("POST", route_kind::transfer_call, std::string(id));
    if (action == "/message") return with("POST", route_kind::message_call, std::string(id));
    return {route_kind::not_found, {}};
  }
  constexpr std::string_view history = "/api/history/";
  if (path.substr(0, history.size()) == history) {
    const auto id = path.substr(history.size());
    if (id.empty() || id.find('/') != std::string_view::npos) return {route_kind::not_found, {}};
    return with("GET", route_kind::history_call, std::string(id));
  }
  if (path == "/api" || path.substr(0, 5) == "/api/" || path.substr(0, 10) == "/webhooks/") {
    return {route_kind::not_found, {}};
  }
  return with("GET", route_kind::static_file, std::string(path));
}

bool needs_token(route_kind kind) {
  switch (kind) {
    case route_kind::health:
    case route_kind::ready:
    case route_kind::static_file:
    case route_kind::elevenlabs_webhook:
      return false;
    default:
      return true;
  }
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  authorization = trim(authorization);
  if (authorization.size() <= scheme.size() ||
      !iequals(authorization.substr(0, scheme.size()), scheme) ||
      (authorization[scheme.size()] != ' ' && authorization[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  const auto token = trim(authorization.substr(scheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

bool token_equals(std::string_view given, std::string_view expected) noexcept {
  // Every byte of `expected` is visited whatever `given` holds; bytes beyond `given` compare with
  // NUL and the length difference is folded in, so no early exit reveals a matching prefix.
  unsigned difference = given.size() == expected.size() ? 0U : 1U;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0U;
    difference |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return difference == 0;
}

body_format format_of(std::string_view content_type) {
  const auto media = trim(content_type.substr(0, content_type.find(';')));
  return iequals(media, "application/x-www-form-urlencoded") ? body_format::form
                                                             : body_format::json;
}

expected<call_setup, request_error> parse_call_setup(std::string_view body, body_format format) {
  return read_body<call_setup>(body, format, [](body_reader& r) {
    r.only(call_setup_fields);
    return read_call_setup(r);
  });
}

expected<originate_params, request_error> parse_originate(std::string_view body,
                                                          body_format format) {
  return read_body<originate_params>(body, format, [](body_reader& r) {
    r.only(originate_fields);
    originate_params params;
    params.number = r.text("number", true).value_or("");
    params.channel = r.text("channel", true).value_or("");
    params.caller_id = r.text("caller_id", true).value_or("");
    params.setup = read_call_setup(r);
    if (params.number.empty() && params.channel.empty()) {
      r.fail("number", "give the number to call (or a channel)");
    }
    return params;
  });
}

expected<transfer_params, request_error> parse_transfer(std::string_view body, body_format format) {
  return read_body<transfer_params>(body, format, [](body_reader& r) {
    transfer_params params;
    params.context = r.text("context", true).value_or("");
    params.exten = r.text("exten", true).value_or("");
    params.priority = r.text("priority", true).value_or("");
    params.parameters = r.other_scalars({"context", "exten", "priority", "parameters"});
    for (auto& [name, value] : r.string_map("parameters"))
      params.parameters[name] = std::move(value);
    return params;
  });
}

expected<message_params, request_error> parse_message(std::string_view body, body_format format) {
  return read_body<message_params>(body, format, [](body_reader& r) {
    r.only(message_fields);
    message_params params;
    params.type = r.text("type").value_or("contextual_update");
    params.text = r.text("text").value_or("");
    if (params.type != "contextual_update" && params.type != "user_message") {
      r.fail("type", "expected contextual_update or user_message");
    } else if (params.text.empty()) {
      r.fail("text", "required");
    }
    return params;
  });
}

expected<history_params, request_error> parse_history_query(const field_list& query) {
  history_params params;
  for (const auto& [name, value] : query) {
    if (name == "from" || name == "to") {
      if (value.empty()) continue;
      const auto ms = parse_timestamp(value);
      if (!ms) {
        return unexpected{request_error{name, "expected Unix milliseconds or an ISO 8601 time"}};
      }
      (name == "from" ? params.from_unix_ms : params.to_unix_ms) = *ms;
    } else if (name == "agent") {
      params.agent_id = value;
    } else if (name == "q") {
      params.text = value;
    } else if (name == "limit") {
      const auto n = parse_u32(value);
      if (!n || *n == 0 || *n > max_history_limit) {
        return unexpected{
            request_error{name, "expected 1 to " + std::to_string(max_history_limit)}};
      }
      params.limit = *n;
    } else if (name == "offset") {
      const auto n = parse_u32(value);
      if (!n) return unexpected{request_error{name, "expected a non-negative integer"}};
      params.offset = *n;
    }
  }
  if (params.from_unix_ms != 0 && params.to_unix_ms != 0 &&
      params.to_unix_ms < params.from_unix_ms) {
    return unexpected{request_error{"to", "before from"}};
  }
  return params;
}

const char* to_string(stream s) {
  switch (s) {
    case stream::logs:
      return "logs";
    case stream::events:
      return "events";
    case stream::transcripts:
      return "transcripts";
    case stream::metrics:
      return "metrics";
  }
  return "unknown";
}

std::optional<stream> parse_stream(std::string_view name) {
  for (auto s : {stream::logs, stream::events, stream::transcripts, stream::metrics}) {
    if (name == to_string(s)) return s;
  }
  return std::nullopt;
}

stream stream_of_event(std::string_view kind) {
  for (std::string_view transcript :
       {"user_transcript", "agent_response", "agent_response_correction", "interruption",
        "client_tool_call", "agent_tool_response", "tool_call", "tool_result"}) {
    if (kind == transcript) return stream::transcripts;
  }
  return stream::events;
}

expected<ws_message, request_error> parse_ws_message(std::string_view text) {
  return read_body<ws_message>(text, body_format::json, [](body_reader& r) {
    ws_message out;
    out.token = r.text("token");
    const auto type = r.text("type");
    if (!r.ok()) return out;
    if (!type) {
      const auto action = r.text("action");
      if (!action) {
        r.fail("type", "required");
        return out;
      }
      legacy_request legacy;
      legacy.action = *action;
      legacy.request_id_json = r.raw("requestId").value_or("null");
      if (auto params = r.object("params")) legacy.params_json = params->text();
      out.body = std::move(legacy);
      return out;
    }
    if (*type == "auth") {
      if (!out.token) r.fail("token", "required");
      out.body = ws_auth{out.token.value_or("")};
      return out;
    }
    if (*type == "subscribe" || *type == "unsubscribe") {
      ws_subscribe sub;
      sub.subscribe = *type == "subscribe";
      const auto names = r.strings("streams");
      if (r.ok() && names.empty()) r.fail("streams", "required");
      for (std::size_t i = 0; i < names.size() && r.ok(); ++i) {
        const auto s = parse_stream(names[i]);
        if (!s) {
          r.fail("streams[" + std::to_string(i) + "]",
                 "unknown stream '" + names[i] + "' (logs, events, transcripts or metrics)");
        } else {
          sub.streams.push_back(*s);
        }
      }
      sub.level = r.text("level").value_or("");
      sub.call = r.text("call").value_or("");
      out.body = std::move(sub);
      return out;
    }
    if (*type == "request") {
      ws_request request;
      request.id_json = r.raw("id").value_or("null");
      request.method = r.text("method").value_or("");
      std::transform(request.method.begin(), request.method.end(), request.method.begin(),
                     [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
      request.target = r.text("path").value_or("");
      if (auto body = r.object("body")) request.body = body->text();
      if (r.ok() && request.method.empty()) r.fail("method", "required");
      if (r.ok() && request.target.empty()) r.fail("path", "required");
      out.body = std::move(request);
      return out;
    }
    r.fail("type", "unknown message type '" + *type + "'");
    return out;
  });
}

std::string legacy_request_id(std::string_view text) {
  std::string buffer = detail::padded_copy(text);
  detail::parsed_document document;
  if (document.parse_object_in_place(buffer)) return "null";
  return body_reader(document.root(), {}).raw("requestId").value_or("null");
}

expected<originate_params, request_error> parse_legacy_start_call(std::string_view params_json) {
  return read_body<originate_params>(params_json, body_format::json, [](body_reader& r) {
    originate_params params;
    params.channel = r.text("channel", true).value_or("");
    params.number = r.text("number", true).value_or("");
    if (params.number.empty()) {
      // The legacy app's "channel" is the number to call, not an Asterisk channel name.
      params.number = std::move(params.channel);
      params.channel.clear();
    } else if (!params.channel.empty()) {
      r.fail("channel", "give channel or number, not both");
    }
    params.caller_id = r.text("caller_id", true).value_or("");
    params.setup.agent_id = r.text("agent_id").value_or("");
    params.setup.dynamic_variables = r.variables("dynamic_variables");
    std::optional<std::string> prompt;
    std::optional<std::string> first_message;
    std::optional<std::string> language;
    if (auto nested = r.child("params")) {
      prompt = nested->text("prompt");
      first_message = nested->text("first_message");
      language = nested->text("language");
      r.adopt(*nested);
    }
    if (!prompt) prompt = r.text("prompt");
    if (!first_message) first_message = r.text("first_message");
    if (!language) language = r.text("language");
    if (prompt || first_message || language) {
      params.setup.overrides = agent_override(prompt, first_message, language);
    }
    if (r.ok() && params.number.empty()) r.fail("channel", "required: the number to call");
    return params;
  });
}

std::string legacy_status(bool success, std::string_view message, std::string_view request_id_json,
                          std::int64_t unix_ms, std::string_view extra_members) {
  std::string out;
  json_writer w(out);
  w.begin_object()
      .key("type")
      .string("status")
      .key("status")
      .string(success ? "success" : "error")
      .key("message")
      .string(message)
      .key("timestamp")
      .string(format_timestamp(unix_ms));
  // The id goes back exactly as the client sent it (string or number), so it is spliced as text.
  out += ",\"requestId\":";
  out += request_id_json;
  if (!extra_members.empty()) {
    out += ',';
    out += extra_members;
  }
  out += '}';
  return out;
}

std::string error_body(std::string_view code, std::string_view message, std::string_view field) {
  std::string out;
  json_writer w(out);
  w.begin_object().key("error").string(code).key("message").string(message);
  if (!field.empty()) w.key("field").string(field);
  w.end_object();
  return out;
}

std::string error_body(const request_error& error) {
  const auto message = error.field.empty() ? error.message : error.field + ": " + error.message;
  return error_body("bad_request", message, error.field);
}

std::string format_timestamp(std::int64_t unix_ms) {
  constexpr std::int64_t ms_per_day = 86400000;
  std::int64_t days = unix_ms / ms_per_day;
  std::int64_t rest = unix_ms % ms_per_day;
  if (rest < 0) {
    rest += ms_per_day;
    --days;
  }
  const auto date = civil_from_days(days);
  const auto ms = static_cast<unsigned>(rest % 1000);
  const auto s = static_cast<unsigned>(rest / 1000);
  std::array<char, 40> text{};
  const int n = std::snprintf(text.data(), text.size(), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                              static_cast<long long>(date.year), date.month, date.day, s / 3600,
                              s / 60 % 60, s % 60, ms);
  return {text.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t ms = 0;
    const auto* last = text.data() + text.size();
    const auto result = std::from_chars(text.data(), last, ms);
    if (result.ec != std::errc{} || result.ptr != last) return std::nullopt;
    return ms;
  }
  std::size_t pos = 0;
  const auto year = fixed_digits(text, pos, 4);
  if (!year || !take(text, pos, '-')) return std::nullopt;
  const auto month = fixed_digits(text, pos, 2);
  if (!month || *month < 1 || *month > 12 || !take(text, pos, '-')) return std::nullopt;
  const auto day = fixed_digits(text, pos, 2);
  if (!day || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
  std::int64_t ms = days_from_civil(*year, *month, *day) * 86400000;
  if (pos == text.size()) return ms;
  if (!take(text, pos, 'T') && !take(text, pos, 't') && !take(text, pos, ' ')) return std::nullopt;
  const auto hour = fixed_digits(text, pos, 2);
  if (!hour || *hour > 23 || !take(text, pos, ':')) return std::nullopt;
  const auto minute = fixed_digits(text, pos, 2);
  if (!minute || *minute > 59) return std::nullopt;
  unsigned second = 0;
  unsigned milli = 0;
  if (take(text, pos, ':')) {
    const auto sec = fixed_digits(text, pos, 2);
    if (!sec || *sec > 59) return std::nullopt;
    second = *sec;
    if (take(text, pos, '.')) {
      // Up to millisecond precision is kept; further digits are read and dropped.
      std::size_t digits = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (digits < 3) milli = milli * 10 + static_cast<unsigned>(text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits)
        milli *= 10;
    }
  }
  ms += ((static_cast<std::int64_t>(*hour) * 60 + *minute) * 60 + second) * 1000 + milli;
  if (pos == text.size() || take(text, pos, 'Z') || take(text, pos, 'z')) {
    return pos == text.size() ? std::optional<std::int64_t>(ms) : std::nullopt;
  }
  const char sign = text[pos++];
  if (sign != '+' && sign != '-') return std::nullopt;
  const auto offset_hours = fixed_digits(text, pos, 2);
  if (!offset_hours || *offset_hours > 23 || !take(text, pos, ':')) return std::nullopt;
  const auto offset_minutes = fixed_digits(text, pos, 2);
  if (!offset_minutes || *offset_minutes > 59 || pos != text.size()) return std::nullopt;
  const std::int64_t offset_ms =
      (static_cast<std::int64_t>(*offset_hours) * 60 + *offset_minutes) * 60000;
  return sign == '+' ? ms - offset_ms : ms + offset_ms;
}

}  // namespace cb::api
