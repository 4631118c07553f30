#include "apps/fake_ami/fake_ami.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <system_error>
#include <thread>
#include <utility>

namespace cb::fake_ami {
namespace {

using steady = std::chrono::steady_clock;
using header_list = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view banner = "Asterisk Call Manager/11.0.0\r\n";
constexpr std::string_view redacted = "***";

std::string serialize(const header_list& headers) {
  std::string text;
  for (const auto& [key, value] : headers) {
    if (key.empty()) {
      text += value;
    } else {
      text += key;
      text += ": ";
      text += value;
    }
    text += "\r\n";
  }
  text += "\r\n";
  return text;
}

// Asterisk's ast_true().
bool is_true(std::string_view value) {
  for (const std::string_view word : {"yes", "true", "y", "t", "1", "on"}) {
    if (ami::iequals(value, word)) return true;
  }
  return false;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto* last = text.data() + text.size();
  const auto result = std::from_chars(text.data(), last, value);
  if (result.ec != std::errc{} || result.ptr != last) return std::nullopt;
  return value;
}

const char* cause_text(int cause) {
  switch (cause) {
    case 1:
      return "Unallocated (unassigned) number";
    case 16:
      return "Normal Clearing";
    case 17:
      return "User busy";
    case 18:
      return "No user responding";
    case 19:
      return "User alerting, no answer";
    case 21:
      return "Call Rejected";
    case 34:
      return "Circuit/channel congestion";
    case 38:
      return "Network out of order";
    default:
      return "Unknown";
  }
}

// main/app.c's argument splitter as manager.c applies it to each Variable header: commas split
// outside quotes, parentheses and brackets; quotes and escaping backslashes are removed.
std::vector<std::pair<std::string, std::string>> parse_variables(
    const std::vector<std::string_view>& lines) {
  std::vector<std::pair<std::string, std::string>> variables;
  const auto add = [&variables](const std::string& item) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return;
    variables.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  };
  for (const auto line : lines) {
    std::string item;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '\\' && i + 1 < line.size()) {
        item += line[++i];
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted && depth == 0) {
        add(item);
        item.clear();
      } else {
        if (!quoted && (c == '(' || c == '[')) ++depth;
        if (!quoted && (c == ')' || c == ']') && depth > 0) --depth;
        item += c;
      }
    }
    add(item);
  }
  return variables;
}

struct channel {
  std::string name;
  std::string uniqueid;
  std::string linkedid;
  std::string caller_id_num;
  std::string caller_id_name;
  std::string context;
  std::string exten;
  std::string priority = "1";
  std::string application;
  std::string app_data;
  std::map<std::string, std::string> variables;
  bool up = false;  // answered: Newchannel says Down, the Newstate that follows Up
  steady::time_point created = steady::now();
};

std::string or_unknown(const std::string& value) {
  return value.empty() ? "<unknown>" : value;
}

// The channel snapshot every channel event carries; prefix "Dest" for a dial's called side.
void append_channel(header_list& headers, const channel& ch, std::string_view prefix = {}) {
  const auto key = [prefix](std::string_view name) { return fmt::format("{}{}", prefix, name); };
  headers.emplace_back(key("Channel"), ch.name);
  headers.emplace_back(key("ChannelState"), ch.up ? "6" : "0");
  headers.emplace_back(key("ChannelStateDesc"), ch.up ? "Up" : "Down");
  headers.emplace_back(key("CallerIDNum"), or_unknown(ch.caller_id_num));
  headers.emplace_back(key("CallerIDName"), or_unknown(ch.caller_id_name));
  headers.emplace_back(key("ConnectedLineNum"), "<unknown>");
  headers.emplace_back(key("ConnectedLineName"), "<unknown>");
  headers.emplace_back(key("Language"), "en");
  headers.emplace_back(key("AccountCode"), "");
  headers.emplace_back(key("Context"), ch.context);
  headers.emplace_back(key("Exten"), ch.exten);
  headers.emplace_back(key("Priority"), ch.priority);
  headers.emplace_back(key("Uniqueid"), ch.uniqueid);
  headers.emplace_back(key("Linkedid"), ch.linkedid);
}

header_list channel_event(std::string_view name, const channel& ch) {
  header_list headers{{"Event", std::string(name)}, {"Privilege", "call,all"}};
  append_channel(headers, ch);
  return headers;
}

