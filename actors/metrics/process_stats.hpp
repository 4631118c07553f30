// The process's own figures, read from /proc when a snapshot is taken (a scrape reads five small
// files; nothing is sampled in between).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cb::metrics {

struct process_stats {
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t threads = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;  // RLIMIT_NOFILE soft limit
  double cpu_seconds = 0;     // user + system
  double start_time_unix_seconds = 0;
};

// The fields of /proc/<pid>/stat that process_stats takes, in their kernel units.
struct proc_stat_fields {
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  std::uint64_t num_threads = 0;
  std::uint64_t start_ticks_after_boot = 0;
  std::uint64_t vsize_bytes = 0;
  std::uint64_t rss_pages = 0;
};

// Parses one /proc/<pid>/stat line; nullopt if it is not one. The command name in parentheses may
// hold spaces and parentheses itself, so fields are counted from the last ')'.
[[nodiscard]] std::optional<proc_stat_fields> parse_proc_stat(std::string_view text);

// The "btime" line of /proc/stat: boot time in Unix seconds.
[[nodiscard]] std::optional<std::uint64_t> parse_boot_time(std::string_view proc_stat);

// Reads this process's figures; a file that cannot be read leaves its fields 0.
[[nodiscard]] process_stats read_process_stats();

}  // namespace cb::metrics
