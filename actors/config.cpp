#include "actors/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <unistd.h>  // environ

namespace cb {

const char* to_string(dtmf_mode mode) noexcept {
  switch (mode) {
    case dtmf_mode::user_message:
      return "user_message";
    case dtmf_mode::contextual_update:
      return "contextual_update";
    case dtmf_mode::ignore:
      return "ignore";
  }
  return "user_message";
}

std::vector<std::string> settings::secrets() const {
  std::vector<std::string> out;
  for (const auto* secret :
       {&elevenlabs_api_key, &api_token, &asterisk_pass, &db_password, &webhook_secret}) {
    if (!secret->empty()) out.push_back(*secret);
  }
  return out;
}

std::string to_string(const config_error& error) {
  return error.key.empty() ? error.message : error.key + ": " + error.message;
}

namespace {

// --- small text helpers -------------------------------------------------------------------------

constexpr std::string_view whitespace = " \t\r\n\f\v";

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(whitespace);
  return text.substr(first, last - first + 1);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string uppercase(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool is_printable_word(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

struct file_closer {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

struct read_failure {
  int code = 0;  // errno, 0 when the file opened
  std::string reason;
};

// A whole file, or why it cannot be read.
expected<std::string, read_failure> read_file(const std::string& path, std::size_t max_size) {
  const std::unique_ptr<std::FILE, file_closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int code = errno;
    return unexpected{read_failure{code, std::generic_category().message(code)}};
  }
  std::string content;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    content.append(buffer, n);
    if (content.size() > max_size) {
      return unexpected{read_failure{0, fmt::format("larger than {} bytes", max_size)}};
    }
  }
  if (std::ferror(file.get()) != 0) return unexpected{read_failure{0, "read error"}};
  return content;
}

// --- the settings table -------------------------------------------------------------------------

// Applies one value to the settings; returns what is wrong with it (never quoting it).
using apply_function = std::optional<std::string> (*)(settings&, std::string_view);

struct setting_info {
  std::string_view group;
  std::string_view env;
  std::string_view default_text;
  std::string_view help;
  apply_function apply;
  bool secret = false;
  bool boolean = false;
};

std::optional<std::string> apply_port(std::uint16_t& out, std::string_view value,
                                      std::uint16_t min_port) {
  const auto port = parse_unsigned(value);
  if (!port || *port < min_port || *port > 65535) {
    return fmt::format("expected a port number {}-65535", min_port);
  }
  out = static_cast<std::uint16_t>(*port);
  return std::nullopt;
}

std::optional<std::string> apply_duration(std::chrono::milliseconds& out, std::string_view value,
                                          std::int64_t min_ms, std::int64_t max_ms) {
  if (starts_with(value, "-") && parse_unsigned(value.substr(1))) {
    return fmt::format("must not be negative (expected {}-{} milliseconds)", min_ms, max_ms);
  }
  const auto ms = parse_unsigned(value);
  if (!ms || *ms < static_cast<std::uint64_t>(min_ms) || *ms > static_cast<std::uint64_t>(max_ms)) {
    return fmt::format("expected a whole number of milliseconds, {}-{}", min_ms, max_ms);
  }
  out = std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
  return std::nullopt;
}

std::optional<std::string> apply_bool(bool& out, std::string_view value) {
  const auto v = lowercase(value);
  if (v == "1" || v == "true" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "0" || v == "false" || v == "no" || v == "off") {
    out = false;
  } else {
    return std::string("expected true or false (also 1/0, yes/no, on/off)");
  }
  return std::nullopt;
}

std::optional<std::string> apply_word(std::string& out, std::string_view value) {
  if (!is_printable_word(value))
    return std::string("must not contain spaces or control characters");
  out = std::string(value);
  return std::nullopt;
}

std::optional<std::string> apply_secret(std::string& out, std::string_view value) {
  if (has_control_character(value)) return std::string("contains a control character");
  out = std::string(value);
  return std::nullopt;
}

std::optional<std::string> apply_host(std::string& out, std::string_view value) {
  const bool ok = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_' ||
           c == ':' || c == '%' || c == '[' || c == ']';
  });
  if (!ok) return std::string("expected a host name or an IP address");
  out = std::string(value);
  return std::nullopt;
}

bool valid_url_host(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    const auto inner = host.substr(1, host.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
    });
  }
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
  });
}

// http(s)://host[:port][/path], stored with a lowercase scheme and without trailing slashes.
std::optional<std::string> apply_base_url(std::string& out, std::string_view value) {
  const auto scheme_end = value.find("://");
  const auto scheme = lowercase(value.substr(0, scheme_end));
  if (scheme_end == std::string_view::npos || (scheme != "http" && scheme != "https")) {
    return std::string("expected http://host[:port][/path] or https://host[:port][/path]");
  }
  const auto rest = value.substr(scheme_end + 3);
  const auto authority = rest.substr(0, rest.find('/'));
  auto path = rest.substr(authority.size());
  if (authority.find('@') != std::string_view::npos) {
    return std::string("must not contain user credentials");
  }
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  const auto host = has_port ? authority.substr(0, colon) : authority;
  if (!valid_url_host(host)) return std::string("has no valid host name");
  if (has_port) {
    const auto port = parse_unsigned(authority.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return std::string("has an invalid port number");
  }
  if (!is_printable_word(path) || path.find_first_of("?#") != std::string_view::npos) {
    return std::string("the path must not contain spaces, a query or a fragment");
  }
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  out = scheme + "://" + std::string(authority) + std::string(path);
  return std::nullopt;
}

std::optional<std::string> apply_readable_file(std::string& out, std::string_view value) {
  const std::string path(value);
  const auto content = read_file(path, std::size_t{16} << 20U);
  if (!content) return "cannot be read: " + content.error().reason;
  out = path;
  return std::nullopt;
}

constexpr std::int64_t max_timeout_ms = 3'600'000;

std::optional<std::string> apply_count(std::uint64_t& out, std::string_view value,
                                       std::uint64_t min_value, std::uint64_t max_value) {
  const auto n = parse_unsigned(value);
  if (!n || *n < min_value || *n > max_value) {
    return fmt::format("expected a whole number {}-{}", min_value, max_value);
  }
  out = *n;
  return std::nullopt;
}

bool is_channel_variable_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
}