struct client {
  std::size_t index = 0;
  int fd = -1;
  ami::parser parser{ami::parser_options{false}};
  std::string out;
  bool logged_in = false;
  bool closing = false;  // close once out is written
  bool closed = false;
};

struct timed_task {
  steady::time_point when;
  std::function<void()> run;  // runs on the I/O thread with the lock held
};

}  // namespace

struct server::state {
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::uint64_t version = 0;

  options opts;
  std::uint16_t port = 0;
  int listen_fd = -1;
  int wake_read = -1;
  int wake_write = -1;
  std::thread io;
  bool stopping = false;
  bool running = false;

  std::vector<std::unique_ptr<client>> clients;
  std::vector<channel> live;
  std::map<std::string, std::string> globals;
  std::vector<recorded_action> actions;
  std::vector<login_attempt> logins;
  counters stats;
  std::vector<timed_task> tasks;
  std::uint64_t channel_sequence = 0;
  std::uint64_t uniqueid_sequence = 0;
  const long long epoch = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();

  void touch() {
    ++version;
    changed.notify_all();
  }

  void wake() const {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(wake_write, &byte, 1);
  }

  void log(const std::string& line) const {
    if (opts.log) opts.log(line);
  }

  std::string next_uniqueid() { return fmt::format("{}.{}", epoch, ++uniqueid_sequence); }

  channel* find(std::string_view name) {
    const auto it = std::find_if(live.begin(), live.end(),
                                 [name](const channel& ch) { return ami::iequals(ch.name, name); });
    return it == live.end() ? nullptr : &*it;
  }

  void send(client& to, const header_list& block) {
    if (to.closed || to.closing) return;
    to.out += serialize(block);
  }

  void broadcast_text(const std::string& text) {
    ++stats.events;
    for (auto& c : clients) {
      if (c->logged_in && !c->closed && !c->closing) c->out += text;
    }
    wake();
    touch();
  }

  void broadcast(const header_list& event) { broadcast_text(serialize(event)); }

  static header_list reply(const ami::message& action, std::string_view word,
                           std::string_view text = {}) {
    header_list headers{{"Response", std::string(word)}};
    if (const auto id = action.action_id()) headers.emplace_back("ActionID", std::string(*id));
    if (!text.empty()) headers.emplace_back("Message", std::string(text));
    return headers;
  }

  void announce(channel& ch) {
    broadcast(channel_event("Newchannel", ch));
    ch.up = true;
    broadcast(channel_event("Newstate", ch));
    for (const auto& [name, value] : ch.variables)
      emit_varset(ch, name, value);
  }

  void emit_varset(const channel& ch, const std::string& name, const std::string& value) {
    auto event = channel_event("VarSet", ch);
    event.emplace_back("Variable", name);
    event.emplace_back("Value", value);
    broadcast(event);
  }

  void emit_newexten(const channel& ch) {
    auto event = channel_event("Newexten", ch);
    event.emplace_back("Extension", ch.exten);
    event.emplace_back("Application", ch.application);
    event.emplace_back("AppData", ch.app_data);
    broadcast(event);
  }

  void hang_up(const std::string& name, int cause) {
    channel* ch = find(name);
    if (ch == nullptr) return;
    const auto cause_value = std::to_string(cause);
    auto soft = channel_event("SoftHangupRequest", *ch);
    soft.emplace_back("Cause", cause_value);
    broadcast(soft);
    auto request = channel_event("HangupRequest", *ch);
    request.emplace_back("Cause", cause_value);
    broadcast(request);
    auto hangup = channel_event("Hangup", *ch);
    hangup.emplace_back("Cause", cause_value);
    hangup.emplace_back("Cause-txt", cause_text(cause));
    broadcast(hangup);
    live.erase(live.begin() + (ch - live.data()));
  }

  // ---- actions ------------------------------------------------------------------------------

