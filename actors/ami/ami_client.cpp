#include "actors/ami/ami_client.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "actors/log.hpp"

namespace cb {

namespace {

using client_ptr = ami_client_actor::stateful_pointer<ami_client_state>;
using pending_action = ami_client_state::pending_action;
using purpose = pending_action::purpose;

constexpr const char* component = "ami_client";
// AST_CAUSE_NOTDEFINED: Asterisk's own cause for a hangup nobody gave a cause.
constexpr int unknown_cause = 0;
constexpr const char* gone_while_down = "Unknown (hung up while the AMI link was down)";

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::uint64_t> parse_action_id(std::string_view text) {
  std::uint64_t id = 0;
  const auto* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data(), end, id);
  if (parsed.ec != std::errc{} || parsed.ptr != end) return std::nullopt;
  return id;
}

// The name on the first line of a serialized action, "Action: <name>\r\n".
std::string action_name(std::string_view text) {
  constexpr std::string_view prefix = "Action: ";
  const auto end = text.find("\r\n");
  if (text.substr(0, prefix.size()) != prefix || end == std::string_view::npos) return {};
  return std::string(text.substr(prefix.size(), end - prefix.size()));
}

ami_channel to_ami_channel(const ami::channel& ch, const std::string& uuid) {
  ami_channel out;
  out.name = ch.name;
  out.uniqueid = ch.uniqueid;
  out.linkedid = ch.linkedid;
  out.caller_id_num = ch.caller_id_num;
  out.caller_id_name = ch.caller_id_name;
  out.exten = ch.exten;
  out.context = ch.context;
  out.audiosocket_uuid = uuid;
  return out;
}

void set_state(client_ptr self, ami_link_state state) {
  auto& status = self->state.status;
  if (status.state == state) return;
  status.state = state;
  status.state_since_unix_ms = unix_ms();
}

std::chrono::milliseconds action_timeout(const ami_client_state& st,
                                         std::chrono::milliseconds wanted) {
  return wanted.count() > 0 ? wanted : st.config->ami_action_timeout;
}

// ---- watches ----------------------------------------------------------------------------------

void release_subscriber(client_ptr self, const caf::actor_addr& subscriber) {
  auto& subscribers = self->state.subscribers;
  const auto it = subscribers.find(subscriber);
  if (it == subscribers.end()) return;
  if (--it->second == 0) {
    subscribers.erase(it);
    self->demonitor(subscriber);
  }
}

void end_watch(client_ptr self, const std::string& uuid) {
  auto& watches = self->state.watches;
  const auto it = watches.find(uuid);
  if (it == watches.end()) return;
  const auto subscriber = it->second.subscriber.address();
  watches.erase(it);
  release_subscriber(self, subscriber);
}

void tell_gone(client_ptr self, const std::string& uuid, int cause, std::string cause_text) {
  const auto it = self->state.watches.find(uuid);
  if (it == self->state.watches.end()) return;
  self->send(it->second.subscriber, ami_channel_gone{uuid, cause, std::move(cause_text)});
  end_watch(self, uuid);
}

void tell_linked(client_ptr self, const std::string& uuid) {
  auto& st = self->state;
  const auto it = st.watches.find(uuid);
  if (it == st.watches.end() || it->second.linked) return;
  const auto* ch = st.channels->find_uuid(uuid);
  if (ch == nullptr) return;
  it->second.linked = true;
  self->send(it->second.subscriber, ami_channel_linked{uuid, to_ami_channel(*ch, uuid)});
}

// What an event means for the watching calls. Events answering one of our actions are the
// asker's; they still teach the table.
void fan_out(client_ptr self, const ami::message& event, bool answers_action) {
  auto& st = self->state;
  auto update = st.channels->feed(event);
  for (const auto& uuid : update.linked)
    tell_linked(self, uuid);
  if (update.hangup) {
    for (const auto& uuid : update.uuids) {
      tell_gone(self, uuid, update.cause, update.cause_text);
    }
    return;
  }
  if (answers_action) return;
  for (const auto& uuid : update.uuids) {
    const auto it = st.watches.find(uuid);
    if (it != st.watches.end() && it->second.linked) {
      self->send(it->second.subscriber, ami_channel_event{uuid, event});
    }
  }
}

// ---- actions ----------------------------------------------------------------------------------

// An action numbered with the next ActionID, ready for the wire.
struct numbered_action {
  std::uint64_t id = 0;
  std::string text;
};

expected<numbered_action, ami::action_error> number(client_ptr self, const ami::action& action) {
  const auto id = self->state.next_action_id++;
  auto text = action.with_action_id(std::to_string(id)).serialize();
  if (!text) return unexpected{text.error()};
  return numbered_action{id, std::move(*text)};
}

// Sends a numbered action and waits for its answer until entry.timeout.
void dispatch(client_ptr self, numbered_action&& action, pending_action entry) {
  auto& st = self->state;
  entry.action = action_name(action.text);
  const auto timeout = entry.timeout;
  st.pending.emplace(action.id, std::move(entry));
  st.link->send(st.generation, std::move(action.text));
  ++st.status.actions_sent;
  self->delayed_send(self, timeout,
                     ami_client_timer{ami_client_timer::kind::action_deadline, action.id});
}

// For the client's own actions, whose builders take no outside values: only the Login's
// credentials can make one unsendable. Returns that refusal.
std::optional<ami::action_error> send_action(client_ptr self, const ami::action& action,
                                             pending_action entry) {
  auto numbered = number(self, action);
  if (!numbered) return numbered.error();
  dispatch(self, std::move(*numbered), std::move(entry));
  return std::nullopt;
}

pending_action internal(purpose what) {
  pending_action entry;
  entry.what = what;
  return entry;
}

void fail_pending(client_ptr self, const std::string& why) {
  auto pending = std::move(self->state.pending);
  self->state.pending.clear();
  for (auto& [id, entry] : pending) {
    if (entry.what == purpose::request) {
      entry.promise.deliver(make_error(bridge_errc::ami_not_connected, why));
    }
  }
}

// ---- the link's life ----------------------------------------------------------------------------

std::chrono::milliseconds next_delay(client_ptr self) {
  auto& st = self->state;
  ++st.failed_attempts;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return reconnect_delay(st.failed_attempts, st.config->ami_reconnect_min,
                         st.config->ami_reconnect_max, unit(st.jitter));
}

void start_connect(client_ptr self) {
  auto& st = self->state;
  set_state(self, ami_link_state::connecting);
  log::debug(component, {}, "connecting to {}", st.status.server);
  st.link->connect(st.generation);
}

// Closes the current connection (its late events become stale), fails what waits on it and
// schedules the next attempt; the delay it chose.
std::chrono::milliseconds abandon(client_ptr self, ami_link_state next, const std::string& why) {
  auto& st = self->state;
  st.link->close(st.generation);
  ++st.generation;
  ++st.status.failures;
  st.status.last_error = why;
  set_state(self, next);
  fail_pending(self, "the AMI link was lost: " + why);
  const auto delay = next_delay(self);
  self->delayed_send(self, delay,
                     ami_client_timer{ami_client_timer::kind::reconnect, st.generation});
  return delay;
}

void link_failed(client_ptr self, const std::string& why) {
  const bool was_up = self->state.status.state == ami_link_state::connected;
  const auto delay = abandon(self, ami_link_state::disconnected, why);
  if (was_up) {
    log::warn(component, {}, "link to {} lost: {}; reconnecting in {} ms",
              self->state.status.server, why, delay.count());
  } else {
    log::warn(component, {}, "connect to {} failed: {}; retrying in {} ms",
              self->state.status.server, why, delay.count());
  }
}

void login_refused(client_ptr self, std::string_view message) {
  auto& st = self->state;
  const auto reason = std::string(message.empty() ? std::string_view("no reason given") : message);
  const auto delay = abandon(self, ami_link_state::auth_failed,
                             "login as '" + st.config->asterisk_user + "' refused: " + reason);
  log::warn(component, {}, "login to {} as '{}' refused: {}; retrying in {} ms", st.status.server,
            st.config->asterisk_user, reason, delay.count());
}

void send_ping(client_ptr self) {
  auto& st = self->state;
  const bool waiting = std::any_of(st.pending.begin(), st.pending.end(), [](const auto& entry) {
    return entry.second.what == purpose::ping;
  });
  if (waiting) return;
  auto entry = internal(purpose::ping);
  entry.timeout = st.config->ami_action_timeout;
  send_action(self, ami::ping(), std::move(entry));
}

void schedule_ping(client_ptr self) {
  auto& st = self->state;
  if (st.config->ami_ping_interval.count() <= 0) return;
  self->delayed_send(self, st.config->ami_ping_interval,
                     ami_client_timer{ami_client_timer::kind::ping, st.generation});
}

void logged_in(client_ptr self) {
  auto& st = self->state;
  const auto attempts = st.failed_attempts;
  st.failed_attempts = 0;
  ++st.status.connects;
  set_state(self, ami_link_state::connected);
  if (attempts == 0) {
    log::info(component, {}, "connected to {} as '{}' (Asterisk Call Manager {})", st.status.server,
              st.config->asterisk_user, st.status.banner_version);
  } else {
    log::info(component, {},
              "connected to {} as '{}' (Asterisk Call Manager {}) after {} failed "
              "attempts",
              st.status.server, st.config->asterisk_user, st.status.banner_version, attempts);
  }
  schedule_ping(self);
  st.resync_mark = st.channels->begin_resync();
  auto entry = internal(purpose::resync);
  entry.timeout = st.config->ami_action_timeout;
  send_action(self, ami::core_show_channels(), std::move(entry));
}

void send_login(client_ptr self) {
  auto& st = self->state;
  auto entry = internal(purpose::login);
  entry.timeout = st.config->ami_action_timeout;
  const auto refusal = send_action(
      self, ami::login(st.config->asterisk_user, st.config->asterisk_pass), std::move(entry));
  if (refusal) login_refused(self, "the credentials cannot be sent: " + ami::to_string(*refusal));
}

void resynced(client_ptr self) {
  auto& st = self->state;
  const auto gone = st.channels->end_resync(st.resync_mark);
  std::size_t calls = 0;
  for (const auto& ch : gone) {
    for (const auto& uuid : ch.call_uuids) {
      if (st.watches.count(uuid) != 0) ++calls;
      tell_gone(self, uuid, unknown_cause, gone_while_down);
    }
  }
  log::debug(component, {}, "resynchronised: {} channels live, {} gone while the link was down",
             st.channels->size(), gone.size());
  if (calls > 0) {
    log::info(component, {}, "{} watched calls hung up while the AMI link was down", calls);
  }
}

// The answer is complete: hand it over.
void complete(client_ptr self, std::uint64_t id) {
  auto& st = self->state;
  auto node = st.pending.extract(id);
  if (node.empty()) return;
  auto& entry = node.mapped();
  switch (entry.what) {
    case purpose::request:
      entry.promise.deliver(ami_result{std::move(*entry.response), std::move(entry.events)});
      return;
    case purpose::resync:
      resynced(self);
      return;
    case purpose::login:
    case purpose::ping:
      return;
  }
}

void on_response(client_ptr self, ami::message&& response) {
  auto& st = self->state;
  const auto id = parse_action_id(response.action_id().value_or(std::string_view{}));
  const auto it = id ? st.pending.find(*id) : st.pending.end();
  if (it == st.pending.end()) {
    log::debug(component, {}, "response to no pending action ignored");
    return;
  }
  auto& entry = it->second;
  const bool error = ami::iequals(response.response().value_or(""), "Error");
  switch (entry.what) {
    case purpose::login:
      st.pending.erase(it);
      if (error) {
        login_refused(self, response.get("Message").value_or(""));
      } else {
        logged_in(self);
      }
      return;
    case purpose::ping:
      st.pending.erase(it);  // any answer shows Asterisk is there
      return;
    case purpose::resync:
      if (error) {
        log::warn(component, {},
                  "CoreShowChannels refused ({}): channels that hung up while the "
                  "link was down stay tracked",
                  response.get("Message").value_or(""));
        st.pending.erase(it);
        return;
      }
      entry.list = true;
      entry.response = std::move(response);
      return;
    case purpose::request:
      break;
  }
  if (error) {
    auto message = std::string(response.get("Message").value_or(""));
    entry.promise.deliver(make_error(bridge_errc::ami_action_failed,
                                     message.empty() ? entry.action + " failed" : message));
    st.pending.erase(it);
    return;
  }
  entry.list = ami::iequals(response.get("EventList").value_or(""), "start");
  entry.response = std::move(response);
  if (!entry.list && (entry.completion_event.empty() || entry.completion_seen)) complete(self, *id);
}

// An event carrying one of our ActionIDs: part of a list, or the awaited completion.
void on_action_event(client_ptr self, std::uint64_t id, const ami::message& event) {
  auto& entry = self->state.pending.at(id);
  if (entry.what == purpose::resync) {
    // Only its end matters: the table has read the channels.
    if (ami::iequals(event.get("EventList").value_or(""), "Complete")) complete(self, id);
    return;
  }
  if (entry.what != purpose::request) return;
  entry.events.push_back(event);
  if (entry.list) {
    if (ami::iequals(event.get("EventList").value_or(""), "Complete")) complete(self, id);
    return;
  }
  if (!entry.completion_event.empty() && event.is_event(entry.completion_event)) {
    entry.completion_seen = true;
    if (entry.response) complete(self, id);
  }
}

void on_event(client_ptr self, const ami::message& event) {
  auto& st = self->state;
  ++st.status.events_seen;
  const auto id = parse_action_id(event.action_id().value_or(std::string_view{}));
  const bool ours = id && st.pending.count(*id) != 0;
  fan_out(self, event, ours);
  if (ours) on_action_event(self, *id, event);
}

void on_link_event(client_ptr self, ami_link_event& event) {
  auto& st = self->state;
  if (event.generation != st.generation) return;  // from a connection already given up
  switch (event.what) {
    case ami_link_event::kind::up:
      st.status.banner_version = std::move(event.text);
      send_login(self);
      return;
    case ami_link_event::kind::messages:
      for (auto& message : event.messages) {
        if (st.generation != event.generation) return;  // a message made us drop the link
        if (message.type() == ami::message_type::event) {
          on_event(self, message);
        } else if (message.type() == ami::message_type::response) {
          on_response(self, std::move(message));
        }
      }
      return;
    case ami_link_event::kind::down:
      link_failed(self, event.text);
      return;
  }
}

void on_timer(client_ptr self, const ami_client_timer& timer) {
  auto& st = self->state;
  switch (timer.what) {
    case ami_client_timer::kind::reconnect:
      if (timer.id == st.generation && st.status.state != ami_link_state::connecting &&
          st.status.state != ami_link_state::connected) {
        start_connect(self);
      }
      return;
    case ami_client_timer::kind::ping:
      if (timer.id != st.generation || st.status.state != ami_link_state::connected) return;
      send_ping(self);
      schedule_ping(self);
      return;
    case ami_client_timer::kind::action_deadline:
      break;
  }
  const auto it = st.pending.find(timer.id);
  if (it == st.pending.end()) return;
  auto& entry = it->second;
  const auto why =
      "no answer to " + entry.action + " within " + std::to_string(entry.timeout.count()) + " ms";
  if (entry.what == purpose::request) {
    entry.promise.deliver(make_error(bridge_errc::ami_timeout, why));
    st.pending.erase(it);
    return;
  }
  link_failed(self, why);  // Asterisk no longer answers: the link is as good as dead
}

caf::result<ami_result> run_request(client_ptr self, ami_request& request) {
  auto& st = self->state;
  if (!st.link) return make_error(bridge_errc::ami_disabled);
  if (st.status.state != ami_link_state::connected) {
    return make_error(bridge_errc::ami_not_connected,
                      st.status.last_error.empty()
                          ? std::string(to_string(st.status.state))
                          : std::string(to_string(st.status.state)) + ": " + st.status.last_error);
  }
  auto numbered = number(self, request.action);
  if (!numbered) return make_error(bridge_errc::ami_bad_action, ami::to_string(numbered.error()));
  pending_action entry;
  entry.what = purpose::request;
  entry.completion_event = std::move(request.completion_event);
  entry.timeout = action_timeout(st, request.timeout);
  entry.promise = self->make_response_promise<ami_result>();
  auto promise = entry.promise;
  dispatch(self, std::move(*numbered), std::move(entry));
  return promise;
}

void watch(client_ptr self, const std::string& uuid, ami_subscriber_actor& subscriber) {
  auto& st = self->state;
  if (!st.link || !subscriber) return;  // disabled: nothing will ever link
  const auto key = ami::parse_uuid(uuid);
  if (!key) {
    log::debug(component, uuid, "watch ignored: not a UUID");
    return;
  }
  end_watch(self, *key);
  st.watches[*key] = ami_client_state::watch{subscriber, false};
  if (st.subscribers[subscriber.address()]++ == 0) self->monitor(subscriber);
  tell_linked(self, *key);
}

}  // namespace

