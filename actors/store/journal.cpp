#include "actors/store/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace cb::store {

namespace {

constexpr std::size_t read_block = std::size_t{64} << 10U;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k)
      c = (c & 1U) != 0 ? 0xedb88320U ^ (c >> 1U) : c >> 1U;
    table[n] = c;
  }
  return table;
}

// CRC-32 (IEEE 802.3, as zlib's crc32).
std::uint32_t crc32(std::string_view data) {
  static constexpr auto table = make_crc_table();
  std::uint32_t c = 0xffffffffU;
  for (const char ch : data)
    c = table[(c ^ static_cast<unsigned char>(ch)) & 0xffU] ^ (c >> 8U);
  return c ^ 0xffffffffU;
}

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Fields of one line, appended after the kind.
class line_writer {
 public:
  explicit line_writer(std::string_view kind) : payload_(kind) {}

  line_writer& text(std::string_view s) {
    payload_ += '\t';
    for (const char c : s) {
      switch (c) {
        case '\\':
          payload_ += "\\\\";
          break;
        case '\t':
          payload_ += "\\t";
          break;
        case '\n':
          payload_ += "\\n";
          break;
        case '\r':
          payload_ += "\\r";
          break;
        default:
          payload_ += c;
      }
    }
    return *this;
  }

  template <class Number>
  line_writer& number(Number value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    payload_ += '\t';
    payload_.append(buffer.data(), result.ptr);
    return *this;
  }

  line_writer& flag(bool b) { return text(b ? "1" : "0"); }

  std::string finish() {
    std::array<char, 8> crc{};
    const auto sum = crc32(payload_);
    static constexpr std::string_view digits = "0123456789abcdef";
    for (std::size_t i = 0; i < crc.size(); ++i)
      crc[i] = digits[(sum >> (28 - 4 * i)) & 0xfU];
    std::string line(crc.data(), crc.size());
    line += '\t';
    line += payload_;
    line += '\n';
    return line;
  }

 private:
  std::string payload_;
};

// Reads the fields of one line in order; any malformed field makes the whole line invalid.
class line_reader {
 public:
  explicit line_reader(std::vector<std::string> fields) : fields_(std::move(fields)) {}

  // Every field read, each well-formed, and no field left over.
  [[nodiscard]] bool ok() const { return ok_ && next_ == fields_.size(); }

  std::string text() {
    if (next_ >= fields_.size()) {
      ok_ = false;
      return {};
    }
    return std::move(fields_[next_++]);
  }

  template <class Number>
  Number number() {
    const auto field = text();
    Number value{};
    const char* last = field.data() + field.size();
    const auto [end, ec] = std::from_chars(field.data(), last, value);
    if (field.empty() || ec != std::errc{} || end != last) ok_ = false;
    return value;
  }

  bool flag() {
    const auto field = text();
    if (field != "0" && field != "1") ok_ = false;
    return field == "1";
  }

 private:
  std::vector<std::string> fields_;
  std::size_t next_ = 0;
  bool ok_ = true;
};