  void handle(client& from, ami::message&& raw) {
    for (auto& [key, value] : raw.headers) {
      if (ami::iequals(key, "Secret")) value = std::string(redacted);
    }
    const ami::message& action = raw;
    ++stats.actions;
    actions.push_back({from.index, action});
    std::string line = fmt::format("client {}:", from.index);
    const char* separator = " ";
    for (const auto& [key, value] : action.headers) {
      line += fmt::format("{}{}: {}", separator, key, value);
      separator = ", ";
    }
    log(line);
    touch();

    const auto name = action.get("Action");
    if (!name) {
      send(from, reply(action, "Error", "Missing action in request"));
      return;
    }
    if (ami::iequals(*name, "Login")) return login(from, action);
    if (!from.logged_in) {
      send(from, reply(action, "Error", "Permission denied"));
      return;
    }
    if (ami::iequals(*name, "Ping")) return ping(from, action);
    if (ami::iequals(*name, "Logoff")) {
      send(from, reply(action, "Goodbye", "Thanks for all the fish."));
      from.closing = true;
      return;
    }
    if (ami::iequals(*name, "Hangup")) return hangup_action(from, action);
    if (ami::iequals(*name, "Redirect")) return redirect(from, action);
    if (ami::iequals(*name, "Originate")) return originate(from, action);
    if (ami::iequals(*name, "Getvar")) return getvar(from, action);
    if (ami::iequals(*name, "Setvar")) return setvar(from, action);
    if (ami::iequals(*name, "PlayDTMF")) return play_dtmf(from, action);
    if (ami::iequals(*name, "CoreShowChannels")) return core_show_channels(from, action);
    send(from, reply(action, "Error", "Invalid/unknown command"));
  }

  // The secret is compared but never reaches a record: handle() redacted it, so login() reads
  // it from the unredacted copy kept by the caller.
  std::string pending_secret;

  void login(client& from, const ami::message& action) {
    if (from.logged_in) {
      send(from, reply(action, "Success", "Already authenticated"));
      return;
    }
    const std::string username(action.get("Username").value_or(""));
    const bool ok = username == opts.username && pending_secret == opts.secret;
    logins.push_back({from.index, username, ok});
    log(fmt::format("client {}: login {} for user {}", from.index, ok ? "accepted" : "refused",
                    username));
    if (!ok) {
      send(from, reply(action, "Error", "Authentication failed"));
      from.closing = true;
      return;
    }
    send(from, reply(action, "Success", "Authentication accepted"));
    from.logged_in = true;
    ++stats.events;
    send(from, {{"Event", "FullyBooted"},
                {"Privilege", "system,all"},
                {"Uptime", "120"},
                {"LastReload", "120"},
                {"Status", "Fully Booted"}});
  }

  void ping(client& from, const ami::message& action) {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    auto headers = reply(action, "Success");
    headers.emplace_back("Ping", "Pong");
    headers.emplace_back("Timestamp",
                         fmt::format("{}.{:06}", now.count() / 1000000, now.count() % 1000000));
    send(from, headers);
  }

  void hangup_action(client& from, const ami::message& action) {
    const std::string target(action.get("Channel").value_or(""));
    if (target.empty()) {
      send(from, reply(action, "Error", "No channel specified"));
      return;
    }
    const int cause = parse_int(action.get("Cause").value_or("")).value_or(16);
    if (target.size() >= 2 && target.front() == '/' && target.back() == '/') {
      std::regex pattern;
      try {
        pattern = std::regex(target.substr(1, target.size() - 2), std::regex::extended);
      } catch (const std::regex_error&) {
        send(from, reply(action, "Error", "Invalid regex"));
        return;
      }
      std::vector<std::string> matched;
      for (const auto& ch : live) {
        if (std::regex_search(ch.name, pattern)) matched.push_back(ch.name);
      }
      auto ack = reply(action, "Success", "Channels hung up will follow");
      ack.insert(ack.begin() + 1 + (action.action_id() ? 1 : 0), {"EventList", "start"});
      send(from, ack);
      for (const auto& name : matched) {
        header_list item{{"Event", "ChannelHungup"}};
        if (const auto id = action.action_id()) item.emplace_back("ActionID", std::string(*id));
        item.emplace_back("Channel", name);
        send(from, item);
      }
      header_list complete{{"Event", "ChannelsHungupListComplete"}};
      if (const auto id = action.action_id()) complete.emplace_back("ActionID", std::string(*id));
      complete.emplace_back("EventList", "Complete");
      complete.emplace_back("ListItems", std::to_string(matched.size()));
      send(from, complete);
      for (const auto& name : matched)
        hang_up(name, cause);
      return;
    }
    if (find(target) == nullptr) {
      send(from, reply(action, "Error", "No such channel"));
      return;
    }
    send(from, reply(action, "Success", "Channel Hungup"));
    hang_up(target, cause);
  }

