#include "actors/log.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>
#include <utility>

#include "codecs/utf8.hpp"

namespace cb {

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::trace:
      return "trace";
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

const char* to_string(log_format format) noexcept {
  return format == log_format::json ? "json" : "text";
}

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
  for (auto level :
       {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error}) {
    if (equals_ignoring_case(text, to_string(level))) return level;
  }
  if (equals_ignoring_case(text, "warning")) return log_level::warn;
  return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view text) noexcept {
  if (equals_ignoring_case(text, "text")) return log_format::text;
  if (equals_ignoring_case(text, "json")) return log_format::json;
  return std::nullopt;
}

namespace log {
namespace {

constexpr std::size_t min_secret_length = 4;

struct sink_entry {
  sink_id id;
  std::function<void(const record&)> sink;
};

// Allocated once and never destroyed, so objects destroyed at exit can still log.
struct logger_state {
  std::atomic<std::uint8_t> min_level{static_cast<std::uint8_t>(log_level::info)};
  std::atomic<std::uint8_t> format{static_cast<std::uint8_t>(log_format::text)};

  std::mutex secrets_mutex;
  std::shared_ptr<const std::vector<std::string>> secrets =
      std::make_shared<const std::vector<std::string>>();

  std::mutex output_mutex;
  std::FILE* output = stderr;