// "lead_id, FIRST_NAME=first_name" -> {{lead_id, lead_id}, {FIRST_NAME, first_name}}.
std::optional<std::string> apply_variable_list(
    std::vector<std::pair<std::string, std::string>>& out, std::string_view value) {
  out.clear();
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const auto channel_name = trim(item.substr(0, eq));
    const auto dynamic_name =
        eq == std::string_view::npos ? channel_name : trim(item.substr(eq + 1));
    if (!is_channel_variable_name(channel_name) || !is_channel_variable_name(dynamic_name)) {
      return std::string(
          "expected NAME or NAME=dynamic_name items separated by commas (letters, digits, _ - .)");
    }
    out.emplace_back(channel_name, dynamic_name);
  }
  return std::nullopt;
}

// sqlite:PATH, or mysql://user@host[:port]/database (the password comes from DB_PASSWORD).
std::optional<std::string> apply_db_url(std::string& out, std::string_view value) {
  if (value == "none") {
    out.clear();
    return std::nullopt;
  }
  if (starts_with(value, "sqlite:")) {
    if (value.size() == 7 || has_control_character(value)) {
      return std::string("expected sqlite:PATH");
    }
    out = std::string(value);
    return std::nullopt;
  }
  if (starts_with(value, "mysql://") || starts_with(value, "mariadb://")) {
    const auto rest = value.substr(value.find("://") + 3);
    const auto at = rest.find('@');
    const auto slash = rest.find('/');
    if (at == std::string_view::npos || slash == std::string_view::npos || at > slash ||
        slash + 1 == rest.size() || !is_printable_word(rest)) {
      return std::string("expected mysql://user@host[:port]/database");
    }
    if (rest.substr(0, at).find(':') != std::string_view::npos) {
      return std::string("must not contain the password: set DB_PASSWORD or DB_PASSWORD_FILE");
    }
    out = std::string(value);
    return std::nullopt;
  }
  return std::string("expected sqlite:PATH or mysql://user@host[:port]/database");
}

