#include "protocol/ami.hpp"

#include <algorithm>

namespace cb::ami {

namespace {

constexpr std::string_view banner_prefix = "Asterisk Call Manager";
constexpr std::string_view command_output_end = "--END COMMAND--";
constexpr std::string_view crlf = "\r\n";

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_variable_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '(' || c == ')' || c == '-';
}

bool is_dtmf_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

// The characters main/app.c's argument splitter treats specially, each made literal by a backslash.
std::string escape_variable_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (const char c : value) {
    if (c == ',' || c == '"' || c == '\\' || c == '(' || c == ')' || c == '[' || c == ']') {
      escaped += '\\';
    }
    escaped += c;
  }
  return escaped;
}

// Why "key: value" cannot be the next of `lines` header lines, if it cannot.
std::optional<action_error> check_header(std::string_view key, std::string_view value,
                                         std::size_t lines) {
  if (key.empty() || key.find_first_of(std::string_view(":\r\n\0", 4)) != std::string_view::npos) {
    return action_error{action_error_code::bad_key, {}};  // a broken key is not fit for a log line
  }
  const auto refuse = [key](action_error_code code) {
    return action_error{code, std::string(key)};
  };
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return refuse(action_error_code::bad_value);
  }
  if (key.size() + 2 + value.size() > max_action_line) {
    return refuse(action_error_code::line_too_long);
  }
  if (lines == max_action_headers) return refuse(action_error_code::too_many_headers);
  return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<std::string_view> message::get(std::string_view key) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, key)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> message::get_all(std::string_view key) const {
  std::vector<std::string_view> values;
  for (const auto& [k, v] : headers) {
    if (iequals(k, key)) values.emplace_back(v);
  }
  return values;
}

bool message::has(std::string_view key) const {
  return get(key).has_value();
}

message_type message::type() const {
  if (has("Event")) return message_type::event;
  if (has("Response")) return message_type::response;
  if (has("Action")) return message_type::action;
  return message_type::unknown;
}

std::optional<std::string_view> message::response() const {
  if (type() != message_type::response) return std::nullopt;
  return get("Response");
}

bool message::is_event(std::string_view name) const {
  const auto value = event();
  return value && iequals(*value, name);
}

const char* to_string(parse_error_code code) {
  switch (code) {
    case parse_error_code::bad_banner:
      return "bad_banner";
    case parse_error_code::line_too_long:
      return "line_too_long";
    case parse_error_code::too_many_headers:
      return "too_many_headers";
    case parse_error_code::message_too_large:
      return "message_too_large";
  }
  return "unknown_parse_error";
}

std::string to_string(const parse_error& error) {
  std::string text = to_string(error.code);
  text += " at line ";
  text += std::to_string(error.line);
  return text;
}

parser::parser(parser_options options)
    : options_(options), awaiting_banner_(options.expect_banner) {}

// A failed parser keeps nothing of the dead stream.
parser::step parser::fail(parse_error_code code) {
  error_ = parse_error{code, line_number_};
  partial_ = std::string();
  current_ = message();
  return step::failed;
}

// A line's limit excludes its line end. A read may end between the CR and the LF of a CRLF, so a
// partial line may hold one byte more than the limit before it is known to be too long.
parser::step parser::next(std::string_view& data) {
  if (error_) return step::failed;
  while (!data.empty()) {
    const auto lf = data.find('\n');
    if (lf == std::string_view::npos) {
      if (partial_.size() + data.size() > options_.max_line + 1) {
        ++line_number_;
        return fail(parse_error_code::line_too_long);
      }
      partial_.append(data);
      data = {};
      return step::need_more;
    }
    ++line_number_;
    if (partial_.size() + lf > options_.max_line + 1) return fail(parse_error_code::line_too_long);
    std::string_view line = data.substr(0, lf);
    data.remove_prefix(lf + 1);
    if (!partial_.empty()) {
      partial_.append(line);
      line = partial_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > options_.max_line) return fail(parse_error_code::line_too_long);
    const auto result = take_line(line);
    partial_.clear();
    if (result != step::need_more) return result;
  }
  return step::need_more;
}

parser::step parser::take_line(std::string_view line) {
  if (awaiting_banner_) {
    if (line.substr(0, banner_prefix.size()) != banner_prefix) {
      return fail(parse_error_code::bad_banner);
    }
    awaiting_banner_ = false;
    const auto slash = line.find('/');
    banner_version_.assign(slash == std::string_view::npos ? std::string_view{}
                                                           : line.substr(slash + 1));
    return step::banner;
  }

  if (line.empty() && !in_command_output_) {
    if (current_.headers.empty()) return step::need_more;  // stray blank line between blocks
    current_bytes_ = 0;
    return step::message;
  }

  if (current_.headers.size() >= options_.max_headers) {
    return fail(parse_error_code::too_many_headers);
  }
  current_bytes_ += line.size();
  if (current_bytes_ > options_.max_message) return fail(parse_error_code::message_too_large);

  if (in_command_output_ && ends_with(line, command_output_end)) in_command_output_ = false;
  if (line.empty()) {
    current_.headers.emplace_back();
    return step::need_more;
  }

  const auto separator = line.find(": ");
  if (separator != std::string_view::npos) {
    current_.headers.emplace_back(std::string(line.substr(0, separator)),
                                  std::string(line.substr(separator + 2)));
  } else if (line.back() == ':') {
    current_.headers.emplace_back(std::string(line.substr(0, line.size() - 1)), std::string{});
  } else {
    current_.headers.emplace_back(std::string{}, std::string(line));
  }
  if (current_.headers.size() == 1) {
    const auto& [key, value] = current_.headers.front();
    in_command_output_ = iequals(key, "Response") && iequals(value, "Follows");
  }
  return step::need_more;
}