  void redirect(client& from, const ami::message& action) {
    const std::string name(action.get("Channel").value_or(""));
    if (name.empty()) {
      send(from, reply(action, "Error", "Channel not specified"));
      return;
    }
    if (!action.has("Exten") || !action.has("Context")) {
      send(from, reply(action, "Error", "Exten and Context not specified"));
      return;
    }
    channel* ch = find(name);
    if (ch == nullptr) {
      send(from, reply(action, "Error", fmt::format("Channel does not exist: {}", name)));
      return;
    }
    const std::string extra_name(action.get("ExtraChannel").value_or(""));
    channel* extra = extra_name.empty() ? nullptr : find(extra_name);
    if (!extra_name.empty() && extra == nullptr) {
      send(from,
           reply(action, "Error", fmt::format("ExtraChannel does not exist: {}", extra_name)));
      return;
    }
    const auto move = [](channel& target, std::string_view context, std::string_view exten,
                         std::string_view priority) {
      target.context = std::string(context);
      target.exten = std::string(exten);
      target.priority = std::string(priority.empty() ? "1" : priority);
      target.application.clear();
      target.app_data.clear();
    };
    move(*ch, *action.get("Context"), *action.get("Exten"), action.get("Priority").value_or("1"));
    if (extra != nullptr) {
      move(*extra, action.get("ExtraContext").value_or(ch->context),
           action.get("ExtraExten").value_or(ch->exten),
           action.get("ExtraPriority").value_or(ch->priority));
    }
    send(from, reply(action, "Success",
                     extra != nullptr ? "Dual Redirect successful" : "Redirect successful"));
  }

  void getvar(client& from, const ami::message& action) {
    const std::string variable(action.get("Variable").value_or(""));
    if (variable.empty()) {
      send(from, reply(action, "Error", "No variable specified"));
      return;
    }
    const std::string name(action.get("Channel").value_or(""));
    std::string value;
    if (name.empty()) {
      const auto it = globals.find(variable);
      if (it != globals.end()) value = it->second;
    } else {
      const channel* ch = find(name);
      if (ch == nullptr) {
        send(from, reply(action, "Error", "No such channel"));
        return;
      }
      if (variable == "CALLERID(num)") {
        value = ch->caller_id_num;
      } else if (variable == "CALLERID(name)") {
        value = ch->caller_id_name;
      } else if (variable == "UNIQUEID") {
        value = ch->uniqueid;
      } else if (const auto it = ch->variables.find(variable); it != ch->variables.end()) {
        value = it->second;
      }
    }
    auto headers = reply(action, "Success");
    headers.emplace_back("Variable", variable);
    headers.emplace_back("Value", value);
    send(from, headers);
  }

  void setvar(client& from, const ami::message& action) {
    const std::string variable(action.get("Variable").value_or(""));
    if (variable.empty()) {
      send(from, reply(action, "Error", "No variable specified"));
      return;
    }
    const std::string value(action.get("Value").value_or(""));
    const std::string name(action.get("Channel").value_or(""));
    if (name.empty()) {
      globals[variable] = value;
      send(from, reply(action, "Success", "Variable Set"));
      return;
    }
    channel* ch = find(name);
    if (ch == nullptr) {
      send(from, reply(action, "Error", "No such channel"));
      return;
    }
    ch->variables[variable] = value;
    send(from, reply(action, "Success", "Variable Set"));
    emit_varset(*ch, variable, value);
  }

  void play_dtmf(client& from, const ami::message& action) {
    const std::string name(action.get("Channel").value_or(""));
    const std::string digit(action.get("Digit").value_or(""));
    if (name.empty()) {
      send(from, reply(action, "Error", "Channel not specified"));
      return;
    }
    if (digit.empty()) {
      send(from, reply(action, "Error", "No digit specified"));
      return;
    }
    if (find(name) == nullptr) {
      send(from, reply(action, "Error", fmt::format("Channel '{}' not found", name)));
      return;
    }
    send(from, reply(action, "Success", "DTMF successfully queued"));
  }

