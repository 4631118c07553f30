// The call store's records in SQL, on any backend: writes (upserts that make a replayed record
// harmless), the history queries and retention. Blocking; the call_store actor runs it on its own
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/store/backend.hpp"
#include "actors/store_records.hpp"

namespace cb::store {

class record_store {
 public:
  explicit record_store(std::unique_ptr<store_backend> backend);

  [[nodiscard]] const char* backend_name() const { return backend_->name(); }
  [[nodiscard]] bool is_open() const { return backend_->connected(); }

  // Connects and applies pending migrations; a no-op when open.
  std::optional<db_error> open();
  void close() { backend_->disconnect(); }

  // Writes the records in one transaction: all of them or none. Writing a record again changes
  // nothing (calls and post-call webhooks are replaced, turns and tool calls merged, DTMF kept
  // once), so records replayed after a crash are harmless. Text is stored as valid UTF-8 (invalid
  // bytes become U+FFFD), cut to its column's length.
  std::optional<db_error> write(const std::vector<store_record>& records);

  expected<history_page, db_error> history(const history_query& query);
  // The call whose uuid or conversation id is `id`; nullopt when there is none.
  expected<std::optional<call_history>, db_error> find(const std::string& id);

  // Deletes calls that started before the cutoff with their turns, tool calls and DTMF, and
  // post-call webhooks sent before it; answers the number of calls deleted.
  expected<std::uint64_t, db_error> delete_older_than(std::int64_t cutoff_unix_ms);

 private:
  std::optional<db_error> write_one(const store_record& record);
  // Runs body between BEGIN and COMMIT, or rolls back when it (or the commit) fails.
  std::optional<db_error> in_transaction(const std::function<std::optional<db_error>()>& body);

  std::unique_ptr<store_backend> backend_;
  std::string begin_;
  std::string upsert_call_;
  std::string upsert_turn_;
  std::string upsert_tool_call_;
  std::string insert_dtmf_;
  std::string upsert_post_call_;
};

// `text` as valid UTF-8 of at most max_chars code points and max_bytes bytes: each invalid byte
// becomes U+FFFD, and the text is cut at a character boundary.
[[nodiscard]] std::string fit_utf8(std::string_view text, std::size_t max_chars,
                                   std::size_t max_bytes);

}  // namespace cb::store
