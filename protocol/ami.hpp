// The Asterisk Manager Interface text protocol (shared/protocols/ami.md): a banner line, then
// blocks of "Key: Value" lines each ended by an empty line. The parser is incremental (TCP splits
// lines anywhere) and bounded; the action builder refuses anything that could smuggle a header into
// Asterisk, because its values come from tool calls and the control API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "codecs/expected.hpp"

namespace cb::ami {

// ASCII case-insensitive equality: AMI keys, event names and response words compare this way.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

enum class message_type : std::uint8_t { action, response, event, unknown };

struct message {
  // In arrival order; keys repeat (Variable, Output). A line is split at its first ": "; "Key:" is
  // an empty value; a line with neither shape (the raw CLI output of an old "Response: Follows"
  // Command answer, empty lines in it included) is kept whole as the value of an empty key.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value under key (case-insensitive); views into this message.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view key) const;
  [[nodiscard]] std::vector<std::string_view> get_all(std::string_view key) const;
  [[nodiscard]] bool has(std::string_view key) const;

  // Event: wins over Response (an OriginateResponse event carries both), Response over Action.
  [[nodiscard]] message_type type() const;
  [[nodiscard]] std::optional<std::string_view> action_id() const { return get("ActionID"); }
  // The Response word of a response message (Success, Error, Follows, Goodbye); nullopt for events,
  // whose own Response header (OriginateResponse) is read with get().
  [[nodiscard]] std::optional<std::string_view> response() const;
  [[nodiscard]] std::optional<std::string_view> event() const { return get("Event"); }
  [[nodiscard]] bool is_event(std::string_view name) const;

  friend bool operator==(const message& a, const message& b) { return a.headers == b.headers; }
  friend bool operator!=(const message& a, const message& b) { return !(a == b); }
};

enum class parse_error_code : std::uint8_t {
  bad_banner,         // the first line is not "Asterisk Call Manager..."
  line_too_long,      // a line (without its CRLF or LF) longer than parser_options::max_line
  too_many_headers,   // a block with more than parser_options::max_headers lines
  message_too_large,  // a block with more than parser_options::max_message bytes
};

struct parse_error {
  parse_error_code code = parse_error_code::bad_banner;
  std::size_t line = 0;  // 1-based, counting the banner

  friend bool operator==(const parse_error& a, const parse_error& b) {
    return a.code == b.code && a.line == b.line;
  }
  friend bool operator!=(const parse_error& a, const parse_error& b) { return !(a == b); }
};

[[nodiscard]] const char* to_string(parse_error_code code);
// One line for logs: "line_too_long at line 12".
[[nodiscard]] std::string to_string(const parse_error& error);

struct parser_options {
  // The bridge reads Asterisk's output (banner first); the call simulator reads the bridge's
  // actions, which have no banner.
  bool expect_banner = true;
  std::size_t max_line = 64 * 1024;
  // A Command answer carries one Output line per line of CLI output (one per channel for
  // "core show channels"), so these allow thousands of lines.
  std::size_t max_headers = 16384;
  std::size_t max_message = 4 * 1024 * 1024;
};

class parser {
 public:
  explicit parser(parser_options options = {});

  // Parses every line data completes, calling on_banner(std::string_view version) for the banner
  // and on_message(message&&) for each block, and keeps a trailing partial line. Returns the number
  // of messages delivered. LF or CRLF line ends, mixed too. On an error what came before it has
  // been delivered and the parser stays failed: every later call returns the same error at once.
  template <class OnBanner, class OnMessage>
  expected<std::size_t, parse_error> feed(std::string_view data, OnBanner&& on_banner,
                                          OnMessage&& on_message) {
    std::size_t messages = 0;
    for (;;) {
      switch (next(data)) {
        case step::banner:
          on_banner(std::string_view(banner_version_));
          break;
        case step::message:
          ++messages;
          on_message(std::move(current_));
          current_.headers.clear();
          break;
        case step::need_more:
          return messages;
        case step::failed:
          return unexpected{*error_};
      }
    }
  }

  [[nodiscard]] bool failed() const noexcept { return error_.has_value(); }
  [[nodiscard]] const std::optional<parse_error>& error() const noexcept { return error_; }
  // A line or a block has begun but not ended (never once failed: the parser drops both).
  [[nodiscard]] bool mid_message() const noexcept {
    return !partial_.empty() || !current_.headers.empty();
  }

 private:
  enum class step : std::uint8_t { need_more, banner, message, failed };

  step next(std::string_view& data);
  step take_line(std::string_view line);
  step fail(parse_error_code code);