// The unescaped tab-separated fields of a payload; nullopt on a bad escape.
std::optional<std::vector<std::string>> split_fields(std::string_view payload) {
  std::vector<std::string> fields(1);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    const char c = payload[i];
    if (c == '\t') {
      fields.emplace_back();
    } else if (c == '\\') {
      if (++i == payload.size()) return std::nullopt;
      switch (payload[i]) {
        case '\\':
          fields.back() += '\\';
          break;
        case 't':
          fields.back() += '\t';
          break;
        case 'n':
          fields.back() += '\n';
          break;
        case 'r':
          fields.back() += '\r';
          break;
        default:
          return std::nullopt;
      }
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

struct encoder {
  std::string operator()(const call_record& r) const {
    return line_writer("call1")
        .text(r.uuid)
        .text(r.conversation_id)
        .text(r.agent_id)
        .text(r.channel)
        .text(r.caller_id)
        .text(r.called_number)
        .text(r.lead_id)
        .text(r.campaign)
        .text(r.dynamic_variables_json)
        .number(r.started_unix_ms)
        .number(r.answered_unix_ms)
        .number(r.ended_unix_ms)
        .text(r.end_reason)
        .text(r.end_detail)
        .text(r.transfer_target)
        .number(r.frames_in)
        .number(r.frames_out)
        .number(r.late_frames)
        .number(r.underruns)
        .number(r.first_word_ms)
        .finish();
  }
  std::string operator()(const transcript_record& r) const {
    return line_writer("turn1")
        .text(r.uuid)
        .text(r.role)
        .text(r.text)
        .number(r.event_id)
        .number(r.offset_ms)
        .flag(r.interrupted)
        .flag(r.corrected)
        .finish();
  }
  std::string operator()(const tool_call_record& r) const {
    return line_writer("tool1")
        .text(r.uuid)
        .text(r.tool_call_id)
        .text(r.name)
        .text(r.parameters_json)
        .text(r.result)
        .flag(r.is_error)
        .number(r.offset_ms)
        .finish();
  }
  std::string operator()(const dtmf_record& r) const {
    return line_writer("dtmf1")
        .text(r.uuid)
        .text(r.digits)
        .text(r.direction)
        .number(r.offset_ms)
        .finish();
  }
  std::string operator()(const post_call_record& r) const {
    line_writer w("post1");
    w.text(r.conversation_id).text(r.agent_id).text(r.kind).number(r.event_unix_s);
    w.text(r.summary).text(r.analysis_json).text(r.termination_reason);
    if (r.cost) {
      w.number(*r.cost);
    } else {
      w.text("");
    }
    return w.text(r.payload_json).finish();
  }
};

std::optional<store_record> decode_fields(const std::string& kind, line_reader& in) {
  if (kind == "call1") {
    call_record r;
    r.uuid = in.text();
    r.conversation_id = in.text();
    r.agent_id = in.text();
    r.channel = in.text();
    r.caller_id = in.text();
    r.called_number = in.text();
    r.lead_id = in.text();
    r.campaign = in.text();
    r.dynamic_variables_json = in.text();
    r.started_unix_ms = in.number<std::int64_t>();
    r.answered_unix_ms = in.number<std::int64_t>();
    r.ended_unix_ms = in.number<std::int64_t>();
    r.end_reason = in.text();
    r.end_detail = in.text();
    r.transfer_target = in.text();
    r.frames_in = in.number<std::uint64_t>();
    r.frames_out = in.number<std::uint64_t>();
    r.late_frames = in.number<std::uint64_t>();
    r.underruns = in.number<std::uint64_t>();
    r.first_word_ms = in.number<std::int64_t>();
    return store_record(std::move(r));
  }
  if (kind == "turn1") {
    transcript_record r;
    r.uuid = in.text();
    r.role = in.text();
    r.text = in.text();
    r.event_id = in.number<std::int64_t>();
    r.offset_ms = in.number<std::int64_t>();
    r.interrupted = in.flag();
    r.corrected = in.flag();
    return store_record(std::move(r));
  }
  if (kind == "tool1") {
    tool_call_record r;
    r.uuid = in.text();
    r.tool_call_id = in.text();
    r.name = in.text();
    r.parameters_json = in.text();
    r.result = in.text();
    r.is_error = in.flag();
    r.offset_ms = in.number<std::int64_t>();
    return store_record(std::move(r));
  }
  if (kind == "dtmf1") {
    dtmf_record r;
    r.uuid = in.text();
    r.digits = in.text();
    r.direction = in.text();
    r.offset_ms = in.number<std::int64_t>();
    return store_record(std::move(r));
  }
  if (kind == "post1") {
    post_call_record r;
    r.conversation_id = in.text();
    r.agent_id = in.text();
    r.kind = in.text();
    r.event_unix_s = in.number<std::int64_t>();
    r.summary = in.text();
    r.analysis_json = in.text();
    r.termination_reason = in.text();
    const auto cost = in.text();  // empty: no cost
    if (!cost.empty()) {
      double value = 0;
      const char* last = cost.data() + cost.size();
      const auto [end, ec] = std::from_chars(cost.data(), last, value);
      if (ec != std::errc{} || end != last) return std::nullopt;
      r.cost = value;
    }
    r.payload_json = in.text();
    return store_record(std::move(r));
  }
  return std::nullopt;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string encode_journal_line(const store_record& record) {
  return std::visit(encoder{}, record);
}

std::optional<store_record> decode_journal_line(std::string_view line) {
  if (line.size() < 10 || line[8] != '\t') return std::nullopt;
  std::uint32_t stored = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + 8, stored, 16);
  if (ec != std::errc{} || end != line.data() + 8) return std::nullopt;
  const auto payload = line.substr(9);
  if (crc32(payload) != stored) return std::nullopt;
  auto fields = split_fields(payload);
  if (!fields) return std::nullopt;
  std::string kind = std::move(fields->front());
  fields->erase(fields->begin());
  line_reader in(std::move(*fields));
  auto record = decode_fields(kind, in);
  if (!in.ok()) return std::nullopt;
  return record;
}

journal::journal(std::string path) : path_(std::move(path)) {}

journal::~journal() {
  if (fd_ >= 0) ::close(fd_);
}

expected<std::uint64_t, std::string> journal::open() {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) return unexpected{errno_text("cannot open " + path_)};
    // Two processes appending and truncating one journal would lose records.
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      auto error = errno_text("cannot lock " + path_ + " (another callbridge uses it?)");
      ::close(fd_);
      fd_ = -1;
      return unexpected{std::move(error)};
    }
  }
  struct stat info {};
  if (::fstat(fd_, &info) != 0) return unexpected{errno_text("cannot stat " + path_)};
  size_ = static_cast<std::uint64_t>(info.st_size);
  // Cut a torn tail back to the last complete line.
  std::uint64_t keep = size_;
  std::array<char, 4096> block{};
  while (keep > 0) {
    const std::uint64_t start = keep > block.size() ? keep - block.size() : 0;
    const auto length = static_cast<std::size_t>(keep - start);
    if (::pread(fd_, block.data(), length, static_cast<off_t>(start)) !=
        static_cast<ssize_t>(length)) {
      return unexpected{errno_text("cannot read " + path_)};
    }
    const std::string_view seen(block.data(), length);
    const auto newline = seen.rfind('\n');
    if (newline != std::string_view::npos) {
      keep = start + newline + 1;
      break;
    }
    keep = start;
  }
  if (keep != size_) {
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) {
      return unexpected{errno_text("cannot truncate " + path_)};
    }
    size_ = keep;
  }
  std::uint64_t records = 0;
  for (std::uint64_t offset = 0; offset < size_;) {
    auto part = read(offset, 4096);
    if (!part) return unexpected{part.error()};
    records += part->records.size();
    offset = part->end;
  }
  return records;
}