  void core_show_channels(client& from, const ami::message& action) {
    const auto id = action.action_id();
    header_list ack{{"Response", "Success"}};
    if (id) ack.emplace_back("ActionID", std::string(*id));
    ack.emplace_back("EventList", "start");
    ack.emplace_back("Message", "Channels will follow");
    send(from, ack);
    const auto now = steady::now();
    for (const auto& ch : live) {
      header_list item{{"Event", "CoreShowChannel"}};
      if (id) item.emplace_back("ActionID", std::string(*id));
      append_channel(item, ch);
      item.emplace_back("Application", ch.application);
      item.emplace_back("ApplicationData", ch.app_data);
      const auto seconds =
          std::chrono::duration_cast<std::chrono::seconds>(now - ch.created).count();
      item.emplace_back("Duration", fmt::format("{:02}:{:02}:{:02}", seconds / 3600,
                                                seconds / 60 % 60, seconds % 60));
      item.emplace_back("BridgeId", "");
      send(from, item);
    }
    header_list complete{{"Event", "CoreShowChannelsComplete"}};
    if (id) complete.emplace_back("ActionID", std::string(*id));
    complete.emplace_back("EventList", "Complete");
    complete.emplace_back("ListItems", std::to_string(live.size()));
    send(from, complete);
  }

  struct originate_request {
    std::size_t client = 0;
    std::optional<std::string> action_id;
    std::string dial;  // the Channel header
    std::string context;
    std::string exten;
    std::string priority;
    std::string application;
    std::string data;
    std::string caller_id_num;
    std::string caller_id_name;
    std::vector<std::pair<std::string, std::string>> variables;
    std::string channel_id;
    std::string other_channel_id;
    bool async = false;
  };

  void originate(client& from, const ami::message& action) {
    originate_request request;
    request.client = from.index;
    if (const auto id = action.action_id()) request.action_id = std::string(*id);
    request.dial = std::string(action.get("Channel").value_or(""));
    if (request.dial.empty() || request.dial.find('/') == std::string::npos) {
      send(from, reply(action, "Error", "Channel not specified"));
      return;
    }
    request.application = std::string(action.get("Application").value_or(""));
    request.data = std::string(action.get("Data").value_or(""));
    request.context = std::string(action.get("Context").value_or("default"));
    request.exten = std::string(action.get("Exten").value_or("s"));
    request.priority = std::string(action.get("Priority").value_or("1"));
    const std::string caller_id(action.get("CallerID").value_or(""));
    if (const auto open = caller_id.find('<'); open != std::string::npos) {
      const auto close = caller_id.find('>', open);
      request.caller_id_num = caller_id.substr(
          open + 1, close == std::string::npos ? std::string::npos : close - open - 1);
      auto display = caller_id.substr(0, open);
      while (!display.empty() && (display.back() == ' ' || display.back() == '"')) {
        display.pop_back();
      }
      if (!display.empty() && display.front() == '"') display.erase(0, 1);
      request.caller_id_name = display;
    } else {
      request.caller_id_num = caller_id;
    }
    request.variables = parse_variables(action.get_all("Variable"));
    request.channel_id = std::string(action.get("ChannelId").value_or(""));
    request.other_channel_id = std::string(action.get("OtherChannelId").value_or(""));
    request.async = is_true(action.get("Async").value_or(""));
    if (request.async) send(from, reply(action, "Success", "Originate successfully queued"));
    tasks.push_back({steady::now() + opts.originate_delay,
                     [this, request = std::move(request)] { place_call(request); }});
  }

