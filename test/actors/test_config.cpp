#include "actors/config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using environment = std::map<std::string, std::string>;

// A private directory for .env and secret files, removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "cb_config_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  [[nodiscard]] std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs load_settings with "callbridge" as argv[0]. Unless the arguments name an env file, none is
// read, so the working directory cannot leak into the test.
cb::expected<cb::settings, cb::config_error> load(std::vector<std::string> args,
                                                  const environment& env = {}) {
  bool names_env_file = env.count("ENV_FILE") != 0;
  for (const auto& a : args)
    names_env_file = names_env_file || a.rfind("--env-file", 0) == 0;
  if (!names_env_file) args.insert(args.begin(), "--env-file=");
  std::vector<const char*> argv{"callbridge"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  return cb::load_settings(static_cast<int>(argv.size()), argv.data(), env);
}

cb::settings load_ok(std::vector<std::string> args, const environment& env = {}) {
  auto result = load(std::move(args), env);
  if (!result) FAIL(cb::to_string(result.error()));
  return std::move(result).value();
}

cb::config_error load_error(std::vector<std::string> args, const environment& env = {}) {
  auto result = load(std::move(args), env);
  REQUIRE_FALSE(result.has_value());
  return result.error();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Changes the working directory for one test.
class working_directory {
 public:
  explicit working_directory(const fs::path& dir) : previous_(fs::current_path()) {
    fs::current_path(dir);
  }
  working_directory(const working_directory&) = delete;
  working_directory& operator=(const working_directory&) = delete;
  ~working_directory() {
    std::error_code ignored;
    fs::current_path(previous_, ignored);
  }

 private:
  fs::path previous_;
};

}  // namespace

TEST_CASE("nothing configured gives the documented defaults", "[config]") {
  const auto s = load_ok({});
  CHECK(s.action == cb::startup_action::run);
  CHECK(s.elevenlabs_api_key.empty());
  CHECK(s.elevenlabs_agent_id.empty());
  CHECK(s.elevenlabs_base_url == "https://api.elevenlabs.io");
  CHECK(s.elevenlabs_ca_file.empty());
  CHECK(s.metadata_timeout == 10000ms);
  CHECK(s.elevenlabs_ws_threads == 0);
  CHECK(cb::ws_thread_count(s) == std::max(1U, std::thread::hardware_concurrency() / 4));
  CHECK(s.audiosocket_host == "0.0.0.0");
  CHECK(s.audiosocket_advertise_host == "127.0.0.1");
  CHECK(s.audiosocket_port == 5050);
  CHECK(s.audiosocket_port_enabled);
  CHECK(s.audiosocket_port_min == 5052);
  CHECK(s.audiosocket_port_max == 5059);
  CHECK(s.port_bindings.empty());
  CHECK(s.prepared_call_timeout == 30000ms);
  CHECK_FALSE(s.osdial_heartbeat);
  CHECK(s.uplink_buffer == 2000ms);
  CHECK(s.jitter_buffer == 40ms);
  CHECK(s.barge_in_fade == 5ms);
  CHECK(s.dtmf == cb::dtmf_mode::user_message);
  CHECK(s.api_bind == "0.0.0.0");
  CHECK(s.api_port == 58080);
  CHECK(s.api_token.empty());
  CHECK(s.asterisk_host.empty());
  CHECK(s.asterisk_port == 5038);
  CHECK(s.asterisk_user.empty());
  CHECK(s.asterisk_pass.empty());
  CHECK(s.level == cb::log_level::info);
  CHECK(s.format == cb::log_format::text);
  CHECK(s.env_file.empty());
  CHECK(s.secrets().empty());
}

TEST_CASE("the legacy Node environment names keep working", "[config][legacy]") {
  const auto s = load_ok({}, {{"ELEVENLABS_API_KEY", "sk_0123456789abcdef"},
                              {"ELEVENLABS_AGENT_ID", "agent_01jz8q9w2xabc"},
                              {"ASTERISK_HOST", "10.0.0.5"},
                              {"ASTERISK_PORT", "5039"},
                              {"ASTERISK_USER", "callbridge"},
                              {"ASTERISK_PASS", "ami-secret"},
                              {"AUDIOSOCKET_HOST", "10.0.0.7"},
                              {"AUDIOSOCKET_PORT_MIN", "6000"},
                              {"AUDIOSOCKET_PORT_MAX", "6009"},
                              {"API_PORT", "8080"},
                              {"PATH", "/usr/bin"},
                              {"SOME_OTHER_APP_SETTING", "whatever"}});
  CHECK(s.elevenlabs_api_key == "sk_0123456789abcdef");
  CHECK(s.elevenlabs_agent_id == "agent_01jz8q9w2xabc");
  CHECK(s.asterisk_host == "10.0.0.5");
  CHECK(s.asterisk_port == 5039);
  CHECK(s.asterisk_user == "callbridge");
  CHECK(s.asterisk_pass == "ami-secret");
  CHECK(s.audiosocket_host == "10.0.0.7");
  CHECK(s.audiosocket_advertise_host == "10.0.0.7");
  CHECK(s.audiosocket_port_min == 6000);
  CHECK(s.audiosocket_port_max == 6009);
  CHECK(s.api_port == 8080);
}

TEST_CASE("a legacy Node .env file is read as the Node app read it", "[config][legacy]") {
  const temp_dir dir;
  const auto path = dir.write(".env",
                              "# callbridge (Node) configuration\n"
                              "ELEVENLABS_API_KEY=sk_abcdef0123456789\n"
                              "ELEVENLABS_AGENT_ID=agent_legacy\n"
                              "\n"
                              "ASTERISK_HOST=127.0.0.1\n"
                              "ASTERISK_PORT=5038\n"
                              "ASTERISK_USER=admin\n"
                              "ASTERISK_PASS='p@ss word#1'\n"
                              "AUDIOSOCKET_HOST=0.0.0.0\n"
                              "AUDIOSOCKET_PORT_MIN=5052\n"
                              "AUDIOSOCKET_PORT_MAX=5055  # four seats\n"
                              "API_PORT=58080\n"
                              "NODE_ENV=production\n");
  const auto s = load_ok({"--env-file", path});
  CHECK(s.env_file == path);
  CHECK(s.elevenlabs_api_key == "sk_abcdef0123456789");
  CHECK(s.elevenlabs_agent_id == "agent_legacy");
  CHECK(s.asterisk_host == "127.0.0.1");
  CHECK(s.asterisk_user == "admin");
  CHECK(s.asterisk_pass == "p@ss word#1");
  CHECK(s.audiosocket_port_min == 5052);
  CHECK(s.audiosocket_port_max == 5055);
  CHECK(s.api_port == 58080);
}

TEST_CASE("command line beats environment beats .env beats defaults", "[config][precedence]") {
  const temp_dir dir;
  const auto path = dir.write("layers.env",
                              "AUDIOSOCKET_PORT=6001\n"
                              "API_PORT=6101\n"
                              "JITTER_BUFFER_MS=61\n"
                              "LOG_LEVEL=debug\n");
  const environment env{{"ENV_FILE", path}, {"AUDIOSOCKET_PORT", "7001"}, {"API_PORT", "7101"}};
  const auto s = load_ok({"--audiosocket-port=8001"}, env);
  CHECK(s.audiosocket_port == 8001);       // command line
  CHECK(s.api_port == 7101);               // environment over .env
  CHECK(s.jitter_buffer == 61ms);          // .env over default
  CHECK(s.level == cb::log_level::debug);  // .env over default
  CHECK(s.barge_in_fade == 5ms);           // default
  CHECK(s.env_file == path);               // ENV_FILE chose the file
}

TEST_CASE("an empty value counts as not set at every layer", "[config][precedence]") {
  const temp_dir dir;
  const auto path = dir.write("e.env", "API_PORT=6101\nAUDIOSOCKET_PORT=\n");
  const auto s = load_ok({"--env-file", path, "--api-port="}, {{"API_PORT", ""}});
  CHECK(s.api_port == 6101);
  CHECK(s.audiosocket_port == 5050);
}

TEST_CASE("command-line flags mirror the environment names", "[config][cli]") {
  const auto s = load_ok({"--elevenlabs-agent-id", "agent_cli", "--audiosocket-port=0",
                          "--audiosocket-osdial-heartbeat", "--dtmf-mode", "contextual_update",
                          "--log-format=json", "--elevenlabs-base-url=http://127.0.0.1:9000/",
                          "--audiosocket-port-5052-agent-id=agent_seat1"});
  CHECK(s.elevenlabs_agent_id == "agent_cli");
  CHECK_FALSE(s.audiosocket_port_enabled);
  CHECK(s.osdial_heartbeat);
  CHECK(s.dtmf == cb::dtmf_mode::contextual_update);
  CHECK(s.format == cb::log_format::json);
  CHECK(s.elevenlabs_base_url == "http://127.0.0.1:9000");
  REQUIRE(s.port_bindings.size() == 1);
  CHECK(s.port_bindings[0].agent_id == "agent_seat1");

  CHECK_FALSE(
      load_ok({"--audiosocket-osdial-heartbeat=false"}, {{"AUDIOSOCKET_OSDIAL_HEARTBEAT", "1"}})
          .osdial_heartbeat);
  CHECK(load_ok({"--api-port", "9000", "--api-port", "9001"}).api_port == 9001);  // last wins
}

TEST_CASE("bad command lines are errors naming the argument", "[config][cli]") {
  auto e = load_error({"--no-such-setting=1"});
  CHECK(e.key == "--no-such-setting");
  CHECK(contains(e.message, "unknown option"));
  CHECK(load_error({"--AUDIOSOCKET_PORT=1"}).key == "--AUDIOSOCKET_PORT");
  CHECK(load_error({"--path=/bin"}).key == "--path");  // environment names that are not settings
  e = load_error({"stray"});
  CHECK(e.key == "stray");
  CHECK(contains(e.message, "unexpected argument"));
  e = load_error({"--elevenlabs-agent-id"});
  CHECK(e.key == "--elevenlabs-agent-id");
  CHECK(contains(e.message, "needs a value"));
  CHECK(load_error({"--log-level", "--log-format=json"}).key == "--log-level");
  CHECK(load_error({"--"}).key == "--");
}

TEST_CASE("help and version requests return at once, whatever else is wrong", "[config][cli]") {
  const auto help = load({"--bogus", "-h"}, {{"AUDIOSOCKET_PORT", "nope"}});
  REQUIRE(help);
  CHECK(help->action == cb::startup_action::print_help);
  CHECK(load({"--help"})->action == cb::startup_action::print_help);
  const auto version = load({"--version"}, {{"API_PORT", "-1"}});
  REQUIRE(version);
  CHECK(version->action == cb::startup_action::print_version);
}

TEST_CASE("the env file is --env-file, else ENV_FILE, else .env", "[config][env-file]") {
  const temp_dir dir;
  const auto from_flag = dir.write("flag.env", "ELEVENLABS_AGENT_ID=from_flag\n");
  const auto from_env = dir.write("env.env", "ELEVENLABS_AGENT_ID=from_env_file_var\n");
  CHECK(load_ok({"--env-file", from_flag}, {{"ENV_FILE", from_env}}).elevenlabs_agent_id ==
        "from_flag");
  CHECK(load_ok({}, {{"ENV_FILE", from_env}}).elevenlabs_agent_id == "from_env_file_var");
  // --env-file= reads none, even when ENV_FILE names one.
  CHECK(load_ok({"--env-file="}, {{"ENV_FILE", from_env}}).elevenlabs_agent_id.empty());

  const auto missing = (dir.path() / "missing.env").string();
  auto e = load_error({"--env-file", missing});
  CHECK(e.key == "ENV_FILE");
  CHECK(contains(e.message, missing));
  CHECK(load_error({}, {{"ENV_FILE", missing}}).key == "ENV_FILE");

  const working_directory cwd(dir.path());
  const std::vector<const char*> argv{"callbridge"};
  auto without_dotenv = cb::load_settings(1, argv.data(), {});
  REQUIRE(without_dotenv);  // the default .env may be missing
  CHECK(without_dotenv->env_file.empty());
  (void)dir.write(".env", "ELEVENLABS_AGENT_ID=from_dotenv\n");
  auto with_dotenv = cb::load_settings(1, argv.data(), {});
  REQUIRE(with_dotenv);
  CHECK(with_dotenv->elevenlabs_agent_id == "from_dotenv");
  CHECK(with_dotenv->env_file == ".env");
}

TEST_CASE("a malformed env file stops start-up with its path and line", "[config][env-file]") {
  const temp_dir dir;
  const auto stray = load_error({"--env-file", dir.write("stray.env", "# key\nsk_stray_value\n")});
  CHECK(stray.key == "ENV_FILE");
  CHECK(contains(stray.message, "line 2: expected KEY=VALUE"));
  CHECK_FALSE(contains(stray.message, "sk_stray_value"));

  const auto path = dir.write("bad.env", "ELEVENLABS_AGENT_ID=a\nASTERISK_PASS=\"unterminated\n");
  const auto e = load_error({"--env-file", path});
  CHECK(e.key == "ASTERISK_PASS");
  CHECK(contains(e.message, path));
  CHECK(contains(e.message, "line 2"));
  CHECK_FALSE(contains(e.message, "unterminated\""));
}

TEST_CASE("every setting is read from its variable", "[config]") {
  const temp_dir dir;
  const auto ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const auto s = load_ok({}, {{"ELEVENLABS_BASE_URL", "HTTPS://eu.residency.elevenlabs.io/"},
                              {"ELEVENLABS_CA_FILE", ca},
                              {"ELEVENLABS_METADATA_TIMEOUT_MS", "2500"},
                              {"ELEVENLABS_WS_THREADS", "3"},
                              {"AUDIOSOCKET_ADVERTISE_HOST", "pbx-bridge.example.com"},
                              {"AUDIOSOCKET_PORT", "4000"},
                              {"PREPARED_CALL_TIMEOUT_MS", "15000"},
                              {"AUDIOSOCKET_OSDIAL_HEARTBEAT", "yes"},
                              {"UPLINK_BUFFER_MS", "0"},
                              {"JITTER_BUFFER_MS", "0"},
                              {"BARGE_IN_FADE_MS", "20"},
                              {"DTMF_MODE", "ignore"},
                              {"API_BIND", "127.0.0.1"},
                              {"API_TOKEN", "api-token-value"},
                              {"LOG_LEVEL", "WARNING"},
                              {"LOG_FORMAT", "json"}});
  CHECK(s.elevenlabs_base_url == "https://eu.residency.elevenlabs.io");
  CHECK(s.elevenlabs_ca_file == ca);
  CHECK(s.metadata_timeout == 2500ms);
  CHECK(s.elevenlabs_ws_threads == 3);
  CHECK(cb::ws_thread_count(s) == 3);
  CHECK(s.audiosocket_advertise_host == "pbx-bridge.example.com");
  CHECK(s.audiosocket_port == 4000);
  CHECK(s.prepared_call_timeout == 15000ms);
  CHECK(s.osdial_heartbeat);
  CHECK(s.uplink_buffer == 0ms);
  CHECK(s.jitter_buffer == 0ms);
  CHECK(s.barge_in_fade == 20ms);
  CHECK(s.dtmf == cb::dtmf_mode::ignore);
  CHECK(s.api_bind == "127.0.0.1");
  CHECK(s.api_token == "api-token-value");
  CHECK(s.level == cb::log_level::warn);
  CHECK(s.format == cb::log_format::json);
  CHECK(s.secrets() == std::vector<std::string>{"api-token-value"});
}

TEST_CASE("base URLs are http(s)://host[:port][/path]", "[config][validation]") {
  for (const auto* good : {"http://localhost", "https://api.elevenlabs.io:443/",
                           "http://[::1]:8080/prefix/", "https://api.us.elevenlabs.io/v0"}) {
    INFO(good);
    CHECK(load({}, {{"ELEVENLABS_BASE_URL", good}}).has_value());
  }
  CHECK(load_ok({}, {{"ELEVENLABS_BASE_URL", "http://[::1]:8080/prefix//"}}).elevenlabs_base_url ==
        "http://[::1]:8080/prefix");
  for (const auto* bad :
       {"api.elevenlabs.io", "wss://api.elevenlabs.io", "ftp://host", "https://", "https://:443",
        "https://host:0", "https://host:99999", "https://host:http", "https://user:pw@host",
        "https://host/a b", "https://host/?q=1", "https://host/#frag", "https://ho st"}) {
    INFO(bad);
    const auto e = load_error({}, {{"ELEVENLABS_BASE_URL", bad}});
    CHECK(e.key == "ELEVENLABS_BASE_URL");
    CHECK(contains(e.message, bad));
  }
}

TEST_CASE("each bad value is an error naming its variable and value", "[config][validation]") {
  struct bad_case {
    const char* key;
    const char* value;
    const char* expectation;
  };
  const std::vector<bad_case> cases = {
      {"AUDIOSOCKET_PORT", "abc", "port number"},
      {"AUDIOSOCKET_PORT", "65536", "port number"},
      {"AUDIOSOCKET_PORT", "-1", "port number"},
      {"AUDIOSOCKET_PORT", "50 50", "port number"},
      {"AUDIOSOCKET_PORT_MIN", "5052x", "port number"},
      {"AUDIOSOCKET_PORT_MAX", "1e4", "port number"},
      {"API_PORT", "+80", "port number"},
      {"ASTERISK_PORT", "0", "port number 1-65535"},
      {"ELEVENLABS_METADATA_TIMEOUT_MS", "-5", "negative"},
      {"ELEVENLABS_METADATA_TIMEOUT_MS", "0", "1-3600000"},
      {"ELEVENLABS_WS_THREADS", "65", "0-64"},
      {"ELEVENLABS_WS_THREADS", "-1", "0-64"},
      {"PREPARED_CALL_TIMEOUT_MS", "-1", "negative"},
      {"PREPARED_CALL_TIMEOUT_MS", "30s", "milliseconds"},
      {"UPLINK_BUFFER_MS", "-100", "negative"},
      {"UPLINK_BUFFER_MS", "60001", "0-60000"},
      {"JITTER_BUFFER_MS", "2001", "0-2000"},
      {"BARGE_IN_FADE_MS", "-5", "negative"},
      {"BARGE_IN_FADE_MS", "101", "0-100"},
      {"AUDIOSOCKET_OSDIAL_HEARTBEAT", "maybe", "true or false"},
      {"DTMF_MODE", "speak", "user_message, contextual_update or ignore"},
      {"LOG_LEVEL", "verbose", "trace, debug, info, warn or error"},
      {"LOG_FORMAT", "xml", "text or json"},
      {"ELEVENLABS_AGENT_ID", "agent with spaces", "spaces"},
      {"ASTERISK_USER", "ad min", "spaces"},
      {"AUDIOSOCKET_HOST", "0.0.0.0/24", "host name or an IP address"},
      {"AUDIOSOCKET_ADVERTISE_HOST", "pbx host", "host name or an IP address"},
      {"API_BIND", "http://x", "host name or an IP address"},
      {"ASTERISK_HOST", "pbx;rm", "host name or an IP address"},
      {"ELEVENLABS_CA_FILE", "/nonexistent/ca.pem", "cannot be read"},
  };
  for (const auto& c : cases) {
    INFO(c.key << "=" << c.value);
    const auto e = load_error({}, {{c.key, c.value}});
    CHECK(e.key == c.key);
    CHECK(contains(e.message, std::string("\"") + c.value + "\""));
    CHECK(contains(e.message, "from the environment"));
    CHECK(contains(e.message, c.expectation));
  }
  const auto from_cli = load_error({"--api-port=http"});
  CHECK(from_cli.key == "API_PORT");
  CHECK(contains(from_cli.message, "from the command line"));
  CHECK(cb::to_string(from_cli) ==
        "API_PORT: invalid value \"http\" from the command line: expected a port number 0-65535");
}

TEST_CASE("the port pool must be ordered and clear of the other ports", "[config][validation]") {
  auto e = load_error({}, {{"AUDIOSOCKET_PORT_MIN", "6000"}});
  CHECK(e == cb::config_error{"AUDIOSOCKET_PORT_MIN",
                              "is 6000, must be <= AUDIOSOCKET_PORT_MAX "
                              "(5059)"});
  e = load_error({}, {{"AUDIOSOCKET_PORT", "5055"}});
  CHECK(e.key == "AUDIOSOCKET_PORT");
  CHECK(contains(e.message, "5055 lies inside the pool AUDIOSOCKET_PORT_MIN..MAX (5052-5059)"));
  e = load_error({}, {{"API_PORT", "5052"}});
  CHECK(e.key == "API_PORT");
  CHECK(contains(e.message, "5052 lies inside the pool"));
  e = load_error({}, {{"API_PORT", "5050"}});
  CHECK(e == cb::config_error{"API_PORT", "5050 is also AUDIOSOCKET_PORT"});

  // Turning things off lifts the conflicts.
  CHECK(load({}, {{"AUDIOSOCKET_PORT", "0"},
                  {"API_PORT", "0"},
                  {"AUDIOSOCKET_PORT_MIN", "5040"},
                  {"AUDIOSOCKET_PORT_MAX", "5060"}})
            .has_value());
  const auto no_pool = load_ok({}, {{"AUDIOSOCKET_PORT_MIN", "0"}, {"AUDIOSOCKET_PORT", "5055"}});
  CHECK(no_pool.audiosocket_port_min == 0);
  CHECK(load_ok({}, {{"AUDIOSOCKET_PORT_MIN", "5050"},
                     {"AUDIOSOCKET_PORT_MAX", "5050"},
                     {"AUDIOSOCKET_PORT", "0"}})
            .audiosocket_port_max == 5050);
}

TEST_CASE("pool ports bind to agents with default dynamic variables", "[config][bindings]") {
  const temp_dir dir;
  const auto path = dir.write("osdial.env",
                              "AUDIOSOCKET_PORT_5053_AGENT_ID=agent_sales\n"
                              "AUDIOSOCKET_PORT_5053_VARIABLES='{\"seat\":\"2\",\"campaign\":"
                              "\"SALES\",\"priority\":3,\"vip\":false}'\n"
                              "AUDIOSOCKET_PORT_5052_AGENT_ID=agent_support\n");
  const auto s = load_ok({"--env-file", path});
  REQUIRE(s.port_bindings.size() == 2);
  CHECK(s.port_bindings[0].port == 5052);
  CHECK(s.port_bindings[0].agent_id == "agent_support");
  CHECK(s.port_bindings[0].dynamic_variables.empty());
  CHECK(s.port_bindings[1].port == 5053);
  CHECK(s.port_bindings[1].agent_id == "agent_sales");
  const cb::elevenlabs::dynamic_variable_map expected{{"seat", std::string("2")},
                                                      {"campaign", std::string("SALES")},
                                                      {"priority", std::int64_t{3}},
                                                      {"vip", false}};
  CHECK(s.port_bindings[1].dynamic_variables == expected);
}

TEST_CASE("bad port bindings are errors naming the binding", "[config][bindings]") {
  auto e = load_error({}, {{"AUDIOSOCKET_PORT_6000_AGENT_ID", "agent_x"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_6000_AGENT_ID");
  CHECK(contains(e.message, "outside the pool AUDIOSOCKET_PORT_MIN..MAX (5052-5059)"));

  e = load_error({}, {{"AUDIOSOCKET_PORT_5052_VARIABLES", "{\"seat\":\"1\"}"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_5052_VARIABLES");
  CHECK(contains(e.message, "AUDIOSOCKET_PORT_5052_AGENT_ID"));

  e = load_error({}, {{"AUDIOSOCKET_PORT_5052_AGENT_ID", "agent_x"},
                      {"AUDIOSOCKET_PORT_5052_VARIABLES", "{\"seat\":"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_5052_VARIABLES");
  CHECK(contains(e.message, "JSON object"));

  e = load_error({}, {{"AUDIOSOCKET_PORT_5052_AGENT_ID", "agent_x"},
                      {"AUDIOSOCKET_PORT_5052_VARIABLES", "{\"nested\":{\"a\":1}}"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_5052_VARIABLES");

  e = load_error({}, {{"AUDIOSOCKET_PORT_5052_AGENT_ID", "agent x"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_5052_AGENT_ID");

  for (const auto* key : {"AUDIOSOCKET_PORT_SEAT1_AGENT_ID", "AUDIOSOCKET_PORT_05052_AGENT_ID",
                          "AUDIOSOCKET_PORT_70000_VARIABLES", "AUDIOSOCKET_PORT__VARIABLES"}) {
    INFO(key);
    CHECK(load_error({}, {{key, "agent_x"}}).key == key);
  }

  e = load_error({}, {{"AUDIOSOCKET_PORT_MIN", "0"}, {"AUDIOSOCKET_PORT_5052_AGENT_ID", "a"}});
  CHECK(e.key == "AUDIOSOCKET_PORT_5052_AGENT_ID");
  CHECK(contains(e.message, "pool is off"));
}

TEST_CASE("secret files hold secrets and the nearer layer wins", "[config][secrets]") {
  const temp_dir dir;
  const auto pass_file = dir.write("ami.pass", "from-file-pass\r\n");
  auto s = load_ok({}, {{"ASTERISK_PASS_FILE", pass_file}});
  CHECK(s.asterisk_pass == "from-file-pass");
  s = load_ok({"--elevenlabs-api-key-file", dir.write("xi", "sk_file_key\n")},
              {{"ELEVENLABS_API_KEY", "sk_env_key"}});
  CHECK(s.elevenlabs_api_key == "sk_file_key");
  s = load_ok({"--asterisk-pass=cli-pass"}, {{"ASTERISK_PASS_FILE", pass_file}});
  CHECK(s.asterisk_pass == "cli-pass");
  CHECK(load_ok({}, {{"API_TOKEN_FILE", dir.write("tok", "file-token")}}).api_token ==
        "file-token");

  auto e = load_error({}, {{"ASTERISK_PASS", "direct-pass"}, {"ASTERISK_PASS_FILE", pass_file}});
  CHECK(e.key == "ASTERISK_PASS_FILE");
  CHECK(contains(e.message, "both"));
  CHECK_FALSE(contains(e.message, "direct-pass"));

  const auto missing = (dir.path() / "nope").string();
  e = load_error({}, {{"ASTERISK_PASS_FILE", missing}});
  CHECK(e.key == "ASTERISK_PASS_FILE");
  CHECK(contains(e.message, missing));
  e = load_error({}, {{"API_TOKEN_FILE", dir.write("empty", "\n")}});
  CHECK(e.key == "API_TOKEN_FILE");
  CHECK(contains(e.message, "empty"));
}

TEST_CASE("errors never quote a secret's value", "[config][secrets]") {
  for (const auto* key : {"ELEVENLABS_API_KEY", "API_TOKEN", "ASTERISK_PASS"}) {
    INFO(key);
    const auto e = load_error({}, {{key, "topsecret\x01value"}});
    CHECK(e.key == key);
    CHECK(contains(e.message, "control character"));
    CHECK_FALSE(contains(e.message, "topsecret"));

    const temp_dir dir;
    const auto file_error =
        load_error({}, {{std::string(key) + "_FILE", dir.write("s", "topsecret\x02value\n")}});
    CHECK(file_error.key == key);
    CHECK_FALSE(contains(file_error.message, "topsecret"));
  }
  const temp_dir dir;
  const auto path = dir.write("s.env", "API_TOKEN='topsecret-token\n");
  const auto e = load_error({"--env-file", path});
  CHECK(e.key == "API_TOKEN");
  CHECK_FALSE(contains(e.message, "topsecret"));
}

TEST_CASE("describe summarises every setting without revealing secrets", "[config][secrets]") {
  auto s = load_ok({"--audiosocket-port-5054-agent-id=agent_seat3",
                    "--audiosocket-port-5054-variables={\"seat\":\"3\",\"queue\":\"B\"}"},
                   {{"ELEVENLABS_API_KEY", "sk_describe_secret"},
                    {"ELEVENLABS_AGENT_ID", "agent_default"},
                    {"ASTERISK_HOST", "pbx.local"},
                    {"ASTERISK_USER", "bridge"},
                    {"ASTERISK_PASS", "ami_describe_secret"}});
  const auto text = cb::describe(s);
  CHECK_FALSE(contains(text, "sk_describe_secret"));
  CHECK_FALSE(contains(text, "ami_describe_secret"));
  CHECK(contains(text, "API key (set)"));
  CHECK(contains(text, "token (not set)"));
  CHECK(contains(text, "password (set)"));
  CHECK(contains(text, "default agent agent_default"));
  CHECK(contains(text, "shared port 5050"));
  CHECK(contains(text, "pool 5052-5059"));
  CHECK(contains(text, "port 5054"));
  CHECK(contains(text, "agent_seat3 with variables queue, seat"));
  CHECK(contains(text, "pbx.local:5038"));
  CHECK(contains(text, "DTMF user_message"));
  CHECK(contains(text, "info, text"));

  s.api_enabled = false;
  s.asterisk_host.clear();
  s.audiosocket_port_enabled = false;
  s.audiosocket_port_min = 0;
  const auto off = cb::describe(s);
  CHECK(contains(off, "Control API: off"));
  CHECK(contains(off, "AMI:         off"));
  CHECK(contains(off, "shared port off, pool off"));
}

TEST_CASE("usage lists every setting with its flag", "[config][usage]") {
  const auto text = cb::usage();
  for (const auto* name : {"ELEVENLABS_API_KEY",
                           "ELEVENLABS_AGENT_ID",
                           "ELEVENLABS_BASE_URL",
                           "ELEVENLABS_CA_FILE",
                           "ELEVENLABS_METADATA_TIMEOUT_MS",
                           "ELEVENLABS_WS_THREADS",
                           "AUDIOSOCKET_HOST",
                           "AUDIOSOCKET_ADVERTISE_HOST",
                           "AUDIOSOCKET_PORT",
                           "AUDIOSOCKET_PORT_MIN",
                           "AUDIOSOCKET_PORT_MAX",
                           "AUDIOSOCKET_PORT_<N>_AGENT_ID",
                           "AUDIOSOCKET_PORT_<N>_VARIABLES",
                           "PREPARED_CALL_TIMEOUT_MS",
                           "AUDIOSOCKET_OSDIAL_HEARTBEAT",
                           "UPLINK_BUFFER_MS",
                           "JITTER_BUFFER_MS",
                           "BARGE_IN_FADE_MS",
                           "DTMF_MODE",
                           "API_BIND",
                           "API_PORT",
                           "API_TOKEN",
                           "ASTERISK_HOST",
                           "ASTERISK_PORT",
                           "ASTERISK_USER",
                           "ASTERISK_PASS",
                           "ASTERISK_PASS_FILE",
                           "ELEVENLABS_API_KEY_FILE",
                           "API_TOKEN_FILE",
                           "LOG_LEVEL",
                           "LOG_FORMAT",
                           "ENV_FILE"}) {
    INFO(name);
    CHECK(contains(text, std::string("  ") + name + ", "));
  }
  for (const auto* flag :
       {"--help", "--version", "--env-file", "--elevenlabs-api-key", "--audiosocket-port-min",
        "--audiosocket-osdial-heartbeat", "--asterisk-pass-file", "--log-format"}) {
    INFO(flag);
    CHECK(contains(text, flag));
  }
}

TEST_CASE(".env syntax: comments, export, quotes and escapes", "[config][dotenv]") {
  const auto parsed = cb::parse_env_file(
      "\xEF\xBB\xBF# a comment\n"
      "\n"
      "   # indented comment\n"
      "PLAIN=value\n"
      "SPACED = spaced value   \n"
      "export EXPORTED=yes\n"
      "SINGLE='single \\n $literal # kept'\n"
      "DOUBLE=\"line1\\nline2\\t\\\"q\\\" back\\\\slash \\x\" # comment\n"
      "BACKTICK=`it's \"quoted\"`\n"
      "INLINE=before # after\n"
      "HASH=a#b\n"
      "EMPTY=\n"
      "EMPTY_QUOTED=\"\"\n"
      "ONLY_COMMENT= # nothing\n"
      "CRLF=windows\r\n"
      "dotted.key-name=ok\n"
      "PLAIN=overridden\n"
      "LAST=no newline at the end");
  REQUIRE(parsed);
  const std::map<std::string, std::string> expected{
      {"PLAIN", "overridden"},
      {"SPACED", "spaced value"},
      {"EXPORTED", "yes"},
      {"SINGLE", "single \\n $literal # kept"},
      {"DOUBLE", "line1\nline2\t\"q\" back\\slash \\x"},
      {"BACKTICK", "it's \"quoted\""},
      {"INLINE", "before"},
      {"HASH", "a#b"},
      {"EMPTY", ""},
      {"EMPTY_QUOTED", ""},
      {"ONLY_COMMENT", ""},
      {"CRLF", "windows"},
      {"dotted.key-name", "ok"},
      {"LAST", "no newline at the end"},
  };
  CHECK(*parsed == expected);
  CHECK(cb::parse_env_file("")->empty());
  CHECK(cb::parse_env_file("\n\n# only comments\n")->empty());
}

TEST_CASE("malformed .env lines are errors naming the line, not its content", "[config][dotenv]") {
  struct bad_case {
    const char* text;
    const char* key;
    const char* message;
  };
  const std::vector<bad_case> cases = {
      {"A=1\nno equals sign here\n", "", "line 2: expected KEY=VALUE"},
      {"=value\n", "", "line 1: expected KEY=VALUE"},
      {"sk_pasted_alone_secret\n", "", "line 1: expected KEY=VALUE"},
      {"A=1\n\n KEY with space=1\n", "", "line 3: expected KEY=VALUE"},
      {"SECRET='unterminated\n", "SECRET", "line 1: unterminated quote"},
      {"SECRET=\"unterminated\\\"\n", "SECRET", "line 1: unterminated quote"},
      {"SECRET=`x\n", "SECRET", "line 1: unterminated quote"},
      {"# c\nSECRET='a'b\n", "SECRET", "line 2: unexpected text after the closing quote"},
      {"SECRET=\"a\" b\n", "SECRET", "line 1: unexpected text after the closing quote"},
      {"export\n", "", "line 1: expected KEY=VALUE"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto parsed = cb::parse_env_file(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error() == cb::config_error{c.key, c.message});
  }
}

TEST_CASE("current_environment reads the process environment", "[config]") {
  REQUIRE(::setenv("CB_CONFIG_TEST_VARIABLE", "a=b", 1) == 0);
  const auto env = cb::current_environment();
  ::unsetenv("CB_CONFIG_TEST_VARIABLE");
  REQUIRE(env.count("CB_CONFIG_TEST_VARIABLE") == 1);
  CHECK(env.at("CB_CONFIG_TEST_VARIABLE") == "a=b");
}

TEST_CASE("AMI, tool, API and store settings are read from their variables", "[config]") {
  const auto s =
      load_ok({}, {{"ASTERISK_HOST", "10.0.0.5"},
                   {"ASTERISK_USER", "bridge"},
                   {"ASTERISK_TLS", "on"},
                   {"AMI_PING_INTERVAL_MS", "5000"},
                   {"AMI_RECONNECT_MIN_MS", "100"},
                   {"AMI_RECONNECT_MAX_MS", "8000"},
                   {"AMI_ACTION_TIMEOUT_MS", "3000"},
                   {"AMI_UUID_VARIABLE", "AI_UUID"},
                   {"AMI_CHANNEL_VARIABLES", " lead_id, FIRST_NAME=first_name ,,campaign"},
                   {"AMI_VARIABLES_WAIT_MS", "0"},
                   {"TRANSFER_CONTEXT", "osdial"},
                   {"TRANSFER_EXTEN", "ingroup_{queue}"},
                   {"ORIGINATE_CHANNEL", "PJSIP/{number}@trunk"},
                   {"AI_CONTEXT", "ai-in"},
                   {"TOOL_TRANSFER_CALL", "handoff"},
                   {"API_MAX_BODY", "4096"},
                   {"DB_URL", "mysql://cb@db.example.com:3306/asterisk"},
                   {"DB_PASSWORD", "db-secret-value"},
                   {"STORE_RETENTION_DAYS", "90"},
                   {"ELEVENLABS_WEBHOOK_SECRET", "wsec_value"}});
  CHECK(s.asterisk_tls);
  CHECK(s.ami_ping_interval == 5000ms);
  CHECK(s.ami_reconnect_min == 100ms);
  CHECK(s.ami_reconnect_max == 8000ms);
  CHECK(s.ami_action_timeout == 3000ms);
  CHECK(s.ami_uuid_variable == "AI_UUID");
  using pair = std::pair<std::string, std::string>;
  CHECK(s.ami_channel_variables == std::vector<pair>{{"lead_id", "lead_id"},
                                                     {"FIRST_NAME", "first_name"},
                                                     {"campaign", "campaign"}});
  CHECK(s.ami_variables_wait == 0ms);
  CHECK(s.transfer_context == "osdial");
  CHECK(s.transfer_exten == "ingroup_{queue}");
  CHECK(s.originate_channel == "PJSIP/{number}@trunk");
  CHECK(s.ai_context == "ai-in");
  CHECK(s.tool_transfer_call == "handoff");
  CHECK(s.api_max_body == 4096);
  CHECK(s.db_url == "mysql://cb@db.example.com:3306/asterisk");
  CHECK(s.store_retention_days == 90);
  CHECK(s.secrets() == std::vector<std::string>{"db-secret-value", "wsec_value"});
  const auto text = cb::describe(s);
  CHECK_FALSE(contains(text, "db-secret-value"));
  CHECK_FALSE(contains(text, "wsec_value"));
  CHECK(contains(text, "10.0.0.5:5038 (TLS)"));
}

TEST_CASE("AMI, API and store settings that cannot work are refused", "[config][validation]") {
  CHECK(load_error({}, {{"ASTERISK_HOST", "pbx"}}).key == "ASTERISK_USER");
  CHECK(load_error({}, {{"AMI_RECONNECT_MIN_MS", "5000"}, {"AMI_RECONNECT_MAX_MS", "1000"}}).key ==
        "AMI_RECONNECT_MIN_MS");
  CHECK(contains(load_error({}, {{"AMI_CHANNEL_VARIABLES", "lead id"}}).message,
                 "NAME=dynamic_name"));
  CHECK(contains(load_error({}, {{"DB_URL", "postgres://x@y/z"}}).message, "sqlite:PATH"));
  const auto password_in_url = load_error({}, {{"DB_URL", "mysql://cb:hunter2@db/x"}});
  CHECK(contains(password_in_url.message, "DB_PASSWORD"));
  CHECK_FALSE(contains(password_in_url.message, "hunter2"));
  CHECK(load_error({}, {{"API_MAX_BODY", "10"}}).key == "API_MAX_BODY");
  const temp_dir dir;
  const auto cert = dir.write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  CHECK(load_error({}, {{"API_TLS_CERT", cert}}).key == "API_TLS_KEY");
}
