// What the call store keeps: value types the call actors send it and the API reads back. Local-only
// message types (CAF 0.17 cannot inspect std::variant), so they never leave the process.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocol/elevenlabs_webhook.hpp"

namespace cb {

// One call, upserted by uuid: written when the call starts and again, complete, when it ends.
struct call_record {
  std::string uuid;
  std::string conversation_id;
  std::string agent_id;
  std::string channel;  // the Asterisk channel, when AMI linked it
  std::string caller_id;
  std::string called_number;
  std::string lead_id;   // from the dynamic variables (Vicidial/OSdial), when present
  std::string campaign;  // idem
  std::string dynamic_variables_json;
  std::int64_t started_unix_ms = 0;
  std::int64_t answered_unix_ms = 0;  // the agent's first audio played; 0: never
  std::int64_t ended_unix_ms = 0;     // 0: live
  std::string end_reason;
  std::string end_detail;
  std::string transfer_target;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t late_frames = 0;
  std::uint64_t underruns = 0;
  std::int64_t first_word_ms = -1;

  friend bool operator==(const call_record& a, const call_record& b) {
    return a.uuid == b.uuid && a.conversation_id == b.conversation_id && a.agent_id == b.agent_id &&
           a.channel == b.channel && a.caller_id == b.caller_id &&
           a.called_number == b.called_number && a.lead_id == b.lead_id &&
           a.campaign == b.campaign && a.dynamic_variables_json == b.dynamic_variables_json &&
           a.started_unix_ms == b.started_unix_ms && a.answered_unix_ms == b.answered_unix_ms &&
           a.ended_unix_ms == b.ended_unix_ms && a.end_reason == b.end_reason &&
           a.end_detail == b.end_detail && a.transfer_target == b.transfer_target &&
           a.frames_in == b.frames_in && a.frames_out == b.frames_out &&
           a.late_frames == b.late_frames && a.underruns == b.underruns &&
           a.first_word_ms == b.first_word_ms;
  }
  friend bool operator!=(const call_record& a, const call_record& b) { return !(a == b); }
};

// A transcript turn, or a later state of it. A turn is (uuid, role, event_id): a record for a turn
// already stored replaces its text unless the new text is empty, and sets interrupted/corrected
// when the new record has them (they are never cleared); offset_ms stays the first one's.
struct transcript_record {
  std::string uuid;
  std::string role;  // "user" or "agent"
  std::string text;
  std::int64_t event_id = 0;
  std::int64_t offset_ms = 0;  // since the call started
  bool interrupted = false;    // the caller cut the agent's turn short
  bool corrected = false;      // agent_response_correction replaced the text

  friend bool operator==(const transcript_record& a, const transcript_record& b) {
    return a.uuid == b.uuid && a.role == b.role && a.text == b.text && a.event_id == b.event_id &&
           a.offset_ms == b.offset_ms && a.interrupted == b.interrupted &&
           a.corrected == b.corrected;
  }
  friend bool operator!=(const transcript_record& a, const transcript_record& b) {
    return !(a == b);
  }
};

// A client tool call, stored once per (uuid, tool_call_id): a later record fills in the result (and
// name/parameters, when the first record lacked them).
struct tool_call_record {
  std::string uuid;
  std::string tool_call_id;
  std::string name;
  std::string parameters_json;
  std::string result;
  bool is_error = false;
  std::int64_t offset_ms = 0;

  friend bool operator==(const tool_call_record& a, const tool_call_record& b) {
    return a.uuid == b.uuid && a.tool_call_id == b.tool_call_id && a.name == b.name &&
           a.parameters_json == b.parameters_json && a.result == b.result &&
           a.is_error == b.is_error && a.offset_ms == b.offset_ms;
  }
  friend bool operator!=(const tool_call_record& a, const tool_call_record& b) { return !(a == b); }
};

// Stored once per (uuid, direction, offset_ms, digits).
struct dtmf_record {
  std::string uuid;
  std::string digits;
  std::string direction;  // "caller" (received) or "agent" (sent with send_dtmf)
  std::int64_t offset_ms = 0;

  friend bool operator==(const dtmf_record& a, const dtmf_record& b) {
    return a.uuid == b.uuid && a.digits == b.digits && a.direction == b.direction &&
           a.offset_ms == b.offset_ms;
  }
  friend bool operator!=(const dtmf_record& a, const dtmf_record& b) { return !(a == b); }
};

// ElevenLabs' post-call webhook (protocol/elevenlabs_webhook.hpp), joined to the call by
// conversation id; stored once per (conversation_id, kind), a redelivery replacing it.
using post_call_record = elevenlabs::post_call_webhook;

using store_record =
    std::variant<call_record, transcript_record, tool_call_record, dtmf_record, post_call_record>;

// Calls by start time: from_unix_ms <= started_unix_ms < to_unix_ms.
struct history_query {
  std::int64_t from_unix_ms = 0;  // 0: no bound
  std::int64_t to_unix_ms = 0;    // 0: no bound
  std::string agent_id;           // empty: any
  // A substring of any transcript turn (SQL LIKE, case-insensitive: SQLite folds ASCII letters
  // only, MariaDB follows utf8mb4_unicode_ci); empty: any
  std::string text;
  std::uint32_t limit = 50;
  std::uint32_t offset = 0;
};

struct history_page {
  std::vector<call_record> calls;  // newest first
  std::uint64_t total = 0;         // matching calls
};

struct call_history {
  call_record call;
  std::vector<transcript_record> transcript;  // by event id, then offset
  std::vector<tool_call_record> tool_calls;
  std::vector<dtmf_record> dtmf;
  std::optional<post_call_record> post_call;  // the transcription webhook, else the audio one
};

struct store_status {
  std::string backend;  // "sqlite" or "mysql"
  bool database_up = false;
  std::string last_error;
  std::uint64_t written = 0;    // records committed
  std::size_t queued = 0;       // waiting in memory
  std::uint64_t journaled = 0;  // waiting in the journal file
  std::uint64_t rejected = 0;   // refused by the database for their content (logged, not retried)
  std::uint64_t dropped = 0;    // lost: the database was down and the journal unwritable
};

}  // namespace cb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::store_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::history_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::call_history)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::store_status)
