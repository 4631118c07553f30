#include "protocol/ami_channels.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace cb::ami {

namespace {

constexpr std::size_t uuid_length = 36;
constexpr std::string_view audiosocket_prefix = "AudioSocket/";
constexpr std::string_view unknown_value = "<unknown>";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

std::string_view value_of(const message& event, std::string_view key) {
  return event.get(key).value_or(std::string_view{});
}

std::string caller_id(std::string_view value) {
  return value == unknown_value ? std::string() : std::string(value);
}

// Events only a live channel produces; each carries the channel's full snapshot.
bool creates_channel(std::string_view event_name) {
  for (const std::string_view name :
       {"Newchannel", "Newstate", "VarSet", "Newexten", "CoreShowChannel"}) {
    if (iequals(event_name, name)) return true;
  }
  return false;
}

// Set(_CALL_UUID=...) and Set(__CALL_UUID=...) make the variable inheritable; it is still
// CALL_UUID.
std::string_view without_inheritance(std::string_view variable) {
  for (int i = 0; i < 2 && !variable.empty() && variable.front() == '_'; ++i) {
    variable.remove_prefix(1);
  }
  return variable;
}

}  // namespace

std::optional<std::string> parse_uuid(std::string_view text) {
  if (text.size() != uuid_length) return std::nullopt;
  std::string uuid(text);
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? uuid[i] != '-' : !is_hex(uuid[i])) return std::nullopt;
    uuid[i] = lower(uuid[i]);
  }
  return uuid;
}

std::optional<std::string> audiosocket_channel_uuid(std::string_view channel_name) {
  if (channel_name.size() < audiosocket_prefix.size() + 1 + uuid_length ||
      !iequals(channel_name.substr(0, audiosocket_prefix.size()), audiosocket_prefix)) {
    return std::nullopt;
  }
  const auto dash = channel_name.size() - uuid_length - 1;
  if (channel_name[dash] != '-') return std::nullopt;
  return parse_uuid(channel_name.substr(dash + 1));
}

std::optional<std::string> audiosocket_app_uuid(std::string_view app_data) {
  return parse_uuid(trim(app_data.substr(0, app_data.find(','))));
}

channel_table::channel_table(channel_table_options options) : options_(std::move(options)) {}

channel_table::entry* channel_table::find(std::string_view uniqueid) {
  const auto it = channels_.find(uniqueid);
  return it == channels_.end() ? nullptr : &it->second;
}

const channel* channel_table::find_uniqueid(std::string_view uniqueid) const {
  const auto it = channels_.find(uniqueid);
  return it == channels_.end() ? nullptr : &it->second.ch;
}

const channel* channel_table::find_uuid(std::string_view uuid) const {
  const auto link = links_.find(uuid);
  return link == links_.end() ? nullptr : find_uniqueid(link->second);
}

channel_table::entry* channel_table::create(const message& event, std::string_view uniqueid) {
  if (channels_.size() >= options_.max_channels) {
    ++overflowed_;
    return nullptr;
  }
  entry e;
  e.ch.uniqueid = std::string(uniqueid);
  e.ch.exten = std::string(value_of(event, "Exten"));
  e.ch.context = std::string(value_of(event, "Context"));
  return &channels_.emplace(e.ch.uniqueid, std::move(e)).first->second;
}

void channel_table::link(entry& e, const std::string& uuid, channel_update& update) {
  if (links_.find(uuid) != links_.end()) return;  // the first channel keeps it
  auto& uuids = e.ch.call_uuids;
  if (uuids.size() >= options_.max_links_per_channel) {
    links_.erase(uuids.front());
    uuids.erase(uuids.begin());
  }
  uuids.push_back(uuid);
  links_.emplace(uuid, e.ch.uniqueid);
  update.linked.push_back(uuid);
}

void channel_table::link_from(entry& e, const message& event, std::string_view name,
                              channel_update& update) {
  std::optional<std::string> uuid;
  if (iequals(name, "VarSet")) {
    if (!options_.uuid_variable.empty() &&
        iequals(without_inheritance(value_of(event, "Variable")), options_.uuid_variable)) {
      uuid = parse_uuid(trim(value_of(event, "Value")));
    }
  } else if (iequals(name, "Newexten")) {
    if (iequals(value_of(event, "Application"), "AudioSocket")) {
      uuid = audiosocket_app_uuid(value_of(event, "AppData"));
    }
  } else if (iequals(name, "CoreShowChannel")) {
    if (iequals(value_of(event, "Application"), "AudioSocket")) {
      uuid = audiosocket_app_uuid(value_of(event, "ApplicationData"));
    }
  }
  if (uuid) link(e, *uuid, update);
  if (auto from_name = audiosocket_channel_uuid(e.ch.name)) link(e, *from_name, update);
}

void channel_table::forget(const channel& ch) {
  for (const auto& uuid : ch.call_uuids)
    links_.erase(uuid);
}

channel_update channel_table::hang_up(std::string_view uniqueid, const message& event) {
  channel_update update;
  const auto it = channels_.find(uniqueid);
  if (it == channels_.end()) return update;
  update.hangup = true;
  const auto cause = trim(value_of(event, "Cause"));
  int value = 0;
  const auto parsed = std::from_chars(cause.data(), cause.data() + cause.size(), value);
  if (parsed.ec == std::errc{} && parsed.ptr == cause.data() + cause.size()) update.cause = value;
  update.cause_text = std::string(value_of(event, "Cause-txt"));
  update.uuids = std::move(it->second.ch.call_uuids);
  for (const auto& uuid : update.uuids)
    links_.erase(uuid);
  channels_.erase(it);
  return update;
}

channel_update channel_table::feed(const message& event) {
  const auto name = event.event();
  if (!name) return {};
  ++sequence_;
  const auto uniqueid = value_of(event, "Uniqueid");
  if (!uniqueid.empty() && iequals(*name, "Hangup")) return hang_up(uniqueid, event);

  channel_update update;
  if (!uniqueid.empty()) {
    entry* e = find(uniqueid);
    if (e == nullptr && creates_channel(*name)) e = create(event, uniqueid);
    if (e != nullptr) {
      e->seen = sequence_;
      auto& ch = e->ch;
      if (iequals(*name, "Rename")) {
        if (const auto renamed = event.get("Newname")) ch.name = std::string(*renamed);
      } else if (const auto current = event.get("Channel")) {
        ch.name = std::string(*current);
      }
      if (const auto linkedid = event.get("Linkedid")) ch.linkedid = std::string(*linkedid);
      if (const auto num = event.get("CallerIDNum")) ch.caller_id_num = caller_id(*num);
      if (const auto text = event.get("CallerIDName")) ch.caller_id_name = caller_id(*text);
      link_from(*e, event, *name, update);
      update.uuids = ch.call_uuids;
    }
  }
  const auto dest = value_of(event, "DestUniqueid");
  if (!dest.empty() && dest != uniqueid) {
    if (entry* e = find(dest)) {
      e->seen = sequence_;
      update.uuids.insert(update.uuids.end(), e->ch.call_uuids.begin(), e->ch.call_uuids.end());
    }
  }
  return update;
}

std::uint64_t channel_table::begin_resync() {
  return ++sequence_;
}

std::vector<channel> channel_table::end_resync(std::uint64_t mark) {
  std::vector<channel> gone;
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.seen < mark) {
      forget(it->second.ch);
      gone.push_back(std::move(it->second.ch));
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

}  // namespace cb::ami