// Mutable settings in the order of the usage text. Port bindings, ENV_FILE and the *_FILE
// variants of the secrets are handled apart from this table.
const std::vector<setting_info>& setting_table() {
  static const std::vector<setting_info> table = {
      {"ElevenLabs", "ELEVENLABS_API_KEY", "(not set)",
       "API key (secret). Set: every conversation starts from a signed URL. Not set: only public "
       "agents, connected by agent id.",
       [](settings& s, std::string_view v) { return apply_secret(s.elevenlabs_api_key, v); }, true},
      {"ElevenLabs", "ELEVENLABS_AGENT_ID", "(not set)",
       "Agent of every call that was neither prepared through the API nor bound to a pool port.",
       [](settings& s, std::string_view v) { return apply_word(s.elevenlabs_agent_id, v); }},
      {"ElevenLabs", "ELEVENLABS_BASE_URL", "https://api.elevenlabs.io",
       "REST base URL, http(s)://host[:port][/path]; the agent WebSocket URL is derived from it "
       "(wss:// for https, ws:// for http).",
       [](settings& s, std::string_view v) { return apply_base_url(s.elevenlabs_base_url, v); }},
      {"ElevenLabs", "ELEVENLABS_CA_FILE", "(system store)",
       "Extra PEM CA bundle trusted for the ElevenLabs TLS connections.",
       [](settings& s, std::string_view v) {
         return apply_readable_file(s.elevenlabs_ca_file, v);
       }},
      {"ElevenLabs", "ELEVENLABS_METADATA_TIMEOUT_MS", "10000",
       "Time from the start of a call (signed URL request and WebSocket connection included) until "
       "the agent's conversation metadata must have arrived, 1-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.metadata_timeout, v, 1, max_timeout_ms);
       }},
      {"ElevenLabs", "ELEVENLABS_WS_THREADS", "0",
       "Threads that run the agent WebSockets (each one libwebsockets loop; new calls go to them "
       "in turn), 0-64; 0: one per four cores, at least one.",
       [](settings& s, std::string_view v) {
         std::uint64_t threads = 0;
         auto problem = apply_count(threads, v, 0, 64);
         s.elevenlabs_ws_threads = static_cast<std::uint32_t>(threads);
         return problem;
       }},
      {"AudioSocket", "AUDIOSOCKET_HOST", "0.0.0.0", "Address the AudioSocket listeners bind to.",
       [](settings& s, std::string_view v) { return apply_host(s.audiosocket_host, v); }},
      {"AudioSocket", "AUDIOSOCKET_ADVERTISE_HOST", "AUDIOSOCKET_HOST, or 127.0.0.1 for 0.0.0.0",
       "Host the control API tells dialplans to dial.",
       [](settings& s, std::string_view v) { return apply_host(s.audiosocket_advertise_host, v); }},
      {"AudioSocket", "AUDIOSOCKET_PORT", "5050",
       "Shared AudioSocket port: any number of calls, each routed by its call UUID. 0 turns it "
       "off.",
       [](settings& s, std::string_view v) {
         auto problem = apply_port(s.audiosocket_port, v, 0);
         s.audiosocket_port_enabled = s.audiosocket_port != 0;
         return problem;
       }},
      {"AudioSocket", "AUDIOSOCKET_PORT_MIN", "5052",
       "First port of the legacy pool (one call per port). 0 turns the pool off.",
       [](settings& s, std::string_view v) { return apply_port(s.audiosocket_port_min, v, 0); }},
      {"AudioSocket", "AUDIOSOCKET_PORT_MAX", "5059", "Last port of the legacy pool.",
       [](settings& s, std::string_view v) { return apply_port(s.audiosocket_port_max, v, 0); }},
      {"AudioSocket", "PREPARED_CALL_TIMEOUT_MS", "30000",
       "How long a call prepared through the API waits for Asterisk to connect, 1-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.prepared_call_timeout, v, 1, max_timeout_ms);
       }},
      {"AudioSocket", "AUDIOSOCKET_OSDIAL_HEARTBEAT", "false",
       "Read a kind-0x11 frame of length 16 without payload as OSdial's heartbeat, not as audio.",
       [](settings& s, std::string_view v) { return apply_bool(s.osdial_heartbeat, v); }, false,
       true},
      {"Audio", "UPLINK_BUFFER_MS", "2000",
       "Caller audio kept while the agent is not ready yet (the newest is kept), 0-60000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.uplink_buffer, v, 0, 60000);
       }},
      {"Audio", "JITTER_BUFFER_MS", "40",
       "Agent audio buffered before playout starts when a turn arrives mid-stream, 0-2000; 0 plays "
       "at once.",
       [](settings& s, std::string_view v) { return apply_duration(s.jitter_buffer, v, 0, 2000); }},
      {"Audio", "BARGE_IN_FADE_MS", "5",
       "Fade-out applied when the caller interrupts the agent, 0-100.",
       [](settings& s, std::string_view v) { return apply_duration(s.barge_in_fade, v, 0, 100); }},
      {"Audio", "DTMF_MODE", "user_message",
       "What a caller's DTMF digit becomes: user_message (the agent answers it), "
       "contextual_update (the agent only learns it) or ignore.",
       [](settings& s, std::string_view v) -> std::optional<std::string> {
         const auto mode = lowercase(v);
         for (auto m : {dtmf_mode::user_message, dtmf_mode::contextual_update, dtmf_mode::ignore}) {
           if (mode == to_string(m)) {
             s.dtmf = m;
             return std::nullopt;
           }
         }
         return std::string("expected user_message, contextual_update or ignore");
       }},
      {"Control API", "API_BIND", "0.0.0.0", "Address the control API binds to.",
       [](settings& s, std::string_view v) { return apply_host(s.api_bind, v); }},
      {"Control API", "API_PORT", "58080", "Control API port. 0 turns the control API off.",
       [](settings& s, std::string_view v) {
         auto problem = apply_port(s.api_port, v, 0);
         s.api_enabled = s.api_port != 0;
         return problem;
       }},
      {"Control API", "API_TOKEN", "(not set)",
       "Bearer token the control API requires (secret). Not set: no authentication.",
       [](settings& s, std::string_view v) { return apply_secret(s.api_token, v); }, true},
      {"Control API", "API_TLS_CERT", "(not set)",
       "PEM certificate: with API_TLS_KEY the control API speaks HTTPS and WSS.",
       [](settings& s, std::string_view v) { return apply_readable_file(s.api_tls_cert, v); }},
      {"Control API", "API_TLS_KEY", "(not set)", "PEM private key of API_TLS_CERT.",
       [](settings& s, std::string_view v) { return apply_readable_file(s.api_tls_key, v); }},
      {"Control API", "API_MAX_BODY", "1048576",
       "Largest HTTP body or WebSocket message the control API accepts, 1024-67108864 bytes.",
       [](settings& s, std::string_view v) {
         std::uint64_t bytes = 0;
         auto problem = apply_count(bytes, v, 1024, 64U << 20U);
         s.api_max_body = static_cast<std::size_t>(bytes);
         return problem;
       }},
      {"AMI", "ASTERISK_HOST", "(not set)",
       "Asterisk Manager Interface host. Not set: no AMI connection.",
       [](settings& s, std::string_view v) { return apply_host(s.asterisk_host, v); }},
      {"AMI", "ASTERISK_PORT", "5038", "AMI port.",
       [](settings& s, std::string_view v) { return apply_port(s.asterisk_port, v, 1); }},
      {"AMI", "ASTERISK_USER", "(not set)", "AMI user name.",
       [](settings& s, std::string_view v) { return apply_word(s.asterisk_user, v); }},
      {"AMI", "ASTERISK_PASS", "(not set)", "AMI password (secret).",
       [](settings& s, std::string_view v) { return apply_secret(s.asterisk_pass, v); }, true},
      {"AMI", "ASTERISK_TLS", "false", "Connect to AMI over TLS (Asterisk's tlsbindport, 5039).",
       [](settings& s, std::string_view v) { return apply_bool(s.asterisk_tls, v); }, false, true},
      {"AMI", "ASTERISK_CA_FILE", "(system store)", "Extra PEM CA bundle trusted for AMI over TLS.",
       [](settings& s, std::string_view v) { return apply_readable_file(s.asterisk_ca_file, v); }},
      {"AMI", "AMI_PING_INTERVAL_MS", "20000", "Keep-alive Ping period, 100-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.ami_ping_interval, v, 100, max_timeout_ms);
       }},
      {"AMI", "AMI_RECONNECT_MIN_MS", "500",
       "First reconnection delay; it doubles (with jitter) up to AMI_RECONNECT_MAX_MS, 10-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.ami_reconnect_min, v, 10, max_timeout_ms);
       }},
      {"AMI", "AMI_RECONNECT_MAX_MS", "30000", "Longest reconnection delay, 10-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.ami_reconnect_max, v, 10, max_timeout_ms);
       }},
      {"AMI", "AMI_ACTION_TIMEOUT_MS", "5000",
       "How long an AMI action may wait for its answer, 10-3600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.ami_action_timeout, v, 10, max_timeout_ms);
       }},
      {"AMI", "AMI_UUID_VARIABLE", "CALL_UUID",
       "Channel variable the dialplan stores the AudioSocket call UUID in.",
       [](settings& s, std::string_view v) { return apply_word(s.ami_uuid_variable, v); }},
      {"AMI", "AMI_CHANNEL_VARIABLES", "(none)",
       "Channel variables read when a call starts and given to the agent as dynamic variables: "
       "comma-separated NAME or NAME=dynamic_name (Vicidial: lead_id, first_name, campaign...).",
       [](settings& s, std::string_view v) {
         return apply_variable_list(s.ami_channel_variables, v);
       }},
      {"AMI", "AMI_VARIABLES_WAIT_MS", "1000",
       "How long a call's conversation start waits for AMI to link its channel and read its "
       "variables, 0-10000; the agent's WebSocket connects meanwhile.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.ami_variables_wait, v, 0, 10000);
       }},
      {"AMI", "AMI_CALLER_ID_VARIABLE", "caller_id",
       "Dynamic variable that carries the channel's caller id number.",
       [](settings& s, std::string_view v) { return apply_word(s.ami_caller_id_variable, v); }},
      {"AMI", "AMI_CALLED_NUMBER_VARIABLE", "called_number",
       "Dynamic variable that carries the number the caller dialled.",
       [](settings& s, std::string_view v) { return apply_word(s.ami_called_number_variable, v); }},
      {"AMI", "TRANSFER_CONTEXT", "from-internal",
       "Dialplan context transfer_call redirects the caller to; {name} placeholders are filled "
       "from the tool's parameters and the channel's variables.",
       [](settings& s, std::string_view v) { return apply_word(s.transfer_context, v); }},
      {"AMI", "TRANSFER_EXTEN", "{destination}", "Extension template of transfers.",
       [](settings& s, std::string_view v) { return apply_word(s.transfer_exten, v); }},
      {"AMI", "TRANSFER_PRIORITY", "1", "Priority (number or label) of transfers.",
       [](settings& s, std::string_view v) { return apply_word(s.transfer_priority, v); }},
      {"AMI", "ORIGINATE_CHANNEL", "Local/{number}@from-internal",
       "Channel template of outbound AI calls; {number} is the number to call.",
       [](settings& s, std::string_view v) { return apply_word(s.originate_channel, v); }},
      {"AMI", "AI_CONTEXT", "callbridge-ai",
       "Dialplan context that runs AudioSocket(${CALL_UUID},${AUDIOSOCKET_ADDRESS}) for calls the "
       "bridge originates or pulls in.",
       [](settings& s, std::string_view v) { return apply_word(s.ai_context, v); }},
      {"AMI", "AI_EXTEN", "s", "Extension in AI_CONTEXT.",
       [](settings& s, std::string_view v) { return apply_word(s.ai_exten, v); }},
      {"AMI", "ORIGINATE_CALLER_ID", "(not set)", "Caller id of outbound AI calls.",
       [](settings& s, std::string_view v) { return apply_secret(s.originate_caller_id, v); }},
      {"AMI", "ORIGINATE_TIMEOUT_MS", "30000", "Ring time of outbound AI calls, 1000-600000.",
       [](settings& s, std::string_view v) {
         return apply_duration(s.originate_timeout, v, 1000, 600000);
       }},
      {"Tools", "TOOL_END_CALL", "end_call", "Client tool name that ends the call.",
       [](settings& s, std::string_view v) { return apply_word(s.tool_end_call, v); }},
      {"Tools", "TOOL_TRANSFER_CALL", "transfer_call",
       "Client tool name that transfers the caller (AMI Redirect).",
       [](settings& s, std::string_view v) { return apply_word(s.tool_transfer_call, v); }},
      {"Tools", "TOOL_SEND_DTMF", "send_dtmf", "Client tool name that plays DTMF digits.",
       [](settings& s, std::string_view v) { return apply_word(s.tool_send_dtmf, v); }},
      {"Call store", "DB_URL", "sqlite:callbridge.db",
       "Where call records go: sqlite:PATH, or mysql://user@host[:port]/database; none keeps no "
       "records.",
       // Marked secret so that a refused URL (one holding a password) is never quoted back.
       [](settings& s, std::string_view v) { return apply_db_url(s.db_url, v); }, true},
      {"Call store", "DB_PASSWORD", "(not set)", "Database password for mysql:// (secret).",
       [](settings& s, std::string_view v) { return apply_secret(s.db_password, v); }, true},
      {"Call store", "STORE_JOURNAL", "callbridge-journal.log",
       "File that holds records while the database is unreachable; replayed when it is back.",
       [](settings& s, std::string_view v) { return apply_secret(s.store_journal, v); }},
      {"Call store", "STORE_RETENTION_DAYS", "0",
       "Records older than this many days are deleted; 0 keeps them forever.",
       [](settings& s, std::string_view v) {
         std::uint64_t days = 0;
         auto problem = apply_count(days, v, 0, 36500);
         s.store_retention_days = static_cast<std::uint32_t>(days);
         return problem;
       }},
      {"Call store", "ELEVENLABS_WEBHOOK_SECRET", "(not set)",
       "HMAC secret of ElevenLabs' post-call webhooks (secret). Not set: webhooks are refused.",
       [](settings& s, std::string_view v) { return apply_secret(s.webhook_secret, v); }, true},
      {"Logging", "LOG_LEVEL", "info", "Lowest level logged: trace, debug, info, warn or error.",
       [](settings& s, std::string_view v) -> std::optional<std::string> {
         const auto level = parse_log_level(v);
         if (!level) return std::string("expected trace, debug, info, warn or error");
         s.level = *level;
         return std::nullopt;
       }},
      {"Logging", "LOG_FORMAT", "text", "Log line format: text, or json (one object per line).",
       [](settings& s, std::string_view v) -> std::optional<std::string> {
         const auto format = parse_log_format(v);
         if (!format) return std::string("expected text or json");
         s.format = *format;
         return std::nullopt;
       }},
  };
  return table;
}

