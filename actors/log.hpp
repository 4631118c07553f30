// The server's logger: one line per record on stderr (text or JSON), with every configured secret
// redacted before anything is formatted, written or handed to a sink. Thread-safe and never
// throws, so any actor or thread may log; a disabled level costs one atomic load.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace cb {

enum class log_level : std::uint8_t { trace, debug, info, warn, error };
enum class log_format : std::uint8_t { text, json };

// "trace", "debug", "info", "warn", "error".
[[nodiscard]] const char* to_string(log_level level) noexcept;
// "text", "json".
[[nodiscard]] const char* to_string(log_format format) noexcept;
// Case-insensitive; "warning" is accepted for warn.
[[nodiscard]] std::optional<log_level> parse_log_level(std::string_view text) noexcept;
// Case-insensitive.
[[nodiscard]] std::optional<log_format> parse_log_format(std::string_view text) noexcept;

namespace log {

// What a sink receives: already redacted. The views live only for the duration of the call.
struct record {
  std::chrono::system_clock::time_point time;
  log_level level = log_level::info;
  std::string_view component;
  std::string_view call_id;
  std::string_view message;
};

// Sets the threshold, the line format and the secrets to redact (only those of 4 characters or
// more: shorter ones would blank out ordinary words). Safe to call again at any time.
void configure(log_level min_level, log_format format, std::vector<std::string> secrets);

[[nodiscard]] bool enabled(log_level level) noexcept;

// Redacts, formats and writes one line to the output in a single write, then forwards the record
// to every sink. A sink that logs does not re-enter the sinks (its line goes to the output only).
void write(log_level level, std::string_view component, std::string_view call_id,
           std::string_view message) noexcept;

// Where lines go (stderr by default); nullptr writes nothing (sinks still receive records).
void set_output(std::FILE* output) noexcept;

using sink_id = std::uint64_t;
// The sink is called with the records of every enabled level, one at a time. It must not call
// add_sink or remove_sink. After remove_sink returns, the sink is never called again.
sink_id add_sink(std::function<void(const record&)> sink);
void remove_sink(sink_id id);

// `text` with every configured secret replaced by "***" (overlapping secrets become one "***").
[[nodiscard]] std::string redact(std::string_view text);

// The line write() emits for a record, newline included; the record is taken as already redacted.
// text: `2026-11-24T18:00:00.123Z INFO  [component] call=<id> message` (no call= when the id is
// empty; control characters shown as \xHH, a message's later lines indented by four spaces).
// json: {"ts":"...","level":"info","component":"...","call":"...","msg":"..."} (no "call" when
// the id is empty; invalid UTF-8 becomes U+FFFD).
[[nodiscard]] std::string format_line(log_format format, const record& r);

namespace detail {
void write_formatted(log_level level, std::string_view component, std::string_view call_id,
                     fmt::string_view format, fmt::format_args args) noexcept;
}  // namespace detail

template <class... Ts>
void trace(std::string_view component, std::string_view call_id, fmt::format_string<Ts...> format,
           Ts&&... args) {
  if (enabled(log_level::trace)) {
    detail::write_formatted(log_level::trace, component, call_id, fmt::string_view(format),
                            fmt::make_format_args(args...));
  }
}

template <class... Ts>
void debug(std::string_view component, std::string_view call_id, fmt::format_string<Ts...> format,
           Ts&&... args) {
  if (enabled(log_level::debug)) {
    detail::write_formatted(log_level::debug, component, call_id, fmt::string_view(format),
                            fmt::make_format_args(args...));
  }
}

template <class... Ts>
void info(std::string_view component, std::string_view call_id, fmt::format_string<Ts...> format,
          Ts&&... args) {
  if (enabled(log_level::info)) {
    detail::write_formatted(log_level::info, component, call_id, fmt::string_view(format),
                            fmt::make_format_args(args...));
  }
}

template <class... Ts>
void warn(std::string_view component, std::string_view call_id, fmt::format_string<Ts...> format,
          Ts&&... args) {
  if (enabled(log_level::warn)) {
    detail::write_formatted(log_level::warn, component, call_id, fmt::string_view(format),
                            fmt::make_format_args(args...));
  }
}

template <class... Ts>
void error(std::string_view component, std::string_view call_id, fmt::format_string<Ts...> format,
           Ts&&... args) {
  if (enabled(log_level::error)) {
    detail::write_formatted(log_level::error, component, call_id, fmt::string_view(format),
                            fmt::make_format_args(args...));
  }
}

}  // namespace log
}  // namespace cb