  parser_options options_;
  std::string partial_;  // a line split across reads, without its LF
  std::string banner_version_;
  message current_;
  std::size_t current_bytes_ = 0;
  std::size_t line_number_ = 0;
  bool awaiting_banner_;
  // Inside a block that began "Response: Follows": the Command answer of Asterisk 13 and older,
  // whose raw CLI output may hold empty lines; the output ends with "--END COMMAND--" (glued to the
  // last line when the output lacks a final newline). Empty lines up to there stay in the block.
  bool in_command_output_ = false;
  std::optional<parse_error> error_;
};

// What Asterisk can take (main/manager.c): it reads a request line into a 1024-byte buffer, so a
// "Key: Value" line longer than 1022 bytes plus CRLF is cut and its tail read as a new line, and it
// silently drops the lines of a request past 128.
inline constexpr std::size_t max_action_line = 1022;
inline constexpr std::size_t max_action_headers = 128;

enum class action_error_code : std::uint8_t {
  bad_key,            // empty, or holds ':', CR, LF or NUL
  bad_value,          // holds CR, LF or NUL: it would end the header and start another
  line_too_long,      // "Key: Value" longer than max_action_line
  too_many_headers,   // more than max_action_headers lines
  bad_variable_name,  // an Originate variable name outside [A-Za-z0-9_.()-], or empty
  bad_dtmf_digit,     // PlayDTMF digit not 0-9 * # A-D
};

// Names the offending header by its key only: a value may be the AMI secret.
struct action_error {
  action_error_code code = action_error_code::bad_key;
  std::string key;

  friend bool operator==(const action_error& a, const action_error& b) {
    return a.code == b.code && a.key == b.key;
  }
  friend bool operator!=(const action_error& a, const action_error& b) { return !(a == b); }
};

[[nodiscard]] const char* to_string(action_error_code code);
// "bad_value in header Channel".
[[nodiscard]] std::string to_string(const action_error& error);

// An action request: "Action: <name>", "ActionID: <id>" when an id is given, then the added headers
// in order. A bad key or value is not sent; the first one is reported by serialize().
class action {
 public:
  explicit action(std::string_view name, std::string_view action_id = {});

  action& add(std::string_view key, std::string_view value);
  // Marks the action unsendable, for a check beyond add()'s (the builders' field rules); the first
  // refusal is the one reported.
  action& refuse(action_error_code code, std::string_view key);

  // A copy whose second line is "ActionID: <action_id>", replacing the id the action was built
  // with (an empty id removes it): the AMI client numbers the actions it is handed. An id that
  // cannot be sent makes the copy unsendable, refused under the key ActionID.
  [[nodiscard]] action with_action_id(std::string_view action_id) const;

  // The request with CRLF line ends and its terminating empty line, or why it cannot be sent.
  [[nodiscard]] expected<std::string, action_error> serialize() const;

 private:
  std::string text_;
  std::size_t lines_ = 0;
  std::optional<action_error> error_;
};

// Builders for the actions the bridge sends (ami.md). Empty optional fields are left out.
[[nodiscard]] action login(std::string_view username, std::string_view secret,
                           std::string_view action_id = {});
[[nodiscard]] action logoff(std::string_view action_id = {});
[[nodiscard]] action ping(std::string_view action_id = {});
[[nodiscard]] action core_show_channels(std::string_view action_id = {});

struct dialplan_target {
  std::string context;
  std::string exten;
  std::string priority = "1";  // a number or a priority label
};
struct application_target {
  std::string application;
  std::string data;
};

struct originate_fields {
  std::string channel;
  std::variant<dialplan_target, application_target> target;
  std::optional<std::chrono::milliseconds> timeout;
  std::string caller_id;
  // One "Variable: name=value" line each. Asterisk splits a Variable value at commas, honouring
  // quotes, brackets and backslash escapes, so the value's , " \ ( ) [ ] are sent escaped.
  std::vector<std::pair<std::string, std::string>> variables;
  std::string channel_id;  // the new channel's Uniqueid
  bool async = true;
};
[[nodiscard]] action originate(const originate_fields& fields, std::string_view action_id = {});

// channel is a name or a /regex/; no cause lets Asterisk use normal clearing (16).
[[nodiscard]] action hangup(std::string_view channel, std::optional<int> cause = {},
                            std::string_view action_id = {});

struct redirect_fields {
  std::string channel;
  std::string context;
  std::string exten;
  std::string priority = "1";
  // The other leg moved along with it (ExtraChannel, ExtraContext, ExtraExten, ExtraPriority).
  std::optional<dialplan_target> extra_target;
  std::string extra_channel;
};
[[nodiscard]] action redirect(const redirect_fields& fields, std::string_view action_id = {});

// An empty channel reads or sets a global variable.
[[nodiscard]] action getvar(std::string_view channel, std::string_view variable,
                            std::string_view action_id = {});
[[nodiscard]] action setvar(std::string_view channel, std::string_view variable,
                            std::string_view value, std::string_view action_id = {});
// No duration lets Asterisk use its default.
[[nodiscard]] action play_dtmf(std::string_view channel, char digit,
                               std::optional<std::chrono::milliseconds> duration = {},
                               std::string_view action_id = {});

}  // namespace cb::ami
