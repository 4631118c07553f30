// Shared by the store's tests: a temporary directory, sample records, and the two databases the
// same tests run against (a SQLite file, a database on a private MariaDB server).
#pragma once

#include <string>
#include <vector>

#include "actors/store_records.hpp"
#include "test/store/mariadb_server.hpp"

namespace cb::test {

// A fresh directory under the system's temporary directory, removed with its content.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&&) = delete;
  temp_dir& operator=(temp_dir&&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// One record of each kind for the call `uuid` (conversation "conv-<uuid>"), with text that needs
// escaping or is not ASCII: a call, two turns, a tool call, DTMF and both post-call webhooks.
[[nodiscard]] std::vector<store_record> sample_records(const std::string& uuid);

// A call that started at started_unix_ms, by agent_id.
[[nodiscard]] call_record sample_call(const std::string& uuid, const std::string& agent_id,
                                      std::int64_t started_unix_ms);

// A SQLite database in a temporary directory. Unavailable: its directory is moved away, so the
// file cannot be opened (a connection already open would not notice).
class sqlite_database {
 public:
  sqlite_database();
  [[nodiscard]] std::string url() const { return "sqlite:" + dir_.file("db/calls.db"); }
  [[nodiscard]] std::string password() const { return {}; }
  [[nodiscard]] const temp_dir& dir() const { return dir_; }
  void make_unavailable();
  void make_available();
  // Makes the database refuse DTMF records whose digits are "X" (a constraint error).
  void refuse_digits_x();

 private:
  temp_dir dir_;
};

// A fresh database on the process's MariaDB server. Unavailable: the server is stopped.
class mariadb_database {
 public:
  mariadb_database();
  [[nodiscard]] std::string url() const { return url_; }
  [[nodiscard]] std::string password() const { return server_.password(); }
  [[nodiscard]] const temp_dir& dir() const { return dir_; }
  void make_unavailable() { server_.stop(); }
  void make_available() { server_.start(); }
  void refuse_digits_x();
  [[nodiscard]] mariadb_server& server() { return server_; }

 private:
  mariadb_server& server_;
  std::string database_;
  std::string url_;
  temp_dir dir_;
};

}  // namespace cb::test