std::optional<std::string> journal::append(const std::deque<store_record>& records) {
  if (fd_ < 0) return std::string("journal not open");
  std::string lines;
  for (const auto& record : records)
    lines += encode_journal_line(record);
  if (!write_all(fd_, lines)) {
    auto error = errno_text("cannot write " + path_);
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
      error += "; " + errno_text("and cannot cut it back");
    }
    return error;
  }
  size_ += lines.size();
  return std::nullopt;
}

expected<journal::chunk, std::string> journal::read(std::uint64_t offset,
                                                    std::size_t max_records) const {
  if (fd_ < 0) return unexpected{std::string("journal not open")};
  chunk out;
  out.end = offset;
  std::string pending;  // the start of a line that continues in the next block
  std::uint64_t position = offset;
  std::string block(read_block, '\0');
  while (out.records.size() < max_records && position < size_) {
    const auto wanted =
        static_cast<std::size_t>(std::min<std::uint64_t>(read_block, size_ - position));
    const auto n = ::pread(fd_, block.data(), wanted, static_cast<off_t>(position));
    if (n < 0) {
      if (errno == EINTR) continue;
      return unexpected{errno_text("cannot read " + path_)};
    }
    if (n == 0) break;
    std::string_view data(block.data(), static_cast<std::size_t>(n));
    position += static_cast<std::uint64_t>(n);
    while (out.records.size() < max_records) {
      const auto newline = data.find('\n');
      if (newline == std::string_view::npos) {
        pending.append(data);
        break;
      }
      std::string_view line = data.substr(0, newline);
      if (!pending.empty()) {
        pending.append(line);
        line = pending;
      }
      out.end += line.size() + 1;
      if (auto record = decode_journal_line(line)) {
        out.records.push_back(std::move(*record));
        out.ends.push_back(out.end);
      } else {
        ++out.skipped;
      }
      pending.clear();
      data.remove_prefix(newline + 1);
    }
  }
  return out;
}

std::optional<std::string> journal::clear() {
  if (fd_ < 0) return std::string("journal not open");
  if (::ftruncate(fd_, 0) != 0) return errno_text("cannot truncate " + path_);
  size_ = 0;
  return std::nullopt;
}

std::optional<std::string> journal::sync() {
  if (fd_ < 0) return std::string("journal not open");
  if (::fdatasync(fd_) != 0) return errno_text("cannot sync " + path_);
  return std::nullopt;
}

}  // namespace cb::store
