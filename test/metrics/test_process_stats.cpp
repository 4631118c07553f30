#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "actors/metrics/process_stats.hpp"

namespace m = cb::metrics;

TEST_CASE("process stats: a /proc/<pid>/stat line, counted from the last parenthesis",
          "[metrics]") {
  // A command name with a space and parentheses; fields as proc(5) numbers them.
  const std::string line =
      "4242 (cb (worker) 1) S 1 4242 4242 0 -1 4194560 2712 0 0 0 150 35 0 0 20 0 11 0 "
      "987654 734003200 12800 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto fields = m::parse_proc_stat(line);
  REQUIRE(fields);
  CHECK(fields->utime_ticks == 150);
  CHECK(fields->stime_ticks == 35);
  CHECK(fields->num_threads == 11);
  CHECK(fields->start_ticks_after_boot == 987654);
  CHECK(fields->vsize_bytes == 734003200);
  CHECK(fields->rss_pages == 12800);
}

TEST_CASE("process stats: malformed stat lines are refused", "[metrics]") {
  CHECK_FALSE(m::parse_proc_stat(""));
  CHECK_FALSE(m::parse_proc_stat("4242 no parenthesis S 1 2 3"));
  CHECK_FALSE(m::parse_proc_stat("4242 (cb) S 1 4242 4242 0 -1 4194560 2712 0 0 0 150"));
  CHECK_FALSE(m::parse_proc_stat(
      "4242 (cb) S 1 4242 4242 0 -1 4194560 2712 0 0 0 x 35 0 0 20 0 11 0 987654 734003200 12800"));
}

TEST_CASE("process stats: boot time from /proc/stat", "[metrics]") {
  CHECK(m::parse_boot_time("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 12\n") == 1700000000u);
  CHECK(m::parse_boot_time("btime 1700000001") == 1700000001u);
  CHECK_FALSE(m::parse_boot_time("cpu 1 2 3\n"));
  CHECK_FALSE(m::parse_boot_time("btime soon\n"));
}

TEST_CASE("process stats: this process's figures are sane", "[metrics]") {
  const auto stats = m::read_process_stats();
  CHECK(stats.resident_bytes > 0);
  CHECK(stats.virtual_bytes >= stats.resident_bytes);
  CHECK(stats.threads >= 1);
  CHECK(stats.open_fds >= 3);  // stdin, stdout, stderr
  CHECK(stats.max_fds >= stats.open_fds);
  CHECK(stats.cpu_seconds >= 0);
  const auto now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(stats.start_time_unix_seconds > 1.6e9);
  CHECK(stats.start_time_unix_seconds <= now + 1);
}
