#include "actors/log.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Sends the logger's lines to a temporary file for the test's lifetime and restores the defaults
// afterwards.
class captured_log {
 public:
  captured_log(cb::log_level level, cb::log_format format, std::vector<std::string> secrets = {})
      : file_(std::tmpfile()) {
    REQUIRE(file_ != nullptr);
    cb::log::configure(level, format, std::move(secrets));
    cb::log::set_output(file_);
  }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;
  ~captured_log() {
    cb::log::set_output(stderr);
    cb::log::configure(cb::log_level::info, cb::log_format::text, {});
    std::fclose(file_);
  }

  [[nodiscard]] std::string text() const {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0)
      out.append(buffer, n);
    return out;
  }

  [[nodiscard]] std::vector<std::string> lines() const {
    std::vector<std::string> out;
    const auto all = text();
    std::size_t start = 0;
    for (auto nl = all.find('\n'); nl != std::string::npos; nl = all.find('\n', start)) {
      out.push_back(all.substr(start, nl - start));
      start = nl + 1;
    }
    REQUIRE(start == all.size());  // every line ends with a newline
    return out;
  }

 private:
  std::FILE* file_;
};

// 2026-11-24T18:00:00.123Z
std::chrono::system_clock::time_point sample_time() {
  return std::chrono::system_clock::time_point(1795543200123ms);
}