  std::mutex sinks_mutex;
  std::vector<sink_entry> sinks;
  sink_id next_sink = 1;
};

logger_state& state() {
  static auto* const instance = new logger_state;  // NOLINT(cppcoreguidelines-owning-memory)
  return *instance;
}

thread_local bool inside_sink = false;

std::shared_ptr<const std::vector<std::string>> current_secrets() {
  auto& s = state();
  const std::lock_guard<std::mutex> lock(s.secrets_mutex);
  return s.secrets;
}

std::string redact_with(std::string_view text, const std::vector<std::string>& secrets) {
  // Mark every occurrence of every secret, merge overlapping marks, then replace each merged run:
  // replacing one secret at a time would leave the tail of a secret that overlaps another.
  std::vector<std::pair<std::size_t, std::size_t>> marks;
  for (const auto& secret : secrets) {
    for (auto at = text.find(secret); at != std::string_view::npos;
         at = text.find(secret, at + 1)) {
      marks.emplace_back(at, at + secret.size());
    }
  }
  if (marks.empty()) return std::string(text);
  std::sort(marks.begin(), marks.end());
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (std::size_t i = 0; i < marks.size();) {
    const auto begin = marks[i].first;
    auto end = marks[i].second;
    for (++i; i < marks.size() && marks[i].first <= end; ++i)
      end = std::max(end, marks[i].second);
    out.append(text.substr(copied, begin - copied));
    out.append("***");
    copied = end;
  }
  out.append(text.substr(copied));
  return out;
}

const char* level_label(log_level level) {
  switch (level) {
    case log_level::trace:
      return "TRACE";
    case log_level::debug:
      return "DEBUG";
    case log_level::info:
      return "INFO ";
    case log_level::warn:
      return "WARN ";
    case log_level::error:
      return "ERROR";
  }
  return "INFO ";
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(time.time_since_epoch()).count();
  auto seconds_part = since_epoch / 1000;
  auto millis = since_epoch % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds_part -= 1;
  }
  const auto t = static_cast<std::time_t>(seconds_part);
  std::tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                 utc.tm_sec, millis);
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// Text lines stay one record per line even when a message carries control characters; a
// message's own line breaks become indented continuation lines, so they cannot pass for records.
void append_text_field(std::string& out, std::string_view text, bool is_message) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '\n' && is_message) {
      out.append("\n    ");
    } else if (is_control(c) && !(ch == '\t' && is_message)) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else {
      out.push_back(ch);
    }
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const char ch = text[i];
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else if (c >= 0x80) {
          const auto length = codecs::utf8_sequence_length(text, i);
          if (length == 0) {
            out.append("\\ufffd");
            ++i;
          } else {
            out.append(text.substr(i, length));
            i += length;
          }
          continue;
        } else {
          out.push_back(ch);
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string_view trim_trailing_newlines(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

std::string format_line(log_format format, const record& r) {
  const auto message = trim_trailing_newlines(r.message);
  std::string out;
  out.reserve(64 + r.component.size() + r.call_id.size() + message.size());
  if (format == log_format::json) {
    out.append(R"({"ts":")");
    append_timestamp(out, r.time);
    out.append(R"(","level":")");
    out.append(to_string(r.level));
    out.append(R"(","component":)");
    append_json_string(out, r.component);
    if (!r.call_id.empty()) {
      out.append(",\"call\":");
      append_json_string(out, r.call_id);
    }
    out.append(",\"msg\":");
    append_json_string(out, message);
    out.append("}\n");
    return out;
  }
  append_timestamp(out, r.time);
  out.push_back(' ');
  out.append(level_label(r.level));
  out.append(" [");
  append_text_field(out, r.component, false);
  out.push_back(']');
  if (!r.call_id.empty()) {
    out.append(" call=");
    append_text_field(out, r.call_id, false);
  }
  out.push_back(' ');
  append_text_field(out, message, true);
  out.push_back('\n');
  return out;
}

void configure(log_level min_level, log_format format, std::vector<std::string> secrets) {
  secrets.erase(std::remove_if(secrets.begin(), secrets.end(),
                               [](const std::string& s) { return s.size() < min_secret_length; }),
                secrets.end());
  std::sort(secrets.begin(), secrets.end());
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(secrets));
  auto& s = state();
  {
    const std::lock_guard<std::mutex> lock(s.secrets_mutex);
    s.secrets = std::move(shared);
  }
  s.format.store(static_cast<std::uint8_t>(format), std::memory_order_relaxed);
  s.min_level.store(static_cast<std::uint8_t>(min_level), std::memory_order_relaxed);
}

bool enabled(log_level level) noexcept {
  return static_cast<std::uint8_t>(level) >= state().min_level.load(std::memory_order_relaxed);
}

void set_output(std::FILE* output) noexcept {
  auto& s = state();
  const std::lock_guard<std::mutex> lock(s.output_mutex);
  s.output = output;
}

std::string redact(std::string_view text) {
  return redact_with(text, *current_secrets());
}

void write(log_level level, std::string_view component, std::string_view call_id,
           std::string_view message) noexcept {
  if (!enabled(level)) return;
  try {
    auto& s = state();
    const auto secrets = current_secrets();
    const auto safe_component = redact_with(component, *secrets);
    const auto safe_call_id = redact_with(call_id, *secrets);
    const auto safe_message = redact_with(message, *secrets);
    const record r{std::chrono::system_clock::now(), level, safe_component, safe_call_id,
                   safe_message};
    const auto line =
        format_line(static_cast<log_format>(s.format.load(std::memory_order_relaxed)), r);
    {
      const std::lock_guard<std::mutex> lock(s.output_mutex);
      if (s.output != nullptr) {
        std::fwrite(line.data(), 1, line.size(), s.output);
        std::fflush(s.output);
      }
    }
    if (inside_sink) return;
    const std::lock_guard<std::mutex> lock(s.sinks_mutex);
    inside_sink = true;
    for (const auto& entry : s.sinks) {
      try {
        entry.sink(r);
      } catch (...) {  // NOLINT(bugprone-empty-catch): a failing sink must not take logging down
      }
    }
    inside_sink = false;
  } catch (...) {  // NOLINT(bugprone-empty-catch): logging never throws, out of memory included
  }
}

sink_id add_sink(std::function<void(const record&)> sink) {
  auto& s = state();
  const std::lock_guard<std::mutex> lock(s.sinks_mutex);
  const auto id = s.next_sink++;
  s.sinks.push_back(sink_entry{id, std::move(sink)});
  return id;
}

void remove_sink(sink_id id) {
  auto& s = state();
  const std::lock_guard<std::mutex> lock(s.sinks_mutex);
  s.sinks.erase(std::remove_if(s.sinks.begin(), s.sinks.end(),
                               [id](const sink_entry& e) { return e.id == id; }),
                s.sinks.end());
}

namespace detail {

void write_formatted(log_level level, std::string_view component, std::string_view call_id,
                     fmt::string_view format, fmt::format_args args) noexcept {
  try {
    const auto message = fmt::vformat(format, args);
    write(level, component, call_id, message);
  } catch (...) {
    write(level, component, call_id, "(log message could not be formatted)");
  }
}

}  // namespace detail
}  // namespace log
}  // namespace cb