constexpr std::string_view env_file_key = "ENV_FILE";
constexpr std::string_view file_suffix = "_FILE";
constexpr std::string_view binding_prefix = "AUDIOSOCKET_PORT_";
constexpr std::string_view binding_agent_suffix = "_AGENT_ID";
constexpr std::string_view binding_variables_suffix = "_VARIABLES";
constexpr std::size_t max_env_file_size = std::size_t{1} << 20U;
constexpr std::size_t max_secret_file_size = std::size_t{64} << 10U;

const setting_info* find_setting(std::string_view env) {
  const auto& table = setting_table();
  const auto it = std::find_if(table.begin(), table.end(),
                               [env](const setting_info& s) { return s.env == env; });
  return it == table.end() ? nullptr : &*it;
}

// The secret whose *_FILE variant `env` is, if it is one.
const setting_info* secret_of_file_key(std::string_view env) {
  if (!ends_with(env, file_suffix)) return nullptr;
  const auto* setting = find_setting(env.substr(0, env.size() - file_suffix.size()));
  return setting != nullptr && setting->secret ? setting : nullptr;
}

bool is_binding_key(std::string_view env) {
  return starts_with(env, binding_prefix) &&
         (ends_with(env, binding_agent_suffix) || ends_with(env, binding_variables_suffix)) &&
         env.size() > binding_prefix.size() + binding_agent_suffix.size();
}