  void place_call(const originate_request& request) {
    const auto slash = request.dial.find('/');
    const std::string tech = request.dial.substr(0, slash);
    const std::string resource = request.dial.substr(slash + 1);
    const bool local = ami::iequals(tech, "Local");
    const auto sequence = fmt::format("{:08x}", ++channel_sequence);

    channel first;
    if (ami::iequals(tech, "AudioSocket") && resource.find('/') != std::string::npos) {
      // chan_audiosocket names its channel AudioSocket/<host:port>-<uuid>.
      const auto cut = resource.find('/');
      auto uuid = resource.substr(cut + 1);
      uuid = uuid.substr(0, uuid.find('/'));
      first.name = fmt::format("AudioSocket/{}-{}", resource.substr(0, cut), uuid);
    } else {
      first.name = fmt::format("{}-{}{}", request.dial, sequence, local ? ";1" : "");
    }
    first.uniqueid = request.channel_id.empty() ? next_uniqueid() : request.channel_id;
    first.linkedid = first.uniqueid;
    first.caller_id_num = request.caller_id_num;
    first.caller_id_name = request.caller_id_name;
    first.context = request.application.empty() ? request.context : "default";
    first.exten = request.application.empty() ? request.exten : "s";
    first.priority = request.application.empty() ? request.priority : "1";
    for (const auto& [name, value] : request.variables)
      first.variables[name] = value;

    std::optional<channel> second;
    if (local) {
      channel leg;
      leg.name = fmt::format("{}-{};2", request.dial, sequence);
      leg.uniqueid = !request.other_channel_id.empty() ? request.other_channel_id
                     : request.channel_id.empty()      ? next_uniqueid()
                                                       : request.channel_id + ";2";
      leg.linkedid = first.linkedid;
      const auto at = resource.find('@');
      leg.exten = resource.substr(0, at);
      leg.context = at == std::string::npos ? "default" : resource.substr(at + 1);
      leg.context = leg.context.substr(0, leg.context.find('/'));
      second = std::move(leg);
    }

    broadcast(channel_event("Newchannel", first));
    if (second) broadcast(channel_event("Newchannel", *second));
    for (const auto& [name, value] : request.variables)
      emit_varset(first, name, value);
    auto dial_begin = header_list{{"Event", "DialBegin"}, {"Privilege", "call,all"}};
    append_channel(dial_begin, first, "Dest");
    dial_begin.emplace_back("DialString", resource);
    broadcast(dial_begin);

    const auto& outcome = opts.originate_result;
    auto dial_end = header_list{{"Event", "DialEnd"}, {"Privilege", "call,all"}};
    append_channel(dial_end, first, "Dest");
    if (outcome.success) {
      dial_end.emplace_back("DialStatus", "ANSWER");
      first.up = true;
      broadcast(channel_event("Newstate", first));
      if (second) {
        second->up = true;
        broadcast(channel_event("Newstate", *second));
      }
      live.push_back(first);
      if (second) live.push_back(*second);
      send_originate_response(request, first);
      broadcast(dial_end);
      run_target(request, first.name);
      return;
    }
    const int reason = outcome.reason;
    dial_end.emplace_back("DialStatus", reason == 5   ? "BUSY"
                                        : reason == 3 ? "NOANSWER"
                                        : reason == 8 ? "CONGESTION"
                                                      : "CHANUNAVAIL");
    broadcast(dial_end);
    const int cause = reason == 5 ? 17 : reason == 3 ? 19 : reason == 8 ? 34 : 21;
    live.push_back(first);
    if (second) live.push_back(*second);
    hang_up(first.name, cause);
    if (second) hang_up(second->name, cause);
    send_originate_response(request, first);
  }

  void send_originate_response(const originate_request& request, const channel& first) {
    const auto& outcome = opts.originate_result;
    if (!request.async) {
      const auto it = std::find_if(clients.begin(), clients.end(),
                                   [&](const auto& c) { return c->index == request.client; });
      if (it == clients.end()) return;
      header_list headers{{"Response", outcome.success ? "Success" : "Error"}};
      if (request.action_id) headers.emplace_back("ActionID", *request.action_id);
      headers.emplace_back("Message",
                           outcome.success ? "Originate successfully queued" : "Originate failed");
      send(**it, headers);
      wake();
      return;
    }
    header_list event{{"Event", "OriginateResponse"}, {"Privilege", "call,all"}};
    if (request.action_id) event.emplace_back("ActionID", *request.action_id);
    event.emplace_back("Response", outcome.success ? "Success" : "Failure");
    event.emplace_back("Channel", outcome.success ? first.name : request.dial);
    event.emplace_back("Context", request.application.empty() ? request.context : "");
    event.emplace_back("Exten", request.application.empty() ? request.exten : "");
    event.emplace_back("Application", request.application);
    event.emplace_back("Data", request.data);
    event.emplace_back("Reason", std::to_string(outcome.reason));
    event.emplace_back("Uniqueid", first.uniqueid);
    event.emplace_back("CallerIDNum", or_unknown(first.caller_id_num));
    event.emplace_back("CallerIDName", or_unknown(first.caller_id_name));
    broadcast(event);
  }

