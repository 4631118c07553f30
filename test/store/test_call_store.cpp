// The call_store actor in a real actor system, against SQLite and a private MariaDB server:
// outages, the journal, a clean stop, SIGKILL, retention and refused records.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/after.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "actors/store/call_store.hpp"
#include "actors/store/record_store.hpp"
#include "test/store/store_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cb::call_record;
using cb::call_store_actor;
using cb::store_record;
using cb::test::mariadb_database;
using cb::test::sample_call;
using cb::test::sample_records;
using cb::test::sqlite_database;

// Generous: a request waits at most one reconnection attempt (3 s) plus the work.
constexpr auto request_limit = 30s;

template <class Database>
std::shared_ptr<cb::settings> settings_for(const Database& database) {
  auto config = std::make_shared<cb::settings>();
  config->db_url = database.url();
  config->db_password = database.password();
  config->store_journal = database.dir().file("journal.log");
  return config;
}

// One actor system and a store in it, driven through a scoped actor.
struct store_process {
  explicit store_process(std::shared_ptr<const cb::settings> config)
      : store(cb::spawn_call_store(system, std::move(config))) {}
  ~store_process() { stop(); }
  store_process(const store_process&) = delete;
  store_process& operator=(const store_process&) = delete;
  store_process(store_process&&) = delete;
  store_process& operator=(store_process&&) = delete;

  void send_all(const std::vector<store_record>& records) {
    for (const auto& r : records)
      self->send(store, r);
  }

  std::uint64_t flush() {
    std::uint64_t waiting = 0;
    self->request(store, request_limit, cb::atom::flush_v)
        .receive([&](std::uint64_t n) { waiting = n; },
                 [&](caf::error& e) { FAIL("flush: " << cb::describe(e)); });
    return waiting;
  }

  cb::store_status status() {
    cb::store_status out;
    self->request(store, request_limit, cb::atom::status_v)
        .receive([&](cb::store_status& s) { out = std::move(s); },
                 [&](caf::error& e) { FAIL("status: " << cb::describe(e)); });
    return out;
  }

  cb::history_page history(const cb::history_query& query) {
    cb::history_page out;
    self->request(store, request_limit, cb::atom::history_v, query)
        .receive([&](cb::history_page& page) { out = std::move(page); },
                 [&](caf::error& e) { FAIL("history: " << cb::describe(e)); });
    return out;
  }