const char* to_string(action_error_code code) {
  switch (code) {
    case action_error_code::bad_key:
      return "bad_key";
    case action_error_code::bad_value:
      return "bad_value";
    case action_error_code::line_too_long:
      return "line_too_long";
    case action_error_code::too_many_headers:
      return "too_many_headers";
    case action_error_code::bad_variable_name:
      return "bad_variable_name";
    case action_error_code::bad_dtmf_digit:
      return "bad_dtmf_digit";
  }
  return "unknown_action_error";
}

std::string to_string(const action_error& error) {
  std::string text = to_string(error.code);
  text += " in header ";
  text += error.key;
  return text;
}

action::action(std::string_view name, std::string_view action_id) {
  add("Action", name);
  if (!action_id.empty()) add("ActionID", action_id);
}

action& action::refuse(action_error_code code, std::string_view key) {
  if (!error_) error_ = action_error{code, std::string(key)};
  return *this;
}

action& action::add(std::string_view key, std::string_view value) {
  if (error_) return *this;
  if (auto refusal = check_header(key, value, lines_)) {
    error_ = std::move(refusal);
    return *this;
  }
  ++lines_;
  text_.append(key);
  text_.append(": ");
  text_.append(value);
  text_.append(crlf);
  return *this;
}

action action::with_action_id(std::string_view action_id) const {
  constexpr std::string_view id_prefix = "ActionID: ";
  action copy(*this);
  if (copy.error_) return copy;
  // Without an error the text starts with the Action line.
  const auto second_line = copy.text_.find(crlf) + crlf.size();
  if (copy.text_.compare(second_line, id_prefix.size(), id_prefix) == 0) {
    const auto id_end = copy.text_.find(crlf, second_line) + crlf.size();
    copy.text_.erase(second_line, id_end - second_line);
    --copy.lines_;
  }
  if (action_id.empty()) return copy;
  if (auto refusal = check_header("ActionID", action_id, copy.lines_)) {
    copy.error_ = std::move(refusal);
    return copy;
  }
  std::string line(id_prefix);
  line.append(action_id);
  line.append(crlf);
  copy.text_.insert(second_line, line);
  ++copy.lines_;
  return copy;
}

expected<std::string, action_error> action::serialize() const {
  if (error_) return unexpected{*error_};
  std::string text;
  text.reserve(text_.size() + crlf.size());
  text.append(text_);
  text.append(crlf);
  return text;
}

action login(std::string_view username, std::string_view secret, std::string_view action_id) {
  action request("Login", action_id);
  request.add("Username", username).add("Secret", secret);
  return request;
}

action logoff(std::string_view action_id) {
  return action("Logoff", action_id);
}

action ping(std::string_view action_id) {
  return action("Ping", action_id);
}

action core_show_channels(std::string_view action_id) {
  return action("CoreShowChannels", action_id);
}

action originate(const originate_fields& fields, std::string_view action_id) {
  action request("Originate", action_id);
  request.add("Channel", fields.channel);
  if (const auto* dialplan = std::get_if<dialplan_target>(&fields.target)) {
    request.add("Context", dialplan->context)
        .add("Exten", dialplan->exten)
        .add("Priority", dialplan->priority);
  } else {
    const auto& app = std::get<application_target>(fields.target);
    request.add("Application", app.application);
    if (!app.data.empty()) request.add("Data", app.data);
  }
  if (fields.timeout) request.add("Timeout", std::to_string(fields.timeout->count()));
  if (!fields.caller_id.empty()) request.add("CallerID", fields.caller_id);
  for (const auto& [name, value] : fields.variables) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_variable_name_char)) {
      request.refuse(action_error_code::bad_variable_name, "Variable");
    }
    request.add("Variable", name + '=' + escape_variable_value(value));
  }
  if (!fields.channel_id.empty()) request.add("ChannelId", fields.channel_id);
  if (fields.async) request.add("Async", "true");
  return request;
}

action hangup(std::string_view channel, std::optional<int> cause, std::string_view action_id) {
  action request("Hangup", action_id);
  request.add("Channel", channel);
  if (cause) request.add("Cause", std::to_string(*cause));
  return request;
}

action redirect(const redirect_fields& fields, std::string_view action_id) {
  action request("Redirect", action_id);
  request.add("Channel", fields.channel)
      .add("Context", fields.context)
      .add("Exten", fields.exten)
      .add("Priority", fields.priority);
  if (!fields.extra_channel.empty()) {
    request.add("ExtraChannel", fields.extra_channel);
    if (fields.extra_target) {
      request.add("ExtraContext", fields.extra_target->context)
          .add("ExtraExten", fields.extra_target->exten)
          .add("ExtraPriority", fields.extra_target->priority);
    }
  }
  return request;
}

action getvar(std::string_view channel, std::string_view variable, std::string_view action_id) {
  action request("Getvar", action_id);
  if (!channel.empty()) request.add("Channel", channel);
  request.add("Variable", variable);
  return request;
}

action setvar(std::string_view channel, std::string_view variable, std::string_view value,
              std::string_view action_id) {
  action request("Setvar", action_id);
  if (!channel.empty()) request.add("Channel", channel);
  request.add("Variable", variable).add("Value", value);
  return request;
}

action play_dtmf(std::string_view channel, char digit,
                 std::optional<std::chrono::milliseconds> duration, std::string_view action_id) {
  action request("PlayDTMF", action_id);
  request.add("Channel", channel);
  if (!is_dtmf_digit(digit)) request.refuse(action_error_code::bad_dtmf_digit, "Digit");
  request.add("Digit", std::string_view(&digit, 1));
  if (duration) request.add("Duration", std::to_string(duration->count()));
  return request;
}

}  // namespace cb::ami
