#include "actors/metrics/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

namespace cb::metrics {

namespace {

std::optional<std::uint64_t> to_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// /proc files report size 0, so read until the end.
std::string read_file(const char* path) {
  std::string out;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path, "re"), &std::fclose);
  if (!file) return out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    out.append(buffer.data(), n);
  }
  return out;
}

std::uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  const int own_fd = dirfd(dir);
  std::uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    const auto fd = to_u64(std::string_view(static_cast<const char*>(entry->d_name)));
    if (fd && *fd != static_cast<std::uint64_t>(own_fd)) ++count;
  }
  closedir(dir);
  return count;
}

}  // namespace

std::optional<proc_stat_fields> parse_proc_stat(std::string_view text) {
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // Fields from the state (field 3) on, space separated.
  std::array<std::string_view, 22> fields{};
  std::size_t count = 0;
  std::size_t pos = close + 1;
  while (count < fields.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n'))
      ++pos;
    if (pos >= text.size()) break;
    const auto end = text.find_first_of(" \n", pos);
    const auto stop = end == std::string_view::npos ? text.size() : end;
    fields[count++] = text.substr(pos, stop - pos);
    pos = stop;
  }
  if (count < fields.size()) return std::nullopt;
  // Field n of proc(5) is fields[n - 3].
  const auto utime = to_u64(fields[11]);
  const auto stime = to_u64(fields[12]);
  const auto threads = to_u64(fields[17]);
  const auto start = to_u64(fields[19]);
  const auto vsize = to_u64(fields[20]);
  const auto rss = to_u64(fields[21]);
  if (!utime || !stime || !threads || !start || !vsize || !rss) return std::nullopt;
  return proc_stat_fields{*utime, *stime, *threads, *start, *vsize, *rss};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat) {
  constexpr std::string_view key = "btime ";
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    const auto end = proc_stat.find('\n', pos);
    const auto line =
        proc_stat.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.substr(0, key.size()) == key) return to_u64(line.substr(key.size()));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

process_stats read_process_stats() {
  process_stats out;
  const auto ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page_size = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  if (const auto stat = parse_proc_stat(read_file("/proc/self/stat"))) {
    out.resident_bytes = stat->rss_pages * page_size;
    out.virtual_bytes = stat->vsize_bytes;
    out.threads = stat->num_threads;
    out.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks_per_second;
    if (const auto boot = parse_boot_time(read_file("/proc/stat"))) {
      out.start_time_unix_seconds =
          static_cast<double>(*boot) +
          static_cast<double>(stat->start_ticks_after_boot) / ticks_per_second;
    }
  }
  out.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) out.max_fds = limit.rlim_cur;
  return out;
}

}  // namespace cb::metrics
