// The Asterisk channels AMI reports, and which bridge call (AudioSocket UUID) each one carries
// (audiosocket.md, "Linking a UUID to an Asterisk channel"). The AMI client feeds it every event it
// receives, in order; the table remembers a link made before anyone asks for it (Asterisk runs
// AudioSocket() before the call's TCP connection reaches the bridge) and forgets a channel, with
// its links, at its Hangup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ami.hpp"

namespace cb::ami {

// A UUID in 8-4-4-4-12 hex form, lowercased; nullopt for anything else.
[[nodiscard]] std::optional<std::string> parse_uuid(std::string_view text);
// The call UUID in a chan_audiosocket channel name, "AudioSocket/<host:port>-<uuid>".
[[nodiscard]] std::optional<std::string> audiosocket_channel_uuid(std::string_view channel_name);
// The call UUID an AudioSocket() application runs with: the first of its arguments,
// "<uuid>,<host:port>[,...]".
[[nodiscard]] std::optional<std::string> audiosocket_app_uuid(std::string_view app_data);

struct channel {
  std::string name;  // the current name (a Rename changes it; the Uniqueid stays)
  std::string uniqueid;
  std::string linkedid;
  std::string caller_id_num;  // empty where Asterisk writes "<unknown>"
  std::string caller_id_name;
  std::string exten;  // where the channel was created; dialplan moves do not change it
  std::string context;
  std::vector<std::string> call_uuids;  // linked call UUIDs, lowercase, oldest first
};

struct channel_table_options {
  // The channel variable the dialplan stores the call UUID in (a VarSet of it links the channel);
  // compared case-insensitively, without the inheritance prefix "_" or "__". Empty: none.
  std::string uuid_variable = "CALL_UUID";
  // Bounds: far above any real PBX, they only stop a peer from growing the table without end.
  std::size_t max_channels = 50000;
  std::size_t max_links_per_channel = 8;  // the oldest link goes first
};

// What one event meant.
struct channel_update {
  // Call UUIDs the event linked to a channel just now.
  std::vector<std::string> linked;
  // The call UUIDs linked to the channels the event is about: its Uniqueid and its DestUniqueid
  // (the called side of Dial and bridge events). For a Hangup, the links it ended.
  std::vector<std::string> uuids;
  // A Hangup of a tracked channel: it and its links are forgotten.
  bool hangup = false;
  int cause = 0;  // the Hangup's Cause; 0 when absent or unreadable
  std::string cause_text;
};

// Channels are created by the events only a live channel produces (Newchannel, Newstate, VarSet,
// Newexten, CoreShowChannel), each of which carries the full channel snapshot; other events only
// update a tracked channel, so that late events (Cdr, a failed OriginateResponse) never bring back
// a channel that has hung up. A call UUID links to the first channel it is seen on and stays there
// while that channel lives: the dialplan's variable is set on the caller's channel before
// Dial(AudioSocket/...) creates the AudioSocket channel, and the caller's channel is the one to act
// on.
class channel_table {
 public:
  explicit channel_table(channel_table_options options = {});

  channel_update feed(const message& event);

  [[nodiscard]] const channel* find_uuid(std::string_view uuid) const;
  [[nodiscard]] const channel* find_uniqueid(std::string_view uniqueid) const;

  // A resynchronisation: begin before sending CoreShowChannels, feed its CoreShowChannel events
  // like any others, end when the list is complete. end_resync removes (and returns) the channels
  // no event mentioned since the mark: they hung up while nobody was listening. Channels created
  // after the mark are kept, though the list may predate them.
  [[nodiscard]] std::uint64_t begin_resync();
  std::vector<channel> end_resync(std::uint64_t mark);

  [[nodiscard]] std::size_t size() const { return channels_.size(); }
  [[nodiscard]] std::size_t links() const { return links_.size(); }
  // Channels not tracked because the table was full.
  [[nodiscard]] std::uint64_t overflowed() const { return overflowed_; }

 private:
  struct entry {
    channel ch;
    std::uint64_t seen = 0;  // the ordinal of the last event about it
  };

  entry* find(std::string_view uniqueid);
  entry* create(const message& event, std::string_view uniqueid);
  void link(entry& e, const std::string& uuid, channel_update& update);
  void link_from(entry& e, const message& event, std::string_view name, channel_update& update);
  void forget(const channel& ch);
  channel_update hang_up(std::string_view uniqueid, const message& event);

  channel_table_options options_;
  std::map<std::string, entry, std::less<>> channels_;     // by Uniqueid
  std::map<std::string, std::string, std::less<>> links_;  // call UUID -> Uniqueid
  std::uint64_t sequence_ = 0;
  std::uint64_t overflowed_ = 0;
};

}  // namespace cb::ami
