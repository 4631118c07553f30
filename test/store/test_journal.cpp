#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "actors/store/journal.hpp"
#include "test/store/store_test_support.hpp"

namespace {

using cb::store::decode_journal_line;
using cb::store::encode_journal_line;
using cb::store::journal;
using cb::test::sample_records;
using cb::test::temp_dir;

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string without_newline(std::string line) {
  line.pop_back();
  return line;
}

}  // namespace

TEST_CASE("journal lines round-trip every record kind, awkward text included", "[journal]") {
  for (const auto& record : sample_records("7b0c1c5e-5b8a-4f7e-9a57-3c1d2e4f5a6b")) {
    const auto line = encode_journal_line(record);
    INFO(line);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    const auto decoded = decode_journal_line(without_newline(line));
    REQUIRE(decoded.has_value());
    CHECK(*decoded == record);
  }
}

TEST_CASE("journal lines: a changed byte, a cut or an unknown kind does not decode", "[journal]") {
  cb::transcript_record turn;
  turn.uuid = "u";
  turn.role = "agent";
  turn.text = "Hello\tthere\\n";
  turn.event_id = 7;
  const auto line = without_newline(encode_journal_line(turn));
  REQUIRE(decode_journal_line(line).has_value());

  for (std::size_t i = 0; i < line.size(); ++i) {
    auto damaged = line;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    INFO("byte " << i);
    CHECK_FALSE(decode_journal_line(damaged).has_value());
  }
  for (std::size_t n = 0; n < line.size(); ++n) {
    INFO("cut at " << n);
    CHECK_FALSE(decode_journal_line(line.substr(0, n)).has_value());
  }
  CHECK_FALSE(decode_journal_line("00000000\tturn9").has_value());
  CHECK_FALSE(decode_journal_line("").has_value());
}

TEST_CASE("journal appends in order and reads back in chunks from any line", "[journal]") {
  temp_dir dir;
  const auto path = dir.file("journal.log");
  const auto records = sample_records("a");
  {
    journal j(path);
    auto opened = j.open();
    REQUIRE(opened.has_value());
    CHECK(*opened == 0);
    const std::deque<cb::store_record> first(records.begin(), records.begin() + 2);
    const std::deque<cb::store_record> rest(records.begin() + 2, records.end());
    REQUIRE_FALSE(j.append(first));
    REQUIRE_FALSE(j.append(rest));
    REQUIRE_FALSE(j.sync());

    std::vector<cb::store_record> seen;
    std::uint64_t offset = 0;
    while (offset < j.size()) {
      auto part = j.read(offset, 2);
      REQUIRE(part.has_value());
      REQUIRE_FALSE(part->records.empty());
      CHECK(part->records.size() <= 2);
      CHECK(part->ends.back() == part->end);
      seen.insert(seen.end(), part->records.begin(), part->records.end());
      offset = part->end;
    }
    CHECK(seen == records);
  }
  journal reopened(path);
  auto count = reopened.open();
  REQUIRE(count.has_value());
  CHECK(*count == records.size());
  REQUIRE_FALSE(reopened.clear());
  CHECK(reopened.size() == 0);
  CHECK(file_text(path).empty());
}

TEST_CASE("journal: a torn last line is cut at open and appends start on a new line", "[journal]") {
  temp_dir dir;
  const auto path = dir.file("journal.log");
  const auto records = sample_records("b");
  std::string text;
  for (const auto& r : records)
    text += encode_journal_line(r);
  // The last record as a crash left it: half written, no newline.
  const auto torn = encode_journal_line(records.front());
  write_file(path, text + torn.substr(0, torn.size() / 2));

  journal j(path);
  auto count = j.open();
  REQUIRE(count.has_value());
  CHECK(*count == records.size());
  CHECK(file_text(path) == text);

  const std::deque<cb::store_record> more(records.begin(), records.begin() + 1);
  REQUIRE_FALSE(j.append(more));
  auto all = j.read(0, 100);
  REQUIRE(all.has_value());
  CHECK(all->records.size() == records.size() + 1);
  CHECK(all->skipped == 0);
}

TEST_CASE("journal: a damaged line in the middle is skipped, the rest is read", "[journal]") {
  temp_dir dir;
  const auto path = dir.file("journal.log");
  const auto records = sample_records("c");
  std::string text;
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto line = encode_journal_line(records[i]);
    if (i == 1) line[12] = static_cast<char>(line[12] ^ 0x20);
    text += line;
  }
  write_file(path, text);
  journal j(path);
  auto count = j.open();
  REQUIRE(count.has_value());
  CHECK(*count == records.size() - 1);
  auto all = j.read(0, 100);
  REQUIRE(all.has_value());
  CHECK(all->skipped == 1);
  CHECK(all->end == text.size());
  REQUIRE(all->records.size() == records.size() - 1);
  CHECK(all->records.front() == records.front());
  CHECK(all->records.back() == records.back());
}

TEST_CASE("journal: a file that cannot be created is an error, not a crash", "[journal]") {
  temp_dir dir;
  journal j(dir.file("missing-dir/journal.log"));
  auto opened = j.open();
  REQUIRE_FALSE(opened.has_value());
  CHECK(opened.error().find("cannot open") != std::string::npos);
  CHECK_FALSE(j.is_open());
  CHECK(j.append({}).has_value());
}

TEST_CASE("journal: a second process's journal on the same file is refused", "[journal]") {
  temp_dir dir;
  const auto path = dir.file("journal.log");
  journal first(path);
  REQUIRE(first.open().has_value());
  journal second(path);
  const auto refused = second.open();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().find("cannot lock") != std::string::npos);
}