bool is_known_key(std::string_view env) {
  return env == env_file_key || find_setting(env) != nullptr ||
         secret_of_file_key(env) != nullptr || is_binding_key(env);
}

std::string flag_of(std::string_view env) {
  std::string flag = "--" + lowercase(env);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// --- layered values -----------------------------------------------------------------------------

enum class origin : std::uint8_t { env_file, environment, command_line };

struct sourced_value {
  std::string value;
  origin from = origin::env_file;
};

struct layered_values {
  std::map<std::string, sourced_value> values;
  std::string env_file_path;

  // Empty values count as not set, as `process.env.X || default` did in the Node app.
  void set(const std::string& key, std::string_view value, origin from) {
    if (value.empty()) return;
    values[key] = sourced_value{std::string(value), from};
  }

  [[nodiscard]] std::string where(origin from) const {
    switch (from) {
      case origin::env_file:
        return "the env file " + env_file_path;
      case origin::environment:
        return "the environment";
      case origin::command_line:
        return "the command line";
    }
    return "the environment";
  }
};

std::string quoted_for_error(std::string_view value) {
  constexpr std::size_t max_shown = 80;
  if (value.size() > max_shown) return fmt::format("\"{}...\"", value.substr(0, max_shown));
  return fmt::format("\"{}\"", value);
}

config_error invalid_value(const layered_values& layers, std::string_view key,
                           const sourced_value& v, bool secret, std::string_view problem) {
  if (secret) {
    return config_error{std::string(key),
                        fmt::format("invalid value from {}: {}", layers.where(v.from), problem)};
  }
  return config_error{std::string(key),
                      fmt::format("invalid value {} from {}: {}", quoted_for_error(v.value),
                                  layers.where(v.from), problem)};
}

struct command_line {
  std::map<std::string, std::string> values;  // environment name -> value
  std::optional<std::string> env_file;
  startup_action action = startup_action::run;
};

// "audiosocket-port-min" -> "AUDIOSOCKET_PORT_MIN", when that is a setting.
std::optional<std::string> key_of_flag(std::string_view name) {
  const bool well_formed = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  auto key = uppercase(name);
  std::replace(key.begin(), key.end(), '-', '_');
  if (!well_formed || !is_known_key(key)) return std::nullopt;
  return key;
}

expected<command_line, config_error> parse_command_line(int argc, const char* const* argv) {
  command_line out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.action = startup_action::print_help;
      return out;
    }
    if (arg == "--version") out.action = startup_action::print_version;
  }
  if (out.action != startup_action::run) return out;

  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!starts_with(arg, "--") || arg.size() == 2) {
      return unexpected{config_error{std::string(arg), "unexpected argument; see --help"}};
    }
    const auto eq = arg.find('=');
    const auto name = arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
    const auto key = key_of_flag(name);
    if (!key) {
      return unexpected{config_error{"--" + std::string(name), "unknown option; see --help"}};
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (const auto* s = find_setting(*key); s != nullptr && s->boolean) {
      value = "true";
    } else if (i + 1 < argc && !starts_with(argv[i + 1], "--")) {
      value = argv[++i];
    } else {
      return unexpected{config_error{"--" + std::string(name), "needs a value"}};
    }
    if (*key == env_file_key) {
      out.env_file = std::move(value);
    } else {
      out.values[*key] = std::move(value);
    }
  }
  return out;
}

std::optional<config_error> load_env_file(layered_values& layers, const std::string& path,
                                          bool required) {
  auto text = read_file(path, max_env_file_size);
  if (!text) {
    if (!required && text.error().code == ENOENT) return std::nullopt;
    return config_error{std::string(env_file_key),
                        fmt::format("cannot read the env file {}: {}", path, text.error().reason)};
  }
  auto parsed = parse_env_file(*text);
  if (!parsed) {
    auto error = parsed.error();
    if (error.key.empty()) error.key = env_file_key;
    error.message = fmt::format("{}: {}", path, error.message);
    return error;
  }
  layers.env_file_path = path;
  for (const auto& [key, value] : *parsed) {
    if (is_known_key(key)) layers.set(key, value, origin::env_file);
  }
  return std::nullopt;
}

// Resolves KEY against KEY_FILE: the higher layer wins; both in one layer is ambiguous.
std::optional<config_error> resolve_secret_files(layered_values& layers) {
  for (const auto& setting : setting_table()) {
    if (!setting.secret) continue;
    const std::string key(setting.env);
    const auto file_key = key + std::string(file_suffix);
    const auto file_it = layers.values.find(file_key);
    if (file_it == layers.values.end()) continue;
    const auto file = file_it->second;
    layers.values.erase(file_it);
    const auto direct = layers.values.find(key);
    if (direct != layers.values.end()) {
      if (direct->second.from == file.from) {
        return config_error{file_key, fmt::format("{} sets both {} and {}; keep one",
                                                  layers.where(file.from), key, file_key)};
      }
      if (direct->second.from > file.from) continue;
    }
    auto content = read_file(file.value, max_secret_file_size);
    if (!content) {
      return config_error{file_key,
                          fmt::format("cannot read {}: {}", file.value, content.error().reason)};
    }
    auto secret = std::move(*content);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
      secret.pop_back();
    if (secret.empty()) return config_error{file_key, fmt::format("{} is empty", file.value)};
    layers.values[key] = sourced_value{std::move(secret), file.from};
  }
  return std::nullopt;
}

