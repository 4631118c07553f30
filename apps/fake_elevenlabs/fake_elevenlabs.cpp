#include "apps/fake_elevenlabs/fake_elevenlabs.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <sys/resource.h>

#include <libwebsockets.h>
#include <lws_config.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstring>
#include <ctime>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "apps/fake_elevenlabs/conversation.hpp"
#include "apps/fake_elevenlabs/random_token.hpp"
#include "apps/fake_elevenlabs/record_store.hpp"
#include "protocol/elevenlabs_json.hpp"

namespace cb::fake_elevenlabs {
namespace {

constexpr std::string_view conversation_path = "/v1/convai/conversation";
constexpr std::string_view signed_url_path = "/v1/convai/conversation/get-signed-url";
constexpr std::string_view legacy_signed_url_path = "/v1/convai/conversation/get_signed_url";
constexpr std::string_view api_key_header = "xi-api-key:";

// lws hands every connection this much zeroed memory; a conversation keeps its pointer there.
struct session {
  conversation* conv;
};

std::optional<std::string> custom_header(lws* wsi, std::string_view name) {
  const int name_len = static_cast<int>(name.size());
  const int length = lws_hdr_custom_length(wsi, name.data(), name_len);
  if (length < 0) return std::nullopt;
  std::string value(static_cast<std::size_t>(length) + 1, '\0');
  const int copied = lws_hdr_custom_copy(wsi, value.data(), length + 1, name.data(), name_len);
  if (copied < 0) return std::nullopt;
  value.resize(static_cast<std::size_t>(copied));
  return value;
}

std::optional<std::string> header(lws* wsi, lws_token_indexes token) {
  const int length = lws_hdr_total_length(wsi, token);
  if (length <= 0) return std::nullopt;
  std::string value(static_cast<std::size_t>(length) + 1, '\0');
  const int copied = lws_hdr_copy(wsi, value.data(), length + 1, token);
  if (copied < 0) return std::nullopt;
  value.resize(static_cast<std::size_t>(copied));
  return value;
}

// A urldecoded query argument; name includes the '=' ("agent_id=").
std::optional<std::string> url_argument(lws* wsi, const char* name) {
  std::array<char, 1024> buffer{};
  const char* value =
      lws_get_urlarg_by_name(wsi, name, buffer.data(), static_cast<int>(buffer.size()));
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::string url_encoded(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

std::string detail_json(std::string_view status, std::string_view message) {
  std::string json;
  elevenlabs::detail::json_writer w(json);
  w.begin_object().key("detail").begin_object();
  w.key("status").string(status).key("message").string(message);
  w.end_object().end_object();
  return json;
}

// Lets the service hold thousands of sockets (the load benchmark runs 2,000 conversations).
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

struct server::impl {
  struct signature_entry {
    std::string agent_id;
    clock::time_point expires_at;
    std::optional<std::string> conversation_id;
  };
  struct accepted_upgrade {
    agent_profile profile;
    std::optional<std::string> signature;
    bool by_api_key = false;
    std::optional<std::string> conversation_id;
  };

  server_options options;
  lws_context* context = nullptr;
  std::array<lws_protocols, 3> protocols{};
  std::thread thread;
  pthread_t service_thread{};  // for its CPU clock
  std::mutex stop_mutex;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::uint16_t port = 0;
  record_store records;
  std::mt19937_64 rng{std::random_device{}()};
  conversation_env env;
  std::optional<lws_grid_timers> pacing;

  // Service-thread state.
  std::unordered_map<std::string, signature_entry> signatures;
  std::unordered_map<lws*, accepted_upgrade> upgrades;
  std::unordered_map<lws*, std::string> http_bodies;
  std::unordered_map<conversation*, std::unique_ptr<conversation>> conversations;

  std::uint64_t frames_this_pass = 0;
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> signed_urls{0};

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len);

  void run();
  void log(std::string_view line) const {
    if (options.log) options.log(line);
  }
  [[nodiscard]] std::optional<agent_profile> resolve(std::string_view agent_id) const;
  int respond(lws* wsi, unsigned status, std::string body);
  int write_http_body(lws* wsi);
  int handle_http(lws* wsi, std::string_view path);
  int confirm_upgrade(lws* wsi);
  int refuse_upgrade(lws* wsi, std::string_view why);
  int established(lws* wsi, void* user);
};

std::optional<agent_profile> server::impl::resolve(std::string_view agent_id) const {
  for (const auto& agent : options.agents) {
    if (agent.agent_id == agent_id) return agent;
  }
  if (options.restrict_agents) return std::nullopt;
  return profile_from_agent_id(agent_id);
}

int server::impl::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                           std::size_t len) {
  auto* self = static_cast<impl*>(lws_context_user(lws_get_context(wsi)));
  auto* s = static_cast<session*>(user);
  conversation* conv = s != nullptr ? s->conv : nullptr;
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      return self->handle_http(wsi, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_WRITEABLE:
      return self->write_http_body(wsi);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return self->confirm_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
      return self->established(wsi, user);
    case LWS_CALLBACK_RECEIVE:
      if (conv == nullptr) return -1;
      ++self->frames_this_pass;
      conv->receive(in, len);
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (conv == nullptr) return -1;
      ++self->frames_this_pass;
      return conv->writeable();
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (conv != nullptr) conv->peer_closing(static_cast<const std::uint8_t*>(in), len);
      return 0;
    case LWS_CALLBACK_CLOSED:
      if (conv != nullptr) {
        conv->closed();
        s->conv = nullptr;
        self->conversations.erase(conv);
        --self->active;
      }
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      self->upgrades.erase(wsi);
      self->http_bodies.erase(wsi);
      break;
    default:
      break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int server::impl::respond(lws* wsi, unsigned status, std::string body) {
  std::array<unsigned char, LWS_PRE + 512> headers{};
  unsigned char* start = headers.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = headers.data() + headers.size() - 1;
  if (lws_add_http_common_headers(wsi, status, "application/json", body.size(), &p, end) != 0 ||
      lws_finalize_write_http_header(wsi, start, &p, end) != 0) {
    return 1;
  }
  body.insert(0, LWS_PRE, '\0');
  http_bodies[wsi] = std::move(body);
  lws_callback_on_writable(wsi);
  return 0;
}

int server::impl::write_http_body(lws* wsi) {
  const auto it = http_bodies.find(wsi);
  if (it == http_bodies.end()) return 0;
  std::string& body = it->second;
  auto* data = reinterpret_cast<unsigned char*>(body.data());  // NOLINT(*-reinterpret-cast)
  const std::size_t size = body.size() - LWS_PRE;
  const int written = lws_write(wsi, data + LWS_PRE, size, LWS_WRITE_HTTP_FINAL);
  http_bodies.erase(it);
  if (written < static_cast<int>(size)) return -1;
  return lws_http_transaction_completed(wsi) != 0 ? -1 : 0;
}

int server::impl::handle_http(lws* wsi, std::string_view path) {
  ++http_requests;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
    log(fmt::format("http {} -> 405", path));
    return respond(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, R"({"detail":"Method Not Allowed"})");
  }
  if (path != signed_url_path && path != legacy_signed_url_path) {
    log(fmt::format("http GET {} -> 404", path));
    return respond(wsi, HTTP_STATUS_NOT_FOUND, R"({"detail":"Not Found"})");
  }
  if (!options.api_key.empty()) {
    const auto key = custom_header(wsi, api_key_header);
    if (!key) {
      log("http GET get-signed-url without xi-api-key -> 401");
      return respond(wsi, HTTP_STATUS_UNAUTHORIZED,
                     detail_json("invalid_api_key",
                                 "Neither authorization header nor xi-api-key received, please "
                                 "provide one."));
    }
    if (*key != options.api_key) {
      log("http GET get-signed-url with a wrong xi-api-key -> 401");
      return respond(wsi, HTTP_STATUS_UNAUTHORIZED,
                     detail_json("invalid_api_key", "Invalid API key"));
    }
  }
  const auto agent_id = url_argument(wsi, "agent_id=");
  if (!agent_id || agent_id->empty()) {
    log("http GET get-signed-url without agent_id -> 422");
    return respond(
        wsi, 422,
        R"({"detail":[{"type":"missing","loc":["query","agent_id"],"msg":"Field required","input":null}]})");
  }
  if (!resolve(*agent_id)) {
    log(fmt::format("http GET get-signed-url for unknown agent {} -> 404", *agent_id));
    return respond(wsi, HTTP_STATUS_NOT_FOUND,
                   detail_json("agent_not_found", "Agent " + *agent_id + " not found"));
  }
  const auto now = clock::now();
  for (auto it = signatures.begin(); it != signatures.end();) {
    it = it->second.expires_at < now ? signatures.erase(it) : std::next(it);
  }
  const std::string signature = random_token(rng, "", 43);
  std::optional<std::string> conversation_id;
  if (url_argument(wsi, "include_conversation_id=").value_or("") == "true") {
    conversation_id = random_token(rng, "conv_", 26);
  }
  signatures[signature] = signature_entry{*agent_id, now + options.signature_ttl, conversation_id};
  const std::string host =
      header(wsi, WSI_TOKEN_HOST).value_or(fmt::format("{}:{}", options.bind_address, port));
  std::string body;
  elevenlabs::detail::json_writer w(body);
  w.begin_object().key("signed_url");
  w.string(fmt::format("ws://{}{}?agent_id={}&conversation_signature={}", host, conversation_path,
                       url_encoded(*agent_id), signature));
  if (conversation_id) w.key("conversation_id").string(*conversation_id);
  w.end_object();
  ++signed_urls;
  log(fmt::format("http GET get-signed-url for agent {} -> 200", *agent_id));
  return respond(wsi, HTTP_STATUS_OK, std::move(body));
}

int server::impl::refuse_upgrade(lws* wsi, std::string_view why) {
  ++refused;
  log(fmt::format("upgrade refused (403): {}", why));
  if (lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, nullptr) != 0) return -1;
  return 1;
}

int server::impl::confirm_upgrade(lws* wsi) {
  const auto path = header(wsi, WSI_TOKEN_GET_URI);
  if (!path || *path != conversation_path) {
    return refuse_upgrade(wsi, "no agent endpoint at " + path.value_or("?"));
  }
  const auto agent_id = url_argument(wsi, "agent_id=");
  if (!agent_id || agent_id->empty()) return refuse_upgrade(wsi, "no agent_id");
  auto profile = resolve(*agent_id);
  if (!profile) return refuse_upgrade(wsi, "unknown agent " + *agent_id);
  if (profile->scenario == scenario_kind::refuse) {
    return refuse_upgrade(wsi, "agent " + *agent_id + " refuses conversations");
  }

  accepted_upgrade accepted;
  accepted.signature = url_argument(wsi, "conversation_signature=");
  if (accepted.signature) {
    const auto it = signatures.find(*accepted.signature);
    const auto now = clock::now();
    if (it == signatures.end() || it->second.expires_at < now || it->second.agent_id != *agent_id) {
      if (it != signatures.end() && it->second.expires_at < now) signatures.erase(it);
      return refuse_upgrade(wsi, "invalid, expired or used conversation_signature");
    }
    accepted.conversation_id = it->second.conversation_id;
    signatures.erase(it);  // single use
  } else if (!options.api_key.empty() && !profile->is_public) {
    const auto key = custom_header(wsi, api_key_header);
    if (!key || *key != options.api_key) {
      return refuse_upgrade(wsi, "private agent " + *agent_id + " needs a signed URL");
    }
    accepted.by_api_key = true;
  }
  accepted.profile = std::move(*profile);
  upgrades[wsi] = std::move(accepted);
  return 0;
}

int server::impl::established(lws* wsi, void* user) {
  const auto it = upgrades.find(wsi);
  if (it == upgrades.end() || user == nullptr) return -1;
  accepted_upgrade accepted = std::move(it->second);
  upgrades.erase(it);

  conversation_record record;
  record.agent_id = accepted.profile.agent_id;
  record.conversation_id = accepted.conversation_id.value_or(random_token(rng, "conv_", 26));
  // lws keeps its own copy of the protocol table, so compare names.
  const lws_protocols* protocol = lws_get_protocol(wsi);
  record.subprotocol = protocol != nullptr && std::strcmp(protocol->name, protocols[1].name) == 0
                           ? protocols[1].name
                           : "";
  record.signature = accepted.signature;
  record.authorized_by_api_key_header = accepted.by_api_key;
  record.connected_at = clock::now();
  const std::string conversation_id = record.conversation_id;
  const std::size_t index = records.add(std::move(record));

  auto conv =
      std::make_unique<conversation>(env, wsi, std::move(accepted.profile), conversation_id, index);
  static_cast<session*>(user)->conv = conv.get();
  conversation* raw = conv.get();
  conversations.emplace(raw, std::move(conv));
  ++connections;
  ++active;
  raw->established();
  return 0;
}

void server::impl::run() {
  // lws's poll() loop costs time per open socket on every pass, however few are ready (40% of
  // this thread at 1,000 conversations). Under load, a short pause before the next poll() lets
  // many sockets become ready at once; when traffic is light nothing waits.
  constexpr std::uint64_t busy_pass_frames = 8;
  while (!stopping.load()) {
    frames_this_pass = 0;
    if (lws_service(context, 0) < 0) break;
    if (frames_this_pass >= busy_pass_frames && options.poll_batching.count() > 0) {
      std::this_thread::sleep_for(options.poll_batching);
    }
  }
  // stop() sets the flag and wakes the loop under this mutex, so once it is free here stop() no
  // longer touches the context.
  { const std::lock_guard<std::mutex> lock(stop_mutex); }
  stopping.store(true);
  // Closing conversations still cancel their pacing; only the lws timer must go first.
  pacing->stop();
  lws_context_destroy(context);
}

server::server() : impl_(std::make_unique<impl>()) {}

server::~server() {
  stop();
}

expected<std::uint16_t, std::string> server::start(server_options options) {
  impl& m = *impl_;
  if (m.started) return unexpected{std::string("the server was already started")};
  m.started = true;
  m.options = std::move(options);
  raise_open_file_limit();

  constexpr std::size_t rx_buffer_bytes = 8192;
  constexpr std::size_t tx_packet_bytes = 65536;
  // protocols[0] serves HTTP and WebSockets without a subprotocol; [1] is the JS SDK's "convai".
  m.protocols[0] = {"http", &impl::callback, sizeof(session), rx_buffer_bytes,
                    0,      nullptr,         tx_packet_bytes};
  m.protocols[1] = {"convai", &impl::callback, sizeof(session), rx_buffer_bytes,
                    0,        nullptr,         tx_packet_bytes};
  m.protocols[2] = {nullptr, nullptr, 0, 0, 0, nullptr, 0};

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.port = m.options.port;
  info.iface = m.options.bind_address.c_str();
  info.protocols = m.protocols.data();
  info.gid = -1;
  info.uid = -1;
  info.user = &m;
  info.vhost_name = "default";
  if (m.options.bind_address.find(':') == std::string::npos) {
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  }
  m.context = lws_create_context(&info);
  if (m.context == nullptr) {
    return unexpected{
        fmt::format("cannot listen on {}:{}", m.options.bind_address, m.options.port)};
  }
  const int port = lws_get_vhost_listen_port(lws_get_vhost_by_name(m.context, "default"));
  m.port = static_cast<std::uint16_t>(port);

  m.pacing.emplace(m.context, m.options.pacing_grid);
  m.env.context = m.context;
  m.env.records = &m.records;
  m.env.pacing = &*m.pacing;
  m.env.ping_interval = m.options.ping_interval;
  m.env.init_timeout = m.options.init_timeout;
  m.env.log = &m.options.log;
  m.env.verbose = m.options.verbose;
  m.env.rng = &m.rng;
  m.env.stopping = &m.stopping;

  m.thread = std::thread([&m] { m.run(); });
  m.service_thread = m.thread.native_handle();
  pthread_setname_np(m.service_thread, "fake-elevenlabs");
  return m.port;
}

std::uint16_t server::port() const {
  return impl_->port;
}

void server::stop() {
  impl& m = *impl_;
  if (!m.thread.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(m.stop_mutex);
    if (!m.stopping.exchange(true)) lws_cancel_service(m.context);
  }
  m.thread.join();
  m.context = nullptr;
}

std::vector<conversation_record> server::conversations() const {
  return impl_->records.snapshot();
}

bool server::wait_for(const std::function<bool(const std::vector<conversation_record>&)>& predicate,
                      std::chrono::milliseconds timeout) const {
  return impl_->records.wait_for(predicate, timeout);
}

server_counters server::counters() const {
  const impl& m = *impl_;
  server_counters c;
  c.connections = m.connections.load();
  c.active = m.active.load();
  c.refused_upgrades = m.refused.load();
  c.http_requests = m.http_requests.load();
  c.signed_urls = m.signed_urls.load();
  if (m.thread.joinable()) {
    clockid_t cpu_clock{};
    timespec used{};
    if (pthread_getcpuclockid(m.service_thread, &cpu_clock) == 0 &&
        clock_gettime(cpu_clock, &used) == 0) {
      c.service_thread_cpu =
          std::chrono::seconds(used.tv_sec) + std::chrono::nanoseconds(used.tv_nsec);
    }
  }
  return c;
}

}  // namespace cb::fake_elevenlabs
