// The server under test runs as a child process, so that /proc shows its CPU time and memory
// alone, apart from the simulated callers and the fake agent that share the benchmark's process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cb::bench {

using env_vars = std::vector<std::pair<std::string, std::string>>;

class child_process {
 public:
  // Starts path with args and this process's environment plus env (which overrides). The child
  // gets SIGTERM if the benchmark dies. Throws std::system_error if fork fails; a failed exec
  // shows as an exit with status 127.
  child_process(const std::string& path, const std::vector<std::string>& args, const env_vars& env);
  // terminate()s.
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&&) = delete;
  child_process& operator=(child_process&&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The wait status once it has exited, without blocking.
  [[nodiscard]] std::optional<int> exit_status();
  // SIGTERM, then SIGKILL if it is still there after grace; reaps it. Idempotent.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds{5});

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// utime + stime of a process, from /proc/<pid>/stat.
[[nodiscard]] std::optional<std::chrono::nanoseconds> process_cpu_time(pid_t pid);
// VmRSS of a process in KiB, from /proc/<pid>/status.
[[nodiscard]] std::optional<std::int64_t> process_rss_kib(pid_t pid);

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
[[nodiscard]] std::uint16_t free_loopback_port();
// Whether a TCP connection to 127.0.0.1:port succeeds.
[[nodiscard]] bool accepts_connections(std::uint16_t port);

// "2 x Intel(R) Xeon(R) ..., Linux 6.1.0-..." for the report header.
[[nodiscard]] std::string machine_description();

}  // namespace cb::bench
