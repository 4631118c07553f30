// What the call store keeps: value types the call actors send it and the API reads back. Local-only
// message types (CAF 0.17 cannot inspect std::variant), so they never leave the process.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

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
};

// A transcript turn, or a correction of one.
struct transcript_record {
  std::string uuid;
  std::string role;  // "user" or "agent"
  std::string text;
  std::int64_t event_id = 0;
  std::int64_t offset_ms = 0;  // since the call started
  bool interrupted = false;    // the caller cut the agent's turn short
  bool corrected = false;      // agent_response_correction replaced the text
};

struct tool_call_record {
  std::string uuid;
  std::string tool_call_id;
  std::string name;
  std::string parameters_json;
  std::string result;
  bool is_error = false;
  std::int64_t offset_ms = 0;
};

struct dtmf_record {
  std::string uuid;
  std::string digits;
  std::string direction;  // "caller" (received) or "agent" (sent with send_dtmf)
  std::int64_t offset_ms = 0;
};

// ElevenLabs' post-call webhook, joined to the call by conversation id.
struct post_call_record {
  std::string conversation_id;
  std::string kind;  // "post_call_transcription" or "post_call_audio"
  std::int64_t event_unix_s = 0;
  std::string summary;
  std::string analysis_json;
  std::string termination_reason;
  std::optional<double> cost;
  std::string payload_json;  // the webhook's data object, as received (without full_audio)
};

using store_record =
    std::variant<call_record, transcript_record, tool_call_record, dtmf_record, post_call_record>;

struct history_query {
  std::int64_t from_unix_ms = 0;  // 0: no bound
  std::int64_t to_unix_ms = 0;    // 0: no bound
  std::string agent_id;           // empty: any
  std::string text;               // searched in transcripts; empty: any
  std::uint32_t limit = 50;
  std::uint32_t offset = 0;
};

struct history_page {
  std::vector<call_record> calls;  // newest first
  std::uint64_t total = 0;         // matching calls
};

struct call_history {
  call_record call;
  std::vector<transcript_record> transcript;  // in event order
  std::vector<tool_call_record> tool_calls;
  std::vector<dtmf_record> dtmf;
  std::optional<post_call_record> post_call;
};

struct store_status {
  std::string backend;  // "sqlite" or "mysql"
  bool database_up = false;
  std::string last_error;
  std::uint64_t written = 0;    // records committed
  std::size_t queued = 0;       // waiting in memory
  std::uint64_t journaled = 0;  // waiting in the journal file
};

}  // namespace cb

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::store_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::history_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::call_history)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cb::store_status)