  // The answered leg runs the Originate's application, or the dialplan's AudioSocket() fed from
  // the Originate's variables.
  void run_target(const originate_request& request, const std::string& name) {
    channel* ch = find(name);
    if (ch == nullptr) return;
    if (!request.application.empty()) {
      ch->application = request.application;
      ch->app_data = request.data;
    } else {
      const auto it = ch->variables.find(opts.audiosocket_uuid_variable);
      if (it == ch->variables.end()) return;
      const auto address = ch->variables.find(opts.audiosocket_address_variable);
      ch->application = "AudioSocket";
      ch->app_data =
          fmt::format("{},{}", it->second,
                      address == ch->variables.end() ? opts.audiosocket_address : address->second);
    }
    emit_newexten(*ch);
  }

  // ---- I/O ------------------------------------------------------------------------------------

  void accept_clients() {
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      auto c = std::make_unique<client>();
      c->index = stats.connections++;
      c->fd = fd;
      c->out = std::string(banner);
      ++stats.clients_connected;
      log(fmt::format("client {}: connected", c->index));
      clients.push_back(std::move(c));
      touch();
    }
  }

  void read_from(client& c) {
    char buffer[16384];
    for (;;) {
      const auto n = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        c.closed = true;
        return;
      }
      if (n < 0) return;
      if (c.closing) continue;
      const std::string_view data(buffer, static_cast<std::size_t>(n));
      // Keep the secret aside before handle() redacts it from the record.
      const auto fed = c.parser.feed(
          data, [](std::string_view) {},
          [&](ami::message&& m) {
            if (c.closing || c.closed) return;
            pending_secret = std::string(m.get("Secret").value_or(""));
            handle(c, std::move(m));
            pending_secret.clear();
          });
      if (!fed) {
        log(fmt::format("client {}: unparsable input ({}), closing", c.index,
                        ami::to_string(fed.error())));
        c.closed = true;
        return;
      }
    }
  }

  void flush(client& c) {
    while (!c.out.empty() && !c.closed) {
      const auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        c.closed = true;
        return;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
    }
    if (c.closing && c.out.empty()) c.closed = true;
  }

  void close_client(client& c) {
    ::close(c.fd);
    --stats.clients_connected;
    log(fmt::format("client {}: disconnected", c.index));
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    std::vector<pollfd> fds;
    while (!stopping) {
      fds.clear();
      fds.push_back({wake_read, POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      for (const auto& c : clients) {
        const short events = c->out.empty() ? POLLIN : static_cast<short>(POLLIN | POLLOUT);
        fds.push_back({c->fd, events, 0});
      }
      int timeout = -1;
      if (!tasks.empty()) {
        const auto next =
            std::min_element(tasks.begin(), tasks.end(), [](const auto& a, const auto& b) {
              return a.when < b.when;
            })->when;
        const auto wait =
            std::chrono::ceil<std::chrono::milliseconds>(next - steady::now()).count();
        timeout = static_cast<int>(std::max<long long>(wait, 0));
      }
      lock.unlock();
      ::poll(fds.data(), fds.size(), timeout);
      lock.lock();
      if (stopping) break;
      if (fds[0].revents != 0) {
        char drain[256];
        while (::read(wake_read, drain, sizeof drain) > 0) {
        }
      }
      if (fds[1].revents != 0) accept_clients();
      // Clients accepted just now are past the end of fds; they are polled next round.
      for (std::size_t i = 2; i < fds.size(); ++i) {
        client& c = *clients[i - 2];
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_from(c);
      }
      const auto now = steady::now();
      std::vector<timed_task> due;
      for (auto it = tasks.begin(); it != tasks.end();) {
        if (it->when <= now) {
          due.push_back(std::move(*it));
          it = tasks.erase(it);
        } else {
          ++it;
        }
      }
      for (auto& task : due)
        task.run();
      for (auto& c : clients)
        flush(*c);
      const auto gone = std::stable_partition(clients.begin(), clients.end(),
                                              [](const auto& c) { return !c->closed; });
      if (gone != clients.end()) {
        for (auto it = gone; it != clients.end(); ++it)
          close_client(**it);
        clients.erase(gone, clients.end());
      }
      touch();
    }
  }

  std::uint16_t open(std::uint16_t wanted) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(wanted);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd, 64) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), fmt::format("bind port {}", wanted));
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "pipe");
    }
    listen_fd = fd;
    wake_read = pipe_fds[0];
    wake_write = pipe_fds[1];
    return ntohs(address.sin_port);
  }
};