// "AUDIOSOCKET_PORT_5052_AGENT_ID" -> 5052.
expected<std::uint16_t, config_error> binding_port(std::string_view key) {
  const auto suffix_size = ends_with(key, binding_agent_suffix) ? binding_agent_suffix.size()
                                                                : binding_variables_suffix.size();
  const auto digits =
      key.substr(binding_prefix.size(), key.size() - binding_prefix.size() - suffix_size);
  const auto port = parse_unsigned(digits);
  if (!port || *port == 0 || *port > 65535 || digits.front() == '0') {
    return unexpected{
        config_error{std::string(key),
                     "expected AUDIOSOCKET_PORT_<port>_AGENT_ID or _VARIABLES, <port> being "
                     "a port number of the pool"}};
  }
  return static_cast<std::uint16_t>(*port);
}

std::optional<config_error> apply_bindings(const layered_values& layers, settings& out) {
  std::map<std::uint16_t, port_binding> bindings;
  std::map<std::uint16_t, std::string> variables_keys;
  for (const auto& [key, v] : layers.values) {
    if (!is_binding_key(key)) continue;
    const auto port = binding_port(key);
    if (!port) return port.error();
    auto& binding = bindings[*port];
    binding.port = *port;
    if (ends_with(key, binding_agent_suffix)) {
      const auto value = trim(v.value);
      if (!is_printable_word(value)) {
        return invalid_value(layers, key, v, false,
                             "must not contain spaces or control characters");
      }
      binding.agent_id = std::string(value);
    } else {
      auto parsed = elevenlabs::parse_dynamic_variables(v.value);
      if (!parsed) {
        return invalid_value(layers, key, v, false,
                             "expected a JSON object of strings, numbers and booleans (" +
                                 elevenlabs::to_string(parsed.error()) + ")");
      }
      binding.dynamic_variables = std::move(*parsed);
      variables_keys[*port] = key;
    }
  }
  const bool pool = out.audiosocket_port_min != 0;
  for (auto& [port, binding] : bindings) {
    const auto agent_key = fmt::format("{}{}{}", binding_prefix, port, binding_agent_suffix);
    if (binding.agent_id.empty()) {
      return config_error{variables_keys[port], fmt::format("needs {} as well", agent_key)};
    }
    if (!pool) {
      return config_error{agent_key,
                          "binds a pool port, but the pool is off "
                          "(AUDIOSOCKET_PORT_MIN=0)"};
    }
    if (port < out.audiosocket_port_min || port > out.audiosocket_port_max) {
      return config_error{agent_key,
                          fmt::format("port {} is outside the pool AUDIOSOCKET_PORT_MIN..MAX "
                                      "({}-{})",
                                      port, out.audiosocket_port_min, out.audiosocket_port_max)};
    }
    out.port_bindings.push_back(std::move(binding));
  }
  return std::nullopt;
}

std::optional<config_error> check_ports(const settings& s) {
  const bool pool = s.audiosocket_port_min != 0;
  const auto in_pool = [&](std::uint16_t port) {
    return pool && port >= s.audiosocket_port_min && port <= s.audiosocket_port_max;
  };
  if (pool && s.audiosocket_port_min > s.audiosocket_port_max) {
    return config_error{"AUDIOSOCKET_PORT_MIN",
                        fmt::format("is {}, must be <= AUDIOSOCKET_PORT_MAX ({})",
                                    s.audiosocket_port_min, s.audiosocket_port_max)};
  }
  const auto pool_text = fmt::format("the pool AUDIOSOCKET_PORT_MIN..MAX ({}-{})",
                                     s.audiosocket_port_min, s.audiosocket_port_max);
  if (s.audiosocket_port_enabled && in_pool(s.audiosocket_port)) {
    return config_error{"AUDIOSOCKET_PORT",
                        fmt::format("{} lies inside {}", s.audiosocket_port, pool_text)};
  }
  if (s.api_enabled && in_pool(s.api_port)) {
    return config_error{"API_PORT", fmt::format("{} lies inside {}", s.api_port, pool_text)};
  }
  if (s.api_enabled && s.audiosocket_port_enabled && s.api_port == s.audiosocket_port) {
    return config_error{"API_PORT", fmt::format("{} is also AUDIOSOCKET_PORT", s.api_port)};
  }
  return std::nullopt;
}

// Settings that only make sense together.
std::optional<config_error> check_pairs(const settings& s) {
  if (s.ami_reconnect_min > s.ami_reconnect_max) {
    return config_error{"AMI_RECONNECT_MIN_MS",
                        fmt::format("is {}, must be <= AMI_RECONNECT_MAX_MS ({})",
                                    s.ami_reconnect_min.count(), s.ami_reconnect_max.count())};
  }
  if (s.api_tls_cert.empty() != s.api_tls_key.empty()) {
    return config_error{s.api_tls_cert.empty() ? "API_TLS_CERT" : "API_TLS_KEY",
                        "API_TLS_CERT and API_TLS_KEY go together"};
  }
  if (!s.asterisk_host.empty() && s.asterisk_user.empty()) {
    return config_error{"ASTERISK_USER", "is needed when ASTERISK_HOST is set"};
  }
  return std::nullopt;
}

std::string advertised_host(const settings& s) {
  if (!s.audiosocket_advertise_host.empty()) return s.audiosocket_advertise_host;
  if (s.audiosocket_host.empty() || s.audiosocket_host == "0.0.0.0" || s.audiosocket_host == "::") {
    return "127.0.0.1";
  }
  return s.audiosocket_host;
}

