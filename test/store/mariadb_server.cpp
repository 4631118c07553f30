#include "test/store/mariadb_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mysql.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cb::test {

namespace {

using namespace std::chrono_literals;
constexpr auto startup_limit = 60s;
constexpr auto shutdown_limit = 60s;
constexpr const char* test_user = "callbridge";

std::string find_binary(std::initializer_list<const char*> names) {
  std::vector<std::string> directories;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream entries(path);
    for (std::string entry; std::getline(entries, entry, ':');) {
      if (!entry.empty()) directories.push_back(entry);
    }
  }
  for (const char* d : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"})
    directories.emplace_back(d);
  for (const char* name : names) {
    for (const auto& directory : directories) {
      auto candidate = directory + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return {};
}

// A port nothing listens on now (the kernel's choice of an ephemeral one).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  REQUIRE(bound);
  return ntohs(address.sin_port);
}

// Runs args[0] with stdout and stderr appended to log_path; the child dies with the test process.
pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || input < 0 || ::dup2(input, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) {
      ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string file_tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto all = text.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

// Waits for the child to exit within the limit; answers its wait status, or -1.
int wait_for_exit(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

}  // namespace

mariadb_server& mariadb_server::instance() {
  static mariadb_server server;
  return server;
}

mariadb_server::mariadb_server() {
  server_binary_ = find_binary({"mariadbd", "mysqld"});
  const auto install_binary = find_binary({"mariadb-install-db", "mysql_install_db"});
  if (server_binary_.empty() || install_binary.empty()) {
    FAIL(
        "MariaDB server binaries (mariadbd, mariadb-install-db) not found: these tests need "
        "Debian's mariadb-server package (apt-get install mariadb-server)");
  }
  REQUIRE(mysql_library_init(0, nullptr, nullptr) == 0);
  // In memory where there is a roomy tmpfs (a server takes about 25 MB): on a busy disk the
  // server's fsyncs made each start-up take seconds.
  std::error_code no_shm;
  const auto shm = std::filesystem::space("/dev/shm", no_shm);
  const bool in_memory =
      !no_shm && shm.available >= (std::uintmax_t{256} << 20U) && ::access("/dev/shm", W_OK) == 0;
  const std::filesystem::path base =
      in_memory ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  std::string pattern = (base / "cb-mariadb-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  directory_ = pattern;
  try {
    port_ = free_port();
    // A private tmpdir: servers bootstrapping side by side would otherwise clash on temporary
    // table names in /tmp.
    std::filesystem::create_directory(directory_ + "/tmp");
    std::vector<std::string> install = {install_binary,
                                        "--no-defaults",
                                        "--auth-root-authentication-method=normal",
                                        "--skip-test-db",
                                        "--datadir=" + directory_ + "/data",
                                        "--tmpdir=" + directory_ + "/tmp",
                                        "--innodb-log-file-size=8M"};
    if (::geteuid() == 0) install.emplace_back("--user=root");
    const auto install_log = directory_ + "/install.log";
    const int status = wait_for_exit(spawn(install, install_log), startup_limit);
    if (status != 0) FAIL("mariadb-install-db failed:\n" << file_tail(install_log));

    start();
    execute_as_root("CREATE USER '" + std::string(test_user) + "'@'127.0.0.1' IDENTIFIED BY '" +
                    password_ + "'");
  } catch (...) {
    // A failed start leaves nothing behind (the destructor does not run for it).
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
    throw;
  }
}

mariadb_server::~mariadb_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (wait_for_exit(pid_, shutdown_limit) < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void mariadb_server::start() {
  if (pid_ > 0) return;
  std::vector<std::string> args = {server_binary_,
                                   "--no-defaults",
                                   "--datadir=" + directory_ + "/data",
                                   "--tmpdir=" + directory_ + "/tmp",
                                   "--socket=" + directory_ + "/mysqld.sock",
                                   "--pid-file=" + directory_ + "/mysqld.pid",
                                   "--log-error=" + directory_ + "/error.log",
                                   "--port=" + std::to_string(port_),
                                   "--bind-address=127.0.0.1",
                                   "--skip-name-resolve",
                                   "--skip-log-bin",
                                   "--performance-schema=OFF",
                                   "--innodb-buffer-pool-size=16M",
                                   "--innodb-log-file-size=8M",
                                   "--innodb-flush-log-at-trx-commit=2",
                                   "--max-connections=50"};
  if (::geteuid() == 0) args.emplace_back("--user=root");
  pid_ = spawn(args, directory_ + "/server.log");
  const auto socket_path = directory_ + "/mysqld.sock";
  const auto deadline = std::chrono::steady_clock::now() + startup_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("mariadbd exited while starting:\n" << file_tail(directory_ + "/error.log"));
    }
    MYSQL* probe = mysql_init(nullptr);
    REQUIRE(probe != nullptr);
    const bool up = mysql_real_connect(probe, "localhost", "root", "", nullptr, 0,
                                       socket_path.c_str(), 0) != nullptr;
    mysql_close(probe);
    if (up) return;
    std::this_thread::sleep_for(50ms);
  }
  FAIL("mariadbd did not accept connections in time:\n" << file_tail(directory_ + "/error.log"));
}

void mariadb_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const int status = wait_for_exit(pid_, shutdown_limit);
  if (status < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  REQUIRE(status >= 0);
}

void mariadb_server::execute_as_root(const std::string& sql) {
  REQUIRE(running());
  MYSQL* root = mysql_init(nullptr);
  REQUIRE(root != nullptr);
  const auto socket_path = directory_ + "/mysqld.sock";
  if (mysql_real_connect(root, "localhost", "root", "", nullptr, 0, socket_path.c_str(), 0) ==
      nullptr) {
    const std::string error = mysql_error(root);
    mysql_close(root);
    FAIL("cannot connect as root: " << error);
  }
  const bool failed = mysql_real_query(root, sql.data(), sql.size()) != 0;
  const std::string error = failed ? mysql_error(root) : "";
  mysql_close(root);
  if (failed) FAIL(sql << ": " << error);
}

std::string mariadb_server::create_database() {
  const auto name = "cb_test_" + std::to_string(++databases_);
  execute_as_root("CREATE DATABASE " + name);
  // Exactly what docs/store.md asks a DBA to grant.
  execute_as_root("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX, ALTER ON " + name +
                  ".* TO '" + test_user + "'@'127.0.0.1'");
  return "mysql://" + std::string(test_user) + "@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace cb::test