server::server() : state_(std::make_unique<state>()) {}

server::~server() {
  stop();
}

std::uint16_t server::start(options opts) {
  stop();
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.opts = std::move(opts);
  s.port = s.open(s.opts.port);
  s.stopping = false;
  s.running = true;
  s.io = std::thread([&s] { s.run(); });
  s.log(fmt::format("listening on 127.0.0.1:{}", s.port));
  s.touch();
  return s.port;
}

void server::stop() {
  auto& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.running) return;
    s.stopping = true;
    s.wake();
  }
  s.io.join();
  std::lock_guard<std::mutex> lock(s.mutex);
  for (auto& c : s.clients)
    s.close_client(*c);
  s.clients.clear();
  s.tasks.clear();
  ::close(s.listen_fd);
  ::close(s.wake_read);
  ::close(s.wake_write);
  s.listen_fd = s.wake_read = s.wake_write = -1;
  s.running = false;
  s.log("stopped");
  s.touch();
}

std::uint16_t server::restart() {
  options opts;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    opts = state_->opts;
    opts.port = state_->port;
  }
  stop();
  return start(std::move(opts));
}

std::uint16_t server::port() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->port;
}

std::string server::add_channel(channel_spec spec) {
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  channel ch;
  ch.name = std::move(spec.name);
  ch.uniqueid = spec.uniqueid.empty() ? s.next_uniqueid() : std::move(spec.uniqueid);
  ch.linkedid = spec.linkedid.empty() ? ch.uniqueid : std::move(spec.linkedid);
  ch.caller_id_num = std::move(spec.caller_id_num);
  ch.caller_id_name = std::move(spec.caller_id_name);
  ch.context = std::move(spec.context);
  ch.exten = std::move(spec.exten);
  ch.variables = std::move(spec.variables);
  if (!spec.audiosocket_uuid.empty()) {
    ch.application = "AudioSocket";
    ch.app_data = fmt::format("{},{}", spec.audiosocket_uuid, spec.audiosocket_address);
  }
  s.announce(ch);
  if (!ch.application.empty()) s.emit_newexten(ch);
  s.live.push_back(ch);
  return ch.uniqueid;
}

bool server::hangup_channel(std::string_view name, int cause) {
  auto& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.find(name) == nullptr) return false;
  s.hang_up(std::string(name), cause);
  return true;
}

std::vector<std::string> server::channels() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  std::vector<std::string> names;
  for (const auto& ch : state_->live)
    names.push_back(ch.name);
  return names;
}

void server::emit(std::string_view raw_block) {
  std::string text(raw_block);
  if (text.size() < 2 || text.compare(text.size() - 2, 2, "\r\n") != 0) text += "\r\n";
  if (text.size() < 4 || text.compare(text.size() - 4, 4, "\r\n\r\n") != 0) text += "\r\n";
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->broadcast_text(text);
}

void server::emit(const ami::message& event) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->broadcast(event.headers);
}

std::vector<recorded_action> server::actions() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->actions;
}

std::vector<recorded_action> server::actions_named(std::string_view action) const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  std::vector<recorded_action> matching;
  for (const auto& recorded : state_->actions) {
    const auto name = recorded.message.get("Action");
    if (name && ami::iequals(*name, action)) matching.push_back(recorded);
  }
  return matching;
}

std::vector<login_attempt> server::logins() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->logins;
}

counters server::stats() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stats;
}

bool server::wait_for(const std::function<bool()>& predicate,
                      std::chrono::milliseconds timeout) const {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      seen = state_->version;
    }
    if (predicate()) return true;
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (!state_->changed.wait_until(lock, deadline, [&] { return state_->version != seen; })) {
      return false;
    }
  }
}

}  // namespace cb::fake_ami