// --- .env parsing -------------------------------------------------------------------------------

bool is_env_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

// After a closing quote only blanks and an optional comment may follow.
expected<std::string, std::string> closed_quote(std::string value, std::string_view rest) {
  rest = trim(rest);
  if (!rest.empty() && rest.front() != '#') {
    return unexpected{std::string("unexpected text after the closing quote")};
  }
  return value;
}

// What a double-quoted escape stands for; 0 for others, which stay as written (as in dotenv).
char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case '"':
    case '\\':
      return c;
    default:
      return '\0';
  }
}

// `quoted` starts after the opening double quote.
expected<std::string, std::string> parse_double_quoted(std::string_view quoted) {
  std::string out;
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (c == '"') return closed_quote(std::move(out), quoted.substr(i + 1));
    if (c == '\\' && i + 1 < quoted.size()) {
      if (const char escaped = unescape(quoted[i + 1]); escaped != '\0') {
        out.push_back(escaped);
        ++i;
        continue;
      }
    }
    out.push_back(c);
  }
  return unexpected{std::string("unterminated quote")};
}

expected<std::string, std::string> parse_env_value(std::string_view raw) {
  const auto value = trim(raw);
  if (value.empty()) return std::string();
  const char quote = value.front();
  if (quote == '"') return parse_double_quoted(value.substr(1));
  if (quote == '\'' || quote == '`') {
    const auto close = value.find(quote, 1);
    if (close == std::string_view::npos) return unexpected{std::string("unterminated quote")};
    return closed_quote(std::string(value.substr(1, close - 1)), value.substr(close + 1));
  }
  // Unquoted: a comment starts at a '#' that follows a blank (KEY=a#b keeps its '#').
  std::size_t end = raw.size();
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '#' && (raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
      end = i;
      break;
    }
  }
  return std::string(trim(raw.substr(0, end)));
}

}  // namespace

expected<std::map<std::string, std::string>, config_error> parse_env_file(std::string_view text) {
  std::map<std::string, std::string> out;
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t line_number = 0;
  while (!text.empty() || line_number == 0) {
    ++line_number;
    const auto newline = text.find('\n');
    auto line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (ends_with(line, "\r")) line.remove_suffix(1);
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (starts_with(line, "export") && line.size() > 6 && (line[6] == ' ' || line[6] == '\t')) {
      line = trim(line.substr(6));
    }
    const auto key_end = std::find_if_not(line.begin(), line.end(), is_env_key_char) - line.begin();
    const auto key = line.substr(0, static_cast<std::size_t>(key_end));
    const auto after_key = trim(line.substr(key.size()));
    // A line that is not KEY=... is named by its number only: it may be a stray secret.
    if (key.empty() || after_key.empty() || after_key.front() != '=') {
      return unexpected{config_error{"", fmt::format("line {}: expected KEY=VALUE", line_number)}};
    }
    auto value = parse_env_value(after_key.substr(1));
    if (!value) {
      return unexpected{
          config_error{std::string(key), fmt::format("line {}: {}", line_number, value.error())}};
    }
    out[std::string(key)] = std::move(*value);
  }
  return out;
}

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return out;
}

expected<settings, config_error> load_settings(
    int argc, const char* const* argv, const std::map<std::string, std::string>& environment) {
  auto cli = parse_command_line(argc, argv);
  if (!cli) return unexpected{cli.error()};
  settings out;
  out.action = cli->action;
  if (out.action != startup_action::run) return out;

  layered_values layers;
  std::string env_file = ".env";
  bool env_file_required = false;
  if (cli->env_file) {
    env_file = *cli->env_file;
    env_file_required = true;
  } else if (const auto it = environment.find(std::string(env_file_key));
             it != environment.end() && !it->second.empty()) {
    env_file = it->second;
    env_file_required = true;
  }
  if (!env_file.empty()) {
    if (auto error = load_env_file(layers, env_file, env_file_required)) {
      return unexpected{std::move(*error)};
    }
  }
  out.env_file = layers.env_file_path;
  for (const auto& [key, value] : environment) {
    if (is_known_key(key) && key != env_file_key) layers.set(key, value, origin::environment);
  }
  for (const auto& [key, value] : cli->values)
    layers.set(key, value, origin::command_line);

  if (auto error = resolve_secret_files(layers)) return unexpected{std::move(*error)};

  for (const auto& setting : setting_table()) {
    const auto it = layers.values.find(std::string(setting.env));
    if (it == layers.values.end()) continue;
    const std::string_view value =
        setting.secret ? std::string_view(it->second.value) : trim(it->second.value);
    if (auto problem = setting.apply(out, value)) {
      return unexpected{invalid_value(layers, setting.env, it->second, setting.secret, *problem)};
    }
  }
  if (auto error = check_ports(out)) return unexpected{std::move(*error)};
  if (auto error = check_pairs(out)) return unexpected{std::move(*error)};
  if (auto error = apply_bindings(layers, out)) return unexpected{std::move(*error)};
  out.audiosocket_advertise_host = advertised_host(out);
  return out;
}

namespace {

// Appends `text` indented by six spaces, broken at blanks into lines of at most 80 columns.
void append_wrapped(std::string& out, std::string_view text) {
  constexpr std::size_t indent = 6;
  constexpr std::size_t width = 80 - indent;
  while (!text.empty()) {
    auto end = text.size();
    if (end > width) {
      end = text.rfind(' ', width);
      if (end == std::string_view::npos || end == 0) end = std::min(text.find(' '), text.size());
    }
    out.append(indent, ' ');
    out.append(text.substr(0, end));
    out.push_back('\n');
    text = trim(text.substr(end));
  }
}

}  // namespace