  // The call, or the error the store answered.
  std::variant<cb::call_history, caf::error> find(const std::string& id) {
    std::variant<cb::call_history, caf::error> out = caf::error{};
    self->request(store, request_limit, cb::atom::history_v, id)
        .receive([&](cb::call_history& h) { out = std::move(h); },
                 [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  // A clean stop; waits until the store is gone.
  void stop() {
    if (!store) return;
    self->monitor(store);
    self->send_exit(store, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(request_limit) >> [] {});
    CHECK(down);
    store = nullptr;
  }

  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  call_store_actor store;
};

std::vector<store_record> calls_from(int first, int count, std::int64_t started_unix_ms) {
  std::vector<store_record> out;
  for (int i = first; i < first + count; ++i) {
    const auto uuid = "call-" + std::to_string(i);
    out.emplace_back(sample_call(uuid, "agent_a", started_unix_ms + i));
    out.emplace_back(cb::transcript_record{uuid, "user", "turn of " + uuid, 1, 100, false, false});
  }
  return out;
}

std::uint64_t total_calls(store_process& p) {
  return p.history({}).total;
}

template <class Database>
cb::store::record_store open_directly(const Database& database) {
  auto backend = cb::store::make_backend(database.url(), database.password());
  REQUIRE(backend.has_value());
  cb::store::record_store store(std::move(*backend));
  REQUIRE_FALSE(store.open());
  return store;
}

std::string file_text(const std::string& path) {
  std::string out;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
      out.append(buffer, n);
    std::fclose(f);
  }
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("call store: records sent are stored and answered by the history queries",
                   "[call_store]", sqlite_database, mariadb_database) {
  TestType database;
  store_process p(settings_for(database));
  const auto records = sample_records("9d1c");
  p.send_all(records);
  p.send_all(calls_from(0, 300, 1'700'000'000'000));
  CHECK(p.flush() == 0);
  const auto status = p.status();
  CHECK(status.database_up);
  CHECK(status.written == records.size() + 600);
  CHECK(status.queued == 0);
  CHECK(status.journaled == 0);

  CHECK(total_calls(p) == 301);
  cb::history_query by_text;
  by_text.text = "turn of call-299";
  const auto page = p.history(by_text);
  REQUIRE(page.calls.size() == 1);
  CHECK(page.calls[0].uuid == "call-299");

  const auto found = p.find("conv-9d1c");
  REQUIRE(std::holds_alternative<cb::call_history>(found));
  const auto& h = std::get<cb::call_history>(found);
  CHECK(h.call == std::get<call_record>(records[0]));
  CHECK(h.transcript.size() == 2);
  REQUIRE(h.post_call.has_value());
  CHECK(h.post_call->summary == "The caller asked for a transfer.");

  const auto missing = p.find("no-such-call");
  REQUIRE(std::holds_alternative<caf::error>(missing));
  CHECK(cb::describe(std::get<caf::error>(missing)).find("unknown call") != std::string::npos);
}

TEMPLATE_TEST_CASE("call store: started with the database down, it journals, then stores all",
                   "[call_store]", sqlite_database, mariadb_database) {
  TestType database;
  database.make_unavailable();
  auto config = settings_for(database);
  store_process p(config);
  const auto records = calls_from(0, 120, 1'700'000'000'000);
  p.send_all(records);
  CHECK(p.flush() == records.size());
  auto status = p.status();
  CHECK_FALSE(status.database_up);
  CHECK_FALSE(status.last_error.empty());
  CHECK(status.journaled == records.size());
  CHECK(status.queued == 0);
  // Queries fail at once rather than wait for the database.
  auto unavailable = p.find("call-1");
  REQUIRE(std::holds_alternative<caf::error>(unavailable));
  CHECK(cb::describe(std::get<caf::error>(unavailable)).find("database unavailable") !=
        std::string::npos);

  database.make_available();
  CHECK(p.flush() == 0);
  status = p.status();
  CHECK(status.database_up);
  CHECK(status.journaled == 0);
  CHECK(status.written == records.size());
  CHECK(total_calls(p) == 120);
  CHECK(file_text(config->store_journal).empty());
}

TEST_CASE("call store: MariaDB stopped mid-run: the store keeps taking records, none is lost",
          "[call_store]") {
  mariadb_database database;
  auto config = settings_for(database);
  store_process p(config);
  p.send_all(calls_from(0, 50, 1'700'000'000'000));
  CHECK(p.flush() == 0);

  database.make_unavailable();
  p.send_all(calls_from(50, 50, 1'700'000'000'000));
  // Answers promptly while the database is away; the records wait in the journal.
  CHECK(p.flush() == 100);
  auto status = p.status();
  CHECK_FALSE(status.database_up);
  CHECK(status.journaled == 100);
  p.send_all(calls_from(100, 50, 1'700'000'000'000));
  status = p.status();
  CHECK(status.queued + status.journaled == 200);

  database.make_available();
  CHECK(p.flush() == 0);
  status = p.status();
  CHECK(status.database_up);
  CHECK(status.written == 300);
  CHECK(total_calls(p) == 150);
  for (const auto id : {"call-0", "call-77", "call-149"}) {
    const auto found = p.find(id);
    REQUIRE(std::holds_alternative<cb::call_history>(found));
    CHECK(std::get<cb::call_history>(found).transcript.size() == 1);
  }
}

TEMPLATE_TEST_CASE("call store: a clean stop stores everything, or journals it when down",
                   "[call_store]", sqlite_database, mariadb_database) {
  TestType database;
  auto config = settings_for(database);
  const auto first = calls_from(0, 40, 1'700'000'000'000);
  {
    store_process p(config);
    p.send_all(first);
    p.stop();  // no flush first: the stop itself must store them
  }
  CHECK(open_directly(database).history({}).value().total == 40);
  CHECK(file_text(config->store_journal).empty());

  database.make_unavailable();
  const auto second = calls_from(40, 30, 1'700'000'000'000);
  {
    store_process p(config);
    p.send_all(second);
    p.stop();
  }
  {
    cb::store::journal journal(config->store_journal);
    CHECK(journal.open().value() == second.size());
  }

  database.make_available();
  store_process restarted(config);
  CHECK(restarted.flush() == 0);
  CHECK(total_calls(restarted) == 70);
}

TEMPLATE_TEST_CASE("call store: killed with SIGKILL while the database is down, nothing is lost",
                   "[call_store]", sqlite_database, mariadb_database) {
  TestType database;
  auto config = settings_for(database);
  database.make_unavailable();
  const auto records = calls_from(0, 25, 1'700'000'000'000);

  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The "bridge": records in, flushed to the journal, then killed without any chance to clean
    // up. It never returns into Catch (which would run the parent's tests and destructors).
    ::close(ready[0]);
    try {
      store_process p(config);
      p.send_all(records);
      const std::uint64_t waiting = p.flush();
      if (::write(ready[1], &waiting, sizeof waiting) != sizeof waiting) ::_exit(1);
      for (;;)
        ::pause();
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  REQUIRE(::poll(&pfd, 1, 30000) == 1);
  std::uint64_t waiting = 0;
  REQUIRE(::read(ready[0], &waiting, sizeof waiting) == sizeof waiting);
  ::close(ready[0]);
  CHECK(waiting == records.size());
  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));

  database.make_available();
  store_process next(config);
  CHECK(next.flush() == 0);
  CHECK(total_calls(next) == 25);
  CHECK(next.status().written == records.size());
}

TEMPLATE_TEST_CASE("call store: a record the database refuses is set aside, the rest stored",
                   "[call_store]", sqlite_database, mariadb_database) {
  TestType database;
  open_directly(database);  // the schema, so that the refusal can be added to it
  database.refuse_digits_x();
  store_process p(settings_for(database));
  p.send_all({sample_call("r1", "agent_a", 1000), cb::dtmf_record{"r1", "1", "caller", 10},
              cb::dtmf_record{"r1", "X", "caller", 20}, cb::dtmf_record{"r1", "2", "caller", 30}});
  CHECK(p.flush() == 0);
  const auto status = p.status();
  CHECK(status.database_up);
  CHECK(status.rejected == 1);
  CHECK(status.written == 3);
  const auto found = p.find("r1");
  REQUIRE(std::holds_alternative<cb::call_history>(found));
  CHECK(std::get<cb::call_history>(found).dtmf.size() == 2);
}

TEST_CASE("call store: retention deletes calls older than STORE_RETENTION_DAYS at start",
          "[call_store]") {
  sqlite_database database;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
  {
    auto direct = open_directly(database);
    REQUIRE_FALSE(direct.write({sample_call("ancient", "a", now_ms - 40 * day_ms),
                                sample_call("old", "a", now_ms - 31 * day_ms),
                                sample_call("recent", "a", now_ms - 29 * day_ms)}));
  }
  auto config = settings_for(database);
  config->store_retention_days = 30;
  store_process p(config);
  CHECK(p.flush() == 0);
  const auto page = p.history({});
  REQUIRE(page.calls.size() == 1);
  CHECK(page.calls[0].uuid == "recent");
}

TEST_CASE("call store: an unusable journal path leaves records in memory, not lost at once",
          "[call_store]") {
  sqlite_database database;
  database.make_unavailable();
  auto config = settings_for(database);
  config->store_journal = database.dir().file("no-such-dir/journal.log");
  store_process p(config);
  p.send_all(calls_from(0, 10, 1000));
  CHECK(p.flush() == 20);
  const auto status = p.status();
  CHECK(status.queued == 20);
  CHECK(status.dropped == 0);
  database.make_available();
  CHECK(p.flush() == 0);
  CHECK(total_calls(p) == 10);
}
