// A private MariaDB server for the store's tests: mariadb-server's own binaries, a temporary data
// directory, 127.0.0.1 on a free high port, stopped (and its directory removed) at exit. Without
// the binaries the tests that need it fail, naming the package to install.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace cb::test {

class mariadb_server {
 public:
  // The process's server, started on first use.
  static mariadb_server& instance();

  ~mariadb_server();
  mariadb_server(const mariadb_server&) = delete;
  mariadb_server& operator=(const mariadb_server&) = delete;
  mariadb_server(mariadb_server&&) = delete;
  mariadb_server& operator=(mariadb_server&&) = delete;

  // Starts the server on its port and data directory and waits until it takes connections; a
  // no-op when it runs.
  void start();
  // Shuts it down cleanly (SIGTERM) and waits for it to exit.
  void stop();
  [[nodiscard]] bool running() const { return pid_ > 0; }

  // Creates a database that the test user may use with the grants docs/store.md asks for, and
  // answers its DB_URL (mysql://callbridge@127.0.0.1:<port>/<name>).
  std::string create_database();
  // Runs one statement as root (test setup).
  void execute_as_root(const std::string& sql);

  [[nodiscard]] const std::string& password() const { return password_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  mariadb_server();

  std::string server_binary_;
  std::string directory_;
  std::string password_ = "cb-test-secret";
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

}  // namespace cb::test
