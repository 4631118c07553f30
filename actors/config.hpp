// The server's settings: one value type, loaded and validated once at start-up from the command
// line, the process environment and a .env file, then passed down (actors never call getenv).
// The environment names are the legacy Node app's, so existing .env files keep working.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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
  // Threads running the agent WebSockets, the calls spread over them; 0: one per four cores.
  std::uint32_t elevenlabs_ws_threads = 0;

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
  std::uint16_t api_port = 58080;  // with api_enabled, 0 binds any free port (tests)
  bool api_enabled = true;         // API_PORT=0 turns the control API off
  std::string api_token;           // secret
  std::string api_tls_cert;        // PEM paths; both set: the API speaks HTTPS and WSS
  std::string api_tls_key;
  std::size_t api_max_body = 1U << 20U;  // bytes of an HTTP body or a WebSocket message

  // AMI (Asterisk Manager Interface); an empty host: no AMI connection
  std::string asterisk_host;
  std::uint16_t asterisk_port = 5038;
  std::string asterisk_user;
  std::string asterisk_pass;  // secret
  bool asterisk_tls = false;
  std::string asterisk_ca_file;  // extra CA bundle for AMI over TLS; empty: the system store
  std::chrono::milliseconds ami_ping_interval{20000};
  std::chrono::milliseconds ami_reconnect_min{500};  // backoff doubles up to max, with jitter
  std::chrono::milliseconds ami_reconnect_max{30000};
  std::chrono::milliseconds ami_action_timeout{5000};
  // The channel variable the dialplan stores the AudioSocket UUID in (links call and channel).
  std::string ami_uuid_variable = "CALL_UUID";
  // Channel variables read at call start and passed to the agent as dynamic variables:
  // "ASTERISK_NAME=dynamic_name" pairs (or a bare name, used as both).
  std::vector<std::pair<std::string, std::string>> ami_channel_variables;
  // How long a call's agent waits for its channel's variables before starting without them.
  std::chrono::milliseconds ami_variables_wait{1000};
  std::string ami_caller_id_variable = "caller_id";          // dynamic variable; empty: not sent
  std::string ami_called_number_variable = "called_number";  // dynamic variable; empty: not sent
  // Where transfer_call sends the caller: templates filled from the tool's parameters and the
  // channel's variables, {name} placeholders.
  std::string transfer_context = "from-internal";
  std::string transfer_exten = "{destination}";
  std::string transfer_priority = "1";
  // Calls the bridge places or pulls in: the dialplan context that runs
  // AudioSocket(${CALL_UUID},${AUDIOSOCKET_ADDRESS}).
  std::string originate_channel = "Local/{number}@from-internal";  // {number} is the callee
  std::string ai_context = "callbridge-ai";
  std::string ai_exten = "s";
  std::string originate_caller_id;
  std::chrono::milliseconds originate_timeout{30000};
  // Client tools the bridge answers itself.
  std::string tool_end_call = "end_call";
  std::string tool_transfer_call = "transfer_call";
  std::string tool_send_dtmf = "send_dtmf";

  // Call store
  std::string db_url = "sqlite:callbridge.db";           // sqlite:PATH or mysql://user@host:port/db
  std::string db_password;                               // secret, for mysql://
  std::string store_journal = "callbridge-journal.log";  // records waiting for the database
  std::uint32_t store_retention_days = 0;                // 0: keep forever
  std::string webhook_secret;  // secret: ElevenLabs post-call webhook HMAC key; empty: refused

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

// ELEVENLABS_WS_THREADS resolved: as set, or one per four cores (at least one) for 0.
[[nodiscard]] std::size_t ws_thread_count(const settings& config);

}  // namespace cb
