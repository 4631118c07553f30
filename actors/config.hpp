// The server's settings: one value type, loaded and validated once at start-up from the command
// line, the process environment and a .env file, then passed down (actors never call getenv).
// The environment names are the legacy Node app's, so existing .env files keep working.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/log.hpp"
#include "codecs/expected.hpp"
#include "protocol/elevenlabs_client_messages.hpp"

namespace cb {

// A legacy pool port dedicated to one agent, e.g. one OSdial remote-agent seat per port.
struct port_binding {
  std::uint16_t port = 0;
  std::string agent_id;
  elevenlabs::dynamic_variable_map dynamic_variables;

  friend bool operator==(const port_binding& a, const port_binding& b) {
    return a.port == b.port && a.agent_id == b.agent_id &&
           a.dynamic_variables == b.dynamic_variables;
  }
  friend bool operator!=(const port_binding& a, const port_binding& b) { return !(a == b); }
};

// What the bridge does with a DTMF digit from the caller.
enum class dtmf_mode : std::uint8_t { user_message, contextual_update, ignore };

[[nodiscard]] const char* to_string(dtmf_mode mode) noexcept;

// What the command line asked for: run the server, or print something and exit.
enum class startup_action : std::uint8_t { run, print_help, print_version };

struct settings {
  // What to do; print_help and print_version skip loading anything else.
  startup_action action = startup_action::run;

  // ElevenLabs
  std::string elevenlabs_api_key;   // secret; empty: public agents, connected by agent id
  std::string elevenlabs_agent_id;  // the agent of calls nobody prepared or bound
  std::string elevenlabs_base_url = "https://api.elevenlabs.io";  // no trailing slash
  std::string elevenlabs_ca_file;  // extra CA bundle; empty: the system store
  std::chrono::milliseconds metadata_timeout{10000};

  // AudioSocket
  std::string audiosocket_host = "0.0.0.0";  // bind address
  // What dialplans should dial. load_settings fills it: AUDIOSOCKET_ADVERTISE_HOST, else the bind
  // host, or 127.0.0.1 when that is 0.0.0.0 or ::.
  std::string audiosocket_advertise_host;
  std::uint16_t audiosocket_port = 5050;      // the shared port, any number of calls
  bool audiosocket_port_enabled = true;       // AUDIOSOCKET_PORT=0 turns the shared port off
  std::uint16_t audiosocket_port_min = 5052;  // legacy pool, one call per port; 0: no pool
  std::uint16_t audiosocket_port_max = 5059;
  std::vector<port_binding> port_bindings;                 // sorted by port, each inside the pool
  std::chrono::milliseconds prepared_call_timeout{30000};  // Asterisk must connect within this
  bool osdial_heartbeat = false;  // kind 0x11 of length 16 without payload is a heartbeat
  std::chrono::milliseconds uplink_buffer{2000};  // caller audio kept while the agent is not ready
  std::chrono::milliseconds jitter_buffer{40};    // playout prefill when a turn starts mid-stream
  std::chrono::milliseconds barge_in_fade{5};
  dtmf_mode dtmf = dtmf_mode::user_message;

  // Control API
  std::string api_bind = "0.0.0.0";
  std::uint16_t api_port = 58080;  // 0: no control API
  std::string api_token;           // secret

  // AMI (Asterisk Manager Interface); an empty host: no AMI connection
  std::string asterisk_host;
  std::uint16_t asterisk_port = 5038;
  std::string asterisk_user;
  std::string asterisk_pass;  // secret

  // Logging
  log_level level = log_level::info;
  log_format format = log_format::text;

  std::string env_file = ".env";  // the file that was read; empty: none

  // Every non-empty secret value, for log redaction.
  [[nodiscard]] std::vector<std::string> secrets() const;
};

// Why the settings cannot be used. `key` is the environment name of the setting at fault (or the
// command-line argument, or the .env line); `message` never contains a secret's value.
struct config_error {
  std::string key;
  std::string message;

  friend bool operator==(const config_error& a, const config_error& b) {
    return a.key == b.key && a.message == b.message;
  }
  friend bool operator!=(const config_error& a, const config_error& b) { return !(a == b); }
};

// "KEY: message", for the start-up error.
[[nodiscard]] std::string to_string(const config_error& error);

// Precedence: command line > `environment` > .env file > defaults. The .env file is --env-file,
// else ENV_FILE, else ".env" (which may be missing). --help and --version return at once with
// `action` set and nothing else loaded.
[[nodiscard]] expected<settings, config_error> load_settings(
    int argc, const char* const* argv, const std::map<std::string, std::string>& environment);

// The process environment.
[[nodiscard]] std::map<std::string, std::string> current_environment();

// The dotenv syntax of the legacy Node app: KEY=VALUE lines, `export ` prefixes, blank lines and
// # comments, 'single', "double" (with \n \r \t \" \\ escapes) and `backtick` quoted values, and
// ` #` comments after unquoted values. A later line overrides an earlier one with the same key.
// A malformed line is an error naming its number, never quoting its content; its key is the
// line's variable when the line is KEY=..., else empty (the line may be a stray secret).
[[nodiscard]] expected<std::map<std::string, std::string>, config_error> parse_env_file(
    std::string_view text);

// The --help text: every setting with its environment name, flag, default and meaning.
[[nodiscard]] std::string usage();

// A multi-line summary for the start-up log; secrets appear as "(set)" or "(not set)".
[[nodiscard]] std::string describe(const settings& config);

}  // namespace cb
