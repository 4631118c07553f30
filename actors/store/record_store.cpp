#include "actors/store/record_store.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "actors/store/schema.hpp"
#include "codecs/utf8.hpp"

namespace cb::store {

namespace {

constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();
// MEDIUMTEXT holds 16 MiB; a quarter keeps one statement well inside MariaDB's default
// max_allowed_packet (16 MiB) and leaves room for escaping.
constexpr std::size_t long_text_bytes = std::size_t{4} << 20U;
constexpr std::uint32_t max_page = 1000;

// How a second write of the same row (same key) treats a column.
enum class merge : std::uint8_t {
  key,           // part of the primary key
  replace,       // the new value
  unless_empty,  // the new value unless it is ''
  flag,          // set when the new value is set, never cleared
  keep,          // the first value
};

struct column {
  std::string_view name;
  merge rule;
};

// INSERT with the dialect's upsert clause. The merge expressions name the existing row's column
// bare and the proposed value as NEW(column), which is excluded.column in SQLite and
// VALUES(column) in MariaDB.
std::string upsert_sql(sql_dialect dialect, std::string_view table,
                       const std::vector<column>& columns) {
  const auto proposed = [dialect](std::string_view name) {
    return dialect == sql_dialect::sqlite ? "excluded." + std::string(name)
                                          : "VALUES(" + std::string(name) + ")";
  };
  std::string names;
  std::string placeholders;
  std::string keys;
  std::string updates;
  for (const auto& c : columns) {
    const std::string name(c.name);
    names += (names.empty() ? "" : ", ") + name;
    placeholders += placeholders.empty() ? "?" : ", ?";
    std::string expression;
    switch (c.rule) {
      case merge::key:
        keys += (keys.empty() ? "" : ", ") + name;
        continue;
      case merge::keep:
        continue;
      case merge::replace:
        expression = proposed(name);
        break;
      case merge::unless_empty:
        expression = "CASE WHEN " + proposed(name) + " <> '' THEN " + proposed(name) + " ELSE " +
                     name + " END";
        break;
      case merge::flag:
        expression = "CASE WHEN " + proposed(name) + " <> 0 THEN " + proposed(name) + " ELSE " +
                     name + " END";
        break;
    }
    if (!updates.empty()) updates += ", ";
    updates += name + " = " + expression;
  }
  std::string sql =
      "INSERT INTO " + std::string(table) + " (" + names + ") VALUES (" + placeholders + ")";
  if (dialect == sql_dialect::sqlite) {
    sql += updates.empty() ? " ON CONFLICT (" + keys + ") DO NOTHING"
                           : " ON CONFLICT (" + keys + ") DO UPDATE SET " + updates;
  } else {
    // Assigning the first key column to itself is MariaDB's "do nothing".
    const auto first_key = keys.substr(0, keys.find(','));
    sql +=
        " ON DUPLICATE KEY UPDATE " + (updates.empty() ? first_key + " = " + first_key : updates);
  }
  return sql;
}

const std::vector<column> call_columns = {
    {"uuid", merge::key},
    {"conversation_id", merge::replace},
    {"agent_id", merge::replace},
    {"channel", merge::replace},
    {"caller_id", merge::replace},
    {"called_number", merge::replace},
    {"lead_id", merge::replace},
    {"campaign", merge::replace},
    {"dynamic_variables", merge::replace},
    {"started_unix_ms", merge::replace},
    {"answered_unix_ms", merge::replace},
    {"ended_unix_ms", merge::replace},
    {"end_reason", merge::replace},
    {"end_detail", merge::replace},
    {"transfer_target", merge::replace},
    {"frames_in", merge::replace},
    {"frames_out", merge::replace},
    {"late_frames", merge::replace},
    {"underruns", merge::replace},
    {"first_word_ms", merge::replace},
};

const std::vector<column> turn_columns = {
    {"uuid", merge::key},          {"role", merge::key},       {"event_id", merge::key},
    {"text", merge::unless_empty}, {"offset_ms", merge::keep}, {"interrupted", merge::flag},
    {"corrected", merge::flag},
};

const std::vector<column> tool_call_columns = {
    {"uuid", merge::key},
    {"tool_call_id", merge::key},
    {"name", merge::unless_empty},
    {"parameters", merge::unless_empty},
    {"result", merge::unless_empty},
    {"is_error", merge::flag},
    {"offset_ms", merge::keep},
};

const std::vector<column> dtmf_columns = {
    {"uuid", merge::key},
    {"direction", merge::key},
    {"offset_ms", merge::key},
    {"digits", merge::key},
};

const std::vector<column> post_call_columns = {
    {"conversation_id", merge::key},
    {"kind", merge::key},
    {"agent_id", merge::replace},
    {"event_unix_s", merge::replace},
    {"summary", merge::replace},
    {"analysis", merge::replace},
    {"termination_reason", merge::replace},
    {"cost", merge::replace},
    {"payload", merge::replace},
};

std::string column_list(const std::vector<column>& columns) {
  std::string out;
  for (const auto& c : columns)
    out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

// A VARCHAR(n) value: n characters of up to four bytes.
sql_value short_text(std::string_view s, std::size_t chars) {
  return fit_utf8(s, chars, 4 * chars);
}
sql_value long_text(std::string_view s) {
  return fit_utf8(s, no_limit, long_text_bytes);
}
sql_value integer(std::int64_t v) {
  return v;
}
sql_value integer(std::uint64_t v) {
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}
sql_value flag(bool b) {
  return std::int64_t{b ? 1 : 0};
}

std::vector<sql_value> params_of(const call_record& r) {
  return {short_text(r.uuid, 64),
          short_text(r.conversation_id, 128),
          short_text(r.agent_id, 128),
          short_text(r.channel, 255),
          short_text(r.caller_id, 128),
          short_text(r.called_number, 128),
          short_text(r.lead_id, 64),
          short_text(r.campaign, 128),
          long_text(r.dynamic_variables_json),
          integer(r.started_unix_ms),
          integer(r.answered_unix_ms),
          integer(r.ended_unix_ms),
          short_text(r.end_reason, 64),
          long_text(r.end_detail),
          short_text(r.transfer_target, 255),
          integer(r.frames_in),
          integer(r.frames_out),
          integer(r.late_frames),
          integer(r.underruns),
          integer(r.first_word_ms)};
}

std::vector<sql_value> params_of(const transcript_record& r) {
  return {short_text(r.uuid, 64), short_text(r.role, 16), integer(r.event_id), long_text(r.text),
          integer(r.offset_ms),   flag(r.interrupted),    flag(r.corrected)};
}

std::vector<sql_value> params_of(const tool_call_record& r) {
  return {short_text(r.uuid, 64),  short_text(r.tool_call_id, 128),
          short_text(r.name, 128), long_text(r.parameters_json),
          long_text(r.result),     flag(r.is_error),
          integer(r.offset_ms)};
}

std::vector<sql_value> params_of(const dtmf_record& r) {
  return {short_text(r.uuid, 64), short_text(r.direction, 16), integer(r.offset_ms),
          short_text(r.digits, 64)};
}

std::vector<sql_value> params_of(const post_call_record& r) {
  return {short_text(r.conversation_id, 128),
          short_text(r.kind, 32),
          short_text(r.agent_id, 128),
          integer(r.event_unix_s),
          long_text(r.summary),
          long_text(r.analysis_json),
          short_text(r.termination_reason, 255),
          r.cost ? sql_value(*r.cost) : sql_value(nullptr),
          long_text(r.payload_json)};
}

std::string text_of(const std::optional<std::string>& column) {
  return column.value_or("");
}

std::uint64_t count_of(const std::optional<std::string>& column) {
  const auto v = column_int(column);
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

call_record call_of(const sql_row& row) {
  call_record r;
  r.uuid = text_of(row[0]);
  r.conversation_id = text_of(row[1]);
  r.agent_id = text_of(row[2]);
  r.channel = text_of(row[3]);
  r.caller_id = text_of(row[4]);
  r.called_number = text_of(row[5]);
  r.lead_id = text_of(row[6]);
  r.campaign = text_of(row[7]);
  r.dynamic_variables_json = text_of(row[8]);
  r.started_unix_ms = column_int(row[9]);
  r.answered_unix_ms = column_int(row[10]);
  r.ended_unix_ms = column_int(row[11]);
  r.end_reason = text_of(row[12]);
  r.end_detail = text_of(row[13]);
  r.transfer_target = text_of(row[14]);
  r.frames_in = count_of(row[15]);
  r.frames_out = count_of(row[16]);
  r.late_frames = count_of(row[17]);
  r.underruns = count_of(row[18]);
  r.first_word_ms = column_int(row[19]);
  return r;
}

// LIKE '%text%' with the wildcards in `text` matched literally ('!' escapes: a backslash would
// need doubling in MariaDB's string literals but not in SQLite's).
std::string contains_pattern(std::string_view text) {
  std::string out = "%";
  for (const char c : fit_utf8(text, 1000, 4000)) {
    if (c == '!' || c == '%' || c == '_') out += '!';
    out += c;
  }
  out += '%';
  return out;
}

}  // namespace

std::string fit_utf8(std::string_view text, std::size_t max_chars, std::size_t max_bytes) {
  static constexpr std::string_view replacement = "\xef\xbf\xbd";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size() && chars < max_chars;) {
    const std::size_t length = codecs::utf8_sequence_length(text, i);
    const std::string_view piece = length == 0 ? replacement : text.substr(i, length);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    ++chars;
    i += length == 0 ? 1 : length;
  }
  return out;
}

record_store::record_store(std::unique_ptr<store_backend> backend)
    : backend_(std::move(backend)),
      begin_(backend_->dialect() == sql_dialect::sqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION"),
      upsert_call_(upsert_sql(backend_->dialect(), "calls", call_columns)),
      upsert_turn_(upsert_sql(backend_->dialect(), "transcript_turns", turn_columns)),
      upsert_tool_call_(upsert_sql(backend_->dialect(), "tool_calls", tool_call_columns)),
      insert_dtmf_(upsert_sql(backend_->dialect(), "dtmf", dtmf_columns)),
      upsert_post_call_(upsert_sql(backend_->dialect(), "post_calls", post_call_columns)) {}

std::optional<db_error> record_store::open() {
  if (backend_->connected()) return std::nullopt;
  if (auto error = backend_->connect()) return error;
  if (auto error = migrate(*backend_)) {
    backend_->disconnect();
    return error;
  }
  return std::nullopt;
}

std::optional<db_error> record_store::in_transaction(
    const std::function<std::optional<db_error>()>& body) {
  if (auto started = backend_->execute(begin_, {}); !started) return started.error();
  auto failure = body();
  if (!failure) {
    if (auto committed = backend_->execute("COMMIT", {}); !committed) failure = committed.error();
  }
  if (failure) (void)backend_->execute("ROLLBACK", {});
  return failure;
}

std::optional<db_error> record_store::write_one(const store_record& record) {
  struct statement_for {
    const record_store& self;
    const std::string& operator()(const call_record& /*record*/) const { return self.upsert_call_; }
    const std::string& operator()(const transcript_record& /*record*/) const {
      return self.upsert_turn_;
    }
    const std::string& operator()(const tool_call_record& /*record*/) const {
      return self.upsert_tool_call_;
    }
    const std::string& operator()(const dtmf_record& /*record*/) const { return self.insert_dtmf_; }
    const std::string& operator()(const post_call_record& /*record*/) const {
      return self.upsert_post_call_;
    }
  };
  const auto params = std::visit([](const auto& r) { return params_of(r); }, record);
  auto done = backend_->execute(std::visit(statement_for{*this}, record), params);
  if (!done) return done.error();
  return std::nullopt;
}

std::optional<db_error> record_store::write(const std::vector<store_record>& records) {
  return in_transaction([&]() -> std::optional<db_error> {
    for (const auto& record : records) {
      if (auto error = write_one(record)) return error;
    }
    return std::nullopt;
  });
}

expected<history_page, db_error> record_store::history(const history_query& query) {
  std::string where = " WHERE 1 = 1";
  std::vector<sql_value> params;
  if (query.from_unix_ms > 0) {
    where += " AND started_unix_ms >= ?";
    params.emplace_back(query.from_unix_ms);
  }
  if (query.to_unix_ms > 0) {
    where += " AND started_unix_ms < ?";
    params.emplace_back(query.to_unix_ms);
  }
  if (!query.agent_id.empty()) {
    where += " AND agent_id = ?";
    params.emplace_back(fit_utf8(query.agent_id, 128, 512));
  }
  if (!query.text.empty()) {
    where +=
        " AND EXISTS (SELECT 1 FROM transcript_turns t WHERE t.uuid = calls.uuid AND t.text LIKE ? "
        "ESCAPE '!')";
    params.emplace_back(contains_pattern(query.text));
  }
  auto counted = backend_->query("SELECT COUNT(*) FROM calls" + where, params);
  if (!counted) return unexpected{counted.error()};
  history_page page;
  page.total = counted->empty() ? 0 : count_of(counted->front().front());
  params.emplace_back(std::int64_t{std::min(query.limit, max_page)});
  params.emplace_back(std::int64_t{query.offset});
  auto rows = backend_->query("SELECT " + column_list(call_columns) + " FROM calls" + where +
                                  " ORDER BY started_unix_ms DESC, uuid DESC LIMIT ? OFFSET ?",
                              params);
  if (!rows) return unexpected{rows.error()};
  page.calls.reserve(rows->size());
  for (const auto& row : *rows)
    page.calls.push_back(call_of(row));
  return page;
}

expected<std::optional<call_history>, db_error> record_store::find(const std::string& id) {
  if (id.empty()) return std::optional<call_history>{};
  const std::vector<sql_value> by_id = {fit_utf8(id, 128, 512)};
  auto calls = backend_->query("SELECT " + column_list(call_columns) +
                                   " FROM calls WHERE uuid = ? OR conversation_id = ? "
                                   "ORDER BY started_unix_ms DESC LIMIT 1",
                               {by_id[0], by_id[0]});
  if (!calls) return unexpected{calls.error()};
  if (calls->empty()) return std::optional<call_history>{};
  call_history out;
  out.call = call_of(calls->front());
  const std::vector<sql_value> by_uuid = {out.call.uuid};

  auto turns = backend_->query(
      "SELECT role, text, event_id, offset_ms, interrupted, corrected FROM transcript_turns "
      "WHERE uuid = ? ORDER BY event_id, offset_ms, role",
      by_uuid);
  if (!turns) return unexpected{turns.error()};
  for (const auto& row : *turns) {
    out.transcript.push_back({out.call.uuid, text_of(row[0]), text_of(row[1]), column_int(row[2]),
                              column_int(row[3]), column_int(row[4]) != 0,
                              column_int(row[5]) != 0});
  }

  auto tools = backend_->query(
      "SELECT tool_call_id, name, parameters, result, is_error, offset_ms FROM tool_calls "
      "WHERE uuid = ? ORDER BY offset_ms, tool_call_id",
      by_uuid);
  if (!tools) return unexpected{tools.error()};
  for (const auto& row : *tools) {
    out.tool_calls.push_back({out.call.uuid, text_of(row[0]), text_of(row[1]), text_of(row[2]),
                              text_of(row[3]), column_int(row[4]) != 0, column_int(row[5])});
  }

  auto digits = backend_->query(
      "SELECT digits, direction, offset_ms FROM dtmf WHERE uuid = ? "
      "ORDER BY offset_ms, direction, digits",
      by_uuid);
  if (!digits) return unexpected{digits.error()};
  for (const auto& row : *digits)
    out.dtmf.push_back({out.call.uuid, text_of(row[0]), text_of(row[1]), column_int(row[2])});

  if (!out.call.conversation_id.empty()) {
    // 'post_call_transcription' sorts after 'post_call_audio': the transcription comes first.
    auto post = backend_->query(
        "SELECT kind, agent_id, event_unix_s, summary, analysis, termination_reason, cost, "
        "payload FROM post_calls WHERE conversation_id = ? ORDER BY kind DESC",
        {out.call.conversation_id});
    if (!post) return unexpected{post.error()};
    if (!post->empty()) {
      const auto& row = post->front();
      post_call_record p;
      p.conversation_id = out.call.conversation_id;
      p.kind = text_of(row[0]);
      p.agent_id = text_of(row[1]);
      p.event_unix_s = column_int(row[2]);
      p.summary = text_of(row[3]);
      p.analysis_json = text_of(row[4]);
      p.termination_reason = text_of(row[5]);
      p.cost = column_double(row[6]);
      p.payload_json = text_of(row[7]);
      out.post_call = std::move(p);
    }
  }
  return std::optional<call_history>(std::move(out));
}

expected<std::uint64_t, db_error> record_store::delete_older_than(std::int64_t cutoff_unix_ms) {
  std::uint64_t calls_deleted = 0;
  const std::vector<sql_value> cutoff = {cutoff_unix_ms};
  auto failure = in_transaction([&]() -> std::optional<db_error> {
    for (const char* sql :
         {"DELETE FROM transcript_turns WHERE uuid IN "
          "(SELECT uuid FROM calls WHERE started_unix_ms < ?)",
          "DELETE FROM tool_calls WHERE uuid IN (SELECT uuid FROM calls WHERE started_unix_ms < ?)",
          "DELETE FROM dtmf WHERE uuid IN (SELECT uuid FROM calls WHERE started_unix_ms < ?)"}) {
      if (auto done = backend_->execute(sql, cutoff); !done) return done.error();
    }
    auto calls = backend_->execute("DELETE FROM calls WHERE started_unix_ms < ?", cutoff);
    if (!calls) return calls.error();
    calls_deleted = *calls;
    auto post =
        backend_->execute("DELETE FROM post_calls WHERE event_unix_s < ?", {cutoff_unix_ms / 1000});
    if (!post) return post.error();
    return std::nullopt;
  });
  if (failure) return unexpected{std::move(*failure)};
  return calls_deleted;
}

}  // namespace cb::store