// A minimal reader for the flat JSON objects the logger writes: string members only.
std::optional<std::map<std::string, std::string>> parse_flat_json(const std::string& line) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  const auto read_string = [&](std::string& into) -> bool {
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '"') {
        ++i;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        into.push_back(c);
        continue;
      }
      if (++i >= line.size()) return false;
      switch (line[i]) {
        case '"':
          into.push_back('"');
          break;
        case '\\':
          into.push_back('\\');
          break;
        case 'n':
          into.push_back('\n');
          break;
        case 'r':
          into.push_back('\r');
          break;
        case 't':
          into.push_back('\t');
          break;
        case 'u': {
          if (i + 4 >= line.size()) return false;
          const auto code = std::stoul(line.substr(i + 1, 4), nullptr, 16);
          if (code < 0x80) {
            into.push_back(static_cast<char>(code));
          } else if (code == 0xfffd) {
            into.append("\xEF\xBF\xBD");
          } else {
            return false;
          }
          i += 4;
          break;
        }
        default:
          return false;
      }
    }
    return false;
  };
  if (line.empty() || line[i++] != '{') return std::nullopt;
  while (i < line.size()) {
    std::string key;
    std::string value;
    if (!read_string(key) || i >= line.size() || line[i++] != ':' || !read_string(value)) {
      return std::nullopt;
    }
    if (!out.emplace(key, value).second) return std::nullopt;
    if (i < line.size() && line[i] == ',') {
      ++i;
    } else if (i + 1 == line.size() && line[i] == '}') {
      return out;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("log levels and formats read from their names", "[log]") {
  CHECK(cb::parse_log_level("trace") == cb::log_level::trace);
  CHECK(cb::parse_log_level("DEBUG") == cb::log_level::debug);
  CHECK(cb::parse_log_level("Info") == cb::log_level::info);
  CHECK(cb::parse_log_level("warn") == cb::log_level::warn);
  CHECK(cb::parse_log_level("warning") == cb::log_level::warn);
  CHECK(cb::parse_log_level("error") == cb::log_level::error);
  CHECK_FALSE(cb::parse_log_level("verbose"));
  CHECK_FALSE(cb::parse_log_level(""));
  CHECK(cb::parse_log_format("json") == cb::log_format::json);
  CHECK(cb::parse_log_format("TEXT") == cb::log_format::text);
  CHECK_FALSE(cb::parse_log_format("xml"));
  for (auto level : {cb::log_level::trace, cb::log_level::debug, cb::log_level::info,
                     cb::log_level::warn, cb::log_level::error}) {
    CHECK(cb::parse_log_level(cb::to_string(level)) == level);
  }
}

TEST_CASE("the minimum level filters records", "[log]") {
  const captured_log log(cb::log_level::warn, cb::log_format::text);
  CHECK_FALSE(cb::log::enabled(cb::log_level::trace));
  CHECK_FALSE(cb::log::enabled(cb::log_level::info));
  CHECK(cb::log::enabled(cb::log_level::warn));
  CHECK(cb::log::enabled(cb::log_level::error));
  cb::log::trace("test", "", "trace {}", 1);
  cb::log::debug("test", "", "debug {}", 2);
  cb::log::info("test", "", "info {}", 3);
  cb::log::warn("test", "", "warn {}", 4);
  cb::log::error("test", "", "error {}", 5);
  cb::log::write(cb::log_level::info, "test", "", "direct info");
  const auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("WARN  [test] warn 4") != std::string::npos);
  CHECK(lines[1].find("ERROR [test] error 5") != std::string::npos);
}

namespace {
struct counted {
  int value = 0;
};
std::atomic<int> counted_formats{0};
}  // namespace

template <>
struct fmt::formatter<counted> : fmt::formatter<int> {
  template <class Context>
  auto format(const counted& c, Context& ctx) const {
    ++counted_formats;
    return fmt::formatter<int>::format(c.value, ctx);
  }
};

TEST_CASE("a disabled level does no formatting work", "[log]") {
  const captured_log log(cb::log_level::info, cb::log_format::text);
  counted_formats = 0;
  cb::log::debug("test", "", "value {}", counted{7});
  CHECK(counted_formats == 0);
  cb::log::info("test", "", "value {}", counted{7});
  CHECK(counted_formats == 1);
  CHECK(log.text().find("value 7") != std::string::npos);
}

TEST_CASE("text lines have the documented layout", "[log]") {
  const cb::log::record with_call{sample_time(), cb::log_level::info, "bridge", "0f3c-42",
                                  "call started"};
  CHECK(cb::log::format_line(cb::log_format::text, with_call) ==
        "2026-11-24T18:00:00.123Z INFO  [bridge] call=0f3c-42 call started\n");
  const cb::log::record without_call{sample_time(), cb::log_level::error, "api", "", "bind failed"};
  CHECK(cb::log::format_line(cb::log_format::text, without_call) ==
        "2026-11-24T18:00:00.123Z ERROR [api] bind failed\n");
  const cb::log::record debug{sample_time() + 877ms, cb::log_level::debug, "x", "", "m"};
  CHECK(cb::log::format_line(cb::log_format::text, debug) ==
        "2026-11-24T18:00:01.000Z DEBUG [x] m\n");
}

TEST_CASE("text lines cannot be split or forged by a message", "[log]") {
  const cb::log::record r{sample_time(), cb::log_level::warn, "agent", "id\nx",
                          "first\nsecond\r\x1b[31m\tend\n"};
  CHECK(cb::log::format_line(cb::log_format::text, r) ==
        "2026-11-24T18:00:00.123Z WARN  [agent] call=id\\x0ax first\n    "
        "second\\x0d\\x1b[31m\tend\n");
}

TEST_CASE("JSON lines have the documented members and escaping", "[log]") {
  const cb::log::record r{sample_time(), cb::log_level::warn, "agent", "c-1",
                          "quote \" backslash \\ newline \n tab \t bell \x07 caf\xC3\xA9"};
  const auto line = cb::log::format_line(cb::log_format::json, r);
  CHECK(line ==
        "{\"ts\":\"2026-11-24T18:00:00.123Z\",\"level\":\"warn\",\"component\":\"agent\","
        "\"call\":\"c-1\",\"msg\":\"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 "
        "caf\xC3\xA9\"}\n");
  const auto parsed = parse_flat_json(line.substr(0, line.size() - 1));
  REQUIRE(parsed);
  CHECK(parsed->at("ts") == "2026-11-24T18:00:00.123Z");
  CHECK(parsed->at("level") == "warn");
  CHECK(parsed->at("component") == "agent");
  CHECK(parsed->at("call") == "c-1");
  CHECK(parsed->at("msg") == r.message);

  const cb::log::record no_call{sample_time(), cb::log_level::info, "bridge", "", "up"};
  const auto plain = cb::log::format_line(cb::log_format::json, no_call);
  CHECK(plain ==
        "{\"ts\":\"2026-11-24T18:00:00.123Z\",\"level\":\"info\",\"component\":\"bridge\","
        "\"msg\":\"up\"}\n");
}

TEST_CASE("JSON lines replace invalid UTF-8", "[log]") {
  // A lone continuation byte, a truncated sequence, an overlong encoding and a surrogate.
  const cb::log::record r{sample_time(), cb::log_level::info, "x", "",
                          "a\x80 b\xE2\x82 c\xC0\xAF d\xED\xA0\x80 e\xF0\x9F\x98\x80"};
  const auto line = cb::log::format_line(cb::log_format::json, r);
  const auto parsed = parse_flat_json(line.substr(0, line.size() - 1));
  REQUIRE(parsed);
  CHECK(parsed->at("msg") ==
        "a\xEF\xBF\xBD b\xEF\xBF\xBD\xEF\xBF\xBD c\xEF\xBF\xBD\xEF\xBF\xBD "
        "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD e\xF0\x9F\x98\x80");
}

TEST_CASE("write emits one timestamped line in the configured format", "[log]") {
  {
    const captured_log log(cb::log_level::trace, cb::log_format::text);
    cb::log::trace("port_allocator", "uuid-1", "port {} leased", 5052);
    const auto lines = log.lines();
    REQUIRE(lines.size() == 1);
    CHECK(std::regex_match(lines[0],
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z TRACE )"
                                      R"(\[port_allocator\] call=uuid-1 port 5052 leased)")));
  }
  {
    const captured_log log(cb::log_level::info, cb::log_format::json);
    cb::log::info("bridge", "", "listening on {}:{}", "0.0.0.0", 5050);
    const auto lines = log.lines();
    REQUIRE(lines.size() == 1);
    const auto parsed = parse_flat_json(lines[0]);
    REQUIRE(parsed);
    CHECK(parsed->size() == 4);
    CHECK(std::regex_match(parsed->at("ts"),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    CHECK(parsed->at("level") == "info");
    CHECK(parsed->at("component") == "bridge");
    CHECK(parsed->at("msg") == "listening on 0.0.0.0:5050");
  }
}

TEST_CASE("redact replaces every configured secret", "[log][secrets]") {
  const captured_log log(cb::log_level::info, cb::log_format::text,
                         {"sk_live_12345", "amipass", "tok3n-value", "abc", ""});
  CHECK(cb::log::redact("key sk_live_12345 pass amipass token tok3n-value") ==
        "key *** pass *** token ***");
  CHECK(cb::log::redact("twice amipassamipass and amipass") == "twice *** and ***");
  // Shorter than four characters: too likely to be an ordinary word.
  CHECK(cb::log::redact("abc") == "abc");
  CHECK(cb::log::redact("nothing here") == "nothing here");
  // Overlapping secrets leave no tail of either behind.
  cb::log::configure(cb::log_level::info, cb::log_format::text, {"abcdef", "defghi"});
  CHECK(cb::log::redact("x abcdefghi y") == "x *** y");
  CHECK(cb::log::redact("sk_live_12345") == "sk_live_12345");  // reconfigured: old secret gone
}

TEST_CASE("secrets never reach the output in either format", "[log][secrets]") {
  const std::vector<std::string> secrets = {"pa\"ss\\wo\nrd", "xi-key-0123456789",
                                            "caf\xC3\xA9-tok"};
  for (auto format : {cb::log_format::text, cb::log_format::json}) {
    const captured_log log(cb::log_level::trace, format, secrets);
    cb::log::info("ami", "xi-key-0123456789", "login with pa\"ss\\wo\nrd failed");
    cb::log::warn("xi-key-0123456789", "", "headers {}", "xi-api-key: xi-key-0123456789");
    cb::log::error("api", "", "token caf\xC3\xA9-tok rejected");
    const auto text = log.text();
    for (const auto& secret : secrets)
      CHECK(text.find(secret) == std::string::npos);
    // Nor in the escaped forms either format would write.
    CHECK(text.find("pa\\\"ss") == std::string::npos);
    CHECK(text.find("ss\\\\wo") == std::string::npos);
    CHECK(text.find("wo\\x0a") == std::string::npos);
    CHECK(text.find("wo\\nrd") == std::string::npos);
    CHECK(text.find("login with *** failed") != std::string::npos);
    CHECK(text.find("xi-api-key: ***") != std::string::npos);
    CHECK(text.find("token *** rejected") != std::string::npos);
  }
}

TEST_CASE("sinks receive every enabled record, redacted", "[log][sinks]") {
  const captured_log log(cb::log_level::debug, cb::log_format::text, {"hunter22"});
  struct seen {
    cb::log_level level;
    std::string component;
    std::string call_id;
    std::string message;
  };
  std::vector<seen> records;
  const auto id = cb::log::add_sink([&records](const cb::log::record& r) {
    records.push_back(
        {r.level, std::string(r.component), std::string(r.call_id), std::string(r.message)});
  });
  cb::log::trace("c", "", "filtered out");
  cb::log::debug("ami", "call-hunter22", "password hunter22 sent");
  cb::log::error("api", "", "plain");
  cb::log::remove_sink(id);
  cb::log::error("api", "", "after removal");
  REQUIRE(records.size() == 2);
  CHECK(records[0].level == cb::log_level::debug);
  CHECK(records[0].component == "ami");
  CHECK(records[0].call_id == "call-***");
  CHECK(records[0].message == "password *** sent");
  CHECK(records[1].level == cb::log_level::error);
  CHECK(records[1].message == "plain");
  CHECK(log.lines().size() == 3);  // the trace record was filtered out
}

TEST_CASE("a sink that logs or throws does not disturb logging", "[log][sinks]") {
  const captured_log log(cb::log_level::info, cb::log_format::text);
  int calls = 0;
  const auto logging_sink = cb::log::add_sink([&calls](const cb::log::record& r) {
    ++calls;
    cb::log::info("sink", "", "forwarded '{}'", r.message);
  });
  const auto throwing_sink =
      cb::log::add_sink([](const cb::log::record&) { throw std::runtime_error("sink down"); });
  int after_throw = 0;
  const auto counting_sink =
      cb::log::add_sink([&after_throw](const cb::log::record&) { ++after_throw; });
  cb::log::info("test", "", "hello");
  cb::log::remove_sink(logging_sink);
  cb::log::remove_sink(throwing_sink);
  cb::log::remove_sink(counting_sink);
  CHECK(calls == 1);  // the sink's own line did not come back to it
  CHECK(after_throw == 1);
  const auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("[test] hello") != std::string::npos);
  CHECK(lines[1].find("[sink] forwarded 'hello'") != std::string::npos);
}

