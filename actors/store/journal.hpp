// The store's journal: records waiting for the database, one per line in an append-only file,
// replayed in order once the database is back (and after a restart), then truncated.
//
// A line is `<crc32 hex>\t<kind>\t<field>\t...\n`: the checksum covers everything after the
// first tab, fields escape \\, \t, \n and \r. A line cut short by a crash (SIGKILL, power loss)
// has no newline or a wrong checksum and is skipped; open() cuts a torn tail so later appends
// start on a line of their own.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/store_records.hpp"
#include "codecs/expected.hpp"

namespace cb::store {

// One record as a journal line, newline included.
[[nodiscard]] std::string encode_journal_line(const store_record& record);
// A line without its newline; nullopt when it is torn, altered or of an unknown kind.
[[nodiscard]] std::optional<store_record> decode_journal_line(std::string_view line);

class journal {
 public:
  explicit journal(std::string path);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;
  journal(journal&&) = delete;
  journal& operator=(journal&&) = delete;

  // Opens the file, creating it (mode 0600: records hold callers' data), locks it against a second
  // process, cuts a torn last line and answers how many records it holds.
  expected<std::uint64_t, std::string> open();
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }

  // Appends every record, in order. On failure (a full disk) the file is cut back to where it
  // was, so no partial line is left for the next append to run into.
  std::optional<std::string> append(const std::deque<store_record>& records);

  struct chunk {
    std::vector<store_record> records;
    std::vector<std::uint64_t> ends;  // the offset just after each record's line
    std::uint64_t end = 0;            // the offset after the last line read, skipped ones included
    std::uint64_t skipped = 0;        // lines that did not decode
  };
  // Up to max_records records from byte `offset` on (a line boundary).
  [[nodiscard]] expected<chunk, std::string> read(std::uint64_t offset,
                                                  std::size_t max_records) const;

  // Empties the file: every record in it is stored.
  std::optional<std::string> clear();
  // Makes the appended records durable (fdatasync).
  std::optional<std::string> sync();

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace cb::store