std::string usage() {
  std::string out =
      "Usage: callbridge [OPTION]...\n"
      "\n"
      "Bridges Asterisk AudioSocket calls to ElevenLabs Conversational AI agents.\n"
      "\n"
      "Every setting is an environment variable and a flag of the same name (--lower-case-dashed,\n"
      "as --name=VALUE or --name VALUE). Flags win over the environment, the environment over the\n"
      "env file, the env file over the defaults. An empty value counts as not set.\n"
      "\n"
      "  -h, --help\n"
      "      Print this text and exit.\n"
      "  --version\n"
      "      Print the version and exit.\n"
      "  ENV_FILE, --env-file PATH  [default: .env]\n"
      "      dotenv file to read (KEY=VALUE lines). The default may be missing; a file named\n"
      "      explicitly must exist. --env-file= reads none.\n";
  std::string_view group;
  for (const auto& setting : setting_table()) {
    if (setting.group != group) {
      group = setting.group;
      fmt::format_to(std::back_inserter(out), "\n{}:\n", group);
    }
    fmt::format_to(std::back_inserter(out), "  {}, {}{}  [default: {}]\n", setting.env,
                   flag_of(setting.env), setting.boolean ? "[=BOOL]" : " VALUE",
                   setting.default_text);
    append_wrapped(out, setting.help);
    if (setting.secret) {
      fmt::format_to(std::back_inserter(out),
                     "  {}_FILE, {}-file PATH\n      Read {} from this file instead (trailing "
                     "newline dropped).\n",
                     setting.env, flag_of(setting.env), setting.env);
    }
    if (setting.env == "AUDIOSOCKET_PORT_MAX") {
      out.append(
          "  AUDIOSOCKET_PORT_<N>_AGENT_ID, --audiosocket-port-<n>-agent-id VALUE\n"
          "      Binds pool port N to this agent (e.g. one OSdial remote-agent seat per port).\n"
          "  AUDIOSOCKET_PORT_<N>_VARIABLES, --audiosocket-port-<n>-variables JSON\n"
          "      Dynamic variables of the calls on port N, a JSON object of strings, numbers and\n"
          "      booleans, e.g. {\"seat\":\"7\"}. Needs AUDIOSOCKET_PORT_<N>_AGENT_ID.\n");
    }
  }
  out.append(
      "\nSecrets (ELEVENLABS_API_KEY, API_TOKEN, ASTERISK_PASS, DB_PASSWORD, "
      "ELEVENLABS_WEBHOOK_SECRET) never\nappear in logs or errors. Each may also come from a file: "
      "KEY_FILE=/path.\n");
  return out;
}

std::size_t ws_thread_count(const settings& config) {
  if (config.elevenlabs_ws_threads > 0) return config.elevenlabs_ws_threads;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency() / 4);
}

std::string describe(const settings& config) {
  const auto secret_state = [](const std::string& v) { return v.empty() ? "(not set)" : "(set)"; };
  const auto or_none = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  std::string out = "settings:\n";
  auto add = std::back_inserter(out);
  fmt::format_to(
      add,
      "  ElevenLabs:  base URL {}, API key {}, default agent {}, CA file {}, metadata timeout {} "
      "ms, WebSocket threads {}\n",
      config.elevenlabs_base_url, secret_state(config.elevenlabs_api_key),
      or_none(config.elevenlabs_agent_id),
      config.elevenlabs_ca_file.empty() ? std::string("(system store)") : config.elevenlabs_ca_file,
      config.metadata_timeout.count(), ws_thread_count(config));
  fmt::format_to(
      add,
      "  AudioSocket: bind {}, advertised as {}, shared port {}, pool {}, prepared-call timeout {} "
      "ms, OSdial heartbeat {}\n",
      config.audiosocket_host, advertised_host(config),
      config.audiosocket_port_enabled ? std::to_string(config.audiosocket_port)
                                      : std::string("off"),
      config.audiosocket_port_min == 0
          ? std::string("off")
          : fmt::format("{}-{}", config.audiosocket_port_min, config.audiosocket_port_max),
      config.prepared_call_timeout.count(), config.osdial_heartbeat ? "on" : "off");
  for (const auto& binding : config.port_bindings) {
    std::string names;
    for (const auto& variable : binding.dynamic_variables) {
      names += names.empty() ? variable.first : ", " + variable.first;
    }
    fmt::format_to(add, "  port {}:   agent {}{}\n", binding.port, binding.agent_id,
                   names.empty() ? std::string() : " with variables " + names);
  }
  fmt::format_to(
      add,
      "  Audio:       uplink buffer {} ms, jitter buffer {} ms, barge-in fade {} ms, DTMF {}\n",
      config.uplink_buffer.count(), config.jitter_buffer.count(), config.barge_in_fade.count(),
      to_string(config.dtmf));
  if (!config.api_enabled) {
    fmt::format_to(add, "  Control API: off\n");
  } else {
    fmt::format_to(add, "  Control API: {}://{}:{}, token {}\n",
                   config.api_tls_cert.empty() ? "http" : "https", config.api_bind, config.api_port,
                   secret_state(config.api_token));
  }
  if (config.asterisk_host.empty()) {
    fmt::format_to(add, "  AMI:         off\n");
  } else {
    fmt::format_to(add, "  AMI:         {}:{}{}, user {}, password {}, UUID variable {}\n",
                   config.asterisk_host, config.asterisk_port, config.asterisk_tls ? " (TLS)" : "",
                   or_none(config.asterisk_user), secret_state(config.asterisk_pass),
                   config.ami_uuid_variable);
  }
  fmt::format_to(
      add, "  Call store:  {}, password {}, journal {}, retention {}, webhook secret {}\n",
      config.db_url.empty() ? std::string("off") : config.db_url, secret_state(config.db_password),
      config.store_journal,
      config.store_retention_days == 0 ? std::string("forever")
                                       : fmt::format("{} days", config.store_retention_days),
      secret_state(config.webhook_secret));
  fmt::format_to(add, "  Logging:     {}, {}\n", to_string(config.level), to_string(config.format));
  fmt::format_to(add, "  Env file:    {}", or_none(config.env_file));
  return out;
}

}  // namespace cb