TEST_CASE("without an output only the sinks receive records", "[log][sinks]") {
  const captured_log log(cb::log_level::info, cb::log_format::text);
  cb::log::set_output(nullptr);
  int received = 0;
  const auto id = cb::log::add_sink([&received](const cb::log::record&) { ++received; });
  cb::log::info("test", "", "to the sink only");
  cb::log::remove_sink(id);
  CHECK(received == 1);
  CHECK(log.text().empty());
}

TEST_CASE("concurrent writers produce whole lines", "[log][threads]") {
  const captured_log log(cb::log_level::info, cb::log_format::json, {"s3cr3t-value"});
  constexpr int threads = 4;
  constexpr int per_thread = 500;
  std::atomic<int> sunk{0};
  const auto id = cb::log::add_sink([&sunk](const cb::log::record&) { ++sunk; });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([t] {
      const std::string padding(100 + 37 * t, static_cast<char>('a' + t));
      for (int i = 0; i < per_thread; ++i) {
        cb::log::info("worker", std::to_string(t), "{} {} s3cr3t-value {}", i, padding, t);
      }
    });
  }
  for (auto& w : workers)
    w.join();
  cb::log::remove_sink(id);
  CHECK(sunk == threads * per_thread);
  const auto lines = log.lines();
  REQUIRE(lines.size() == static_cast<std::size_t>(threads * per_thread));
  std::vector<int> next(threads, 0);
  for (const auto& line : lines) {
    const auto parsed = parse_flat_json(line);
    REQUIRE(parsed);
    const int t = std::stoi(parsed->at("call"));
    REQUIRE(t >= 0);
    REQUIRE(t < threads);
    const std::string padding(100 + 37 * t, static_cast<char>('a' + t));
    // Each thread's lines arrive whole and in its own order.
    CHECK(parsed->at("msg") ==
          std::to_string(next[t]++) + " " + padding + " *** " + std::to_string(t));
  }
  for (int t = 0; t < threads; ++t)
    CHECK(next[t] == per_thread);
}