std::chrono::milliseconds reconnect_delay(std::uint32_t failed_attempts,
                                          std::chrono::milliseconds first,
                                          std::chrono::milliseconds cap, double unit) {
  const auto low = std::max<std::int64_t>(first.count(), 1);
  const auto high = std::max<std::int64_t>(cap.count(), low);
  auto base = static_cast<double>(low);
  for (std::uint32_t i = 1; i < failed_attempts && base < static_cast<double>(high); ++i) {
    base *= 2;
  }
  const auto jittered = std::llround(std::min(base, static_cast<double>(high)) *
                                     (0.8 + 0.4 * std::clamp(unit, 0.0, 1.0)));
  return std::chrono::milliseconds(std::clamp<std::int64_t>(jittered, low, high));
}

ami_client_state::ami_client_state() : jitter(std::random_device{}()) {}

ami_client_state::~ami_client_state() {
  if (link && status.state == ami_link_state::connected) {
    if (auto text = ami::logoff().serialize()) link->send(generation, std::move(*text));
  }
}

ami_client_actor::behavior_type ami_client(
    ami_client_actor::stateful_pointer<ami_client_state> self,
    std::shared_ptr<const settings> config) {
  auto& st = self->state;
  st.config = std::move(config);
  const auto& cfg = *st.config;
  st.channels =
      std::make_unique<ami::channel_table>(ami::channel_table_options{cfg.ami_uuid_variable});
  st.status.state_since_unix_ms = unix_ms();
  if (cfg.asterisk_host.empty()) {
    st.status.state = ami_link_state::disabled;
    log::info(component, {}, "AMI disabled (no ASTERISK_HOST)");
  } else {
    st.status.server = host_port(cfg.asterisk_host, cfg.asterisk_port);
    ami_link_options options;
    options.host = cfg.asterisk_host;
    options.port = cfg.asterisk_port;
    options.tls = cfg.asterisk_tls;
    options.ca_file = cfg.asterisk_ca_file;
    // No setting of its own: a manager that takes longer than an action to greet is not usable.
    options.connect_timeout = cfg.ami_action_timeout;
    // The thread holds the actor weakly: an actor nobody references may still end.
    st.link = std::make_unique<ami_link>(
        std::move(options), [owner = self->address()](ami_link_event&& event) {
          if (auto client = caf::actor_cast<ami_client_actor>(owner)) {
            caf::anon_send(client, std::move(event));
          }
        });
    ++st.generation;
    start_connect(self);
  }
  self->set_down_handler([self](caf::down_msg& down) {
    auto& s = self->state;
    for (auto it = s.watches.begin(); it != s.watches.end();) {
      it = it->second.subscriber.address() == down.source ? s.watches.erase(it) : std::next(it);
    }
    s.subscribers.erase(down.source);
  });
  return {
      [self](ami_request& request) -> caf::result<ami_result> {
        return run_request(self, request);
      },
      [self](atom::watch, const std::string& uuid, ami_subscriber_actor& subscriber) {
        watch(self, uuid, subscriber);
      },
      [self](atom::unwatch, const std::string& uuid) {
        if (const auto key = ami::parse_uuid(uuid)) end_watch(self, *key);
      },
      [self](atom::status) {
        auto& s = self->state;
        auto status = s.status;
        status.channels = s.channels->size();
        status.watched = s.watches.size();
        return status;
      },
      [self](ami_link_event& event) { on_link_event(self, event); },
      [self](const ami_client_timer& timer) { on_timer(self, timer); },
  };
}

}  // namespace cb
