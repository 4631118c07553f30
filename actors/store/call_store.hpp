// CALL STORE: writes call records, transcripts, tool calls, DTMF and post-call webhooks to the
// database DB_URL names (SQLite by default, MariaDB/MySQL), and answers the history queries.
//
// It runs detached (its own thread: database and journal I/O block), never on the audio path:
// records arrive by message, wait in a queue and are committed in transactions every 100 ms or
// 200 records. When the database is unreachable they go to the journal file (STORE_JOURNAL),
// which is replayed in order once the database is back, and at the next start after a crash.
// Reconnection backs off from 0.5 s to 30 s. A clean stop (an exit message other than kill)
// stores or journals everything first. Calls older than STORE_RETENTION_DAYS are deleted at
// start and hourly.
#pragma once

#include <caf/actor_system.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "actors/actors.hpp"
#include "actors/config.hpp"
#include "actors/store/journal.hpp"
#include "actors/store/record_store.hpp"

namespace cb {

// The store's own interface: the public one and its timers.
using call_store_timed_actor =
    call_store_actor::extend<caf::reacts_to<atom::tick>, caf::reacts_to<atom::expire>>;

struct call_store_state {
  call_store_state() = default;

  std::shared_ptr<const settings> config;
  std::unique_ptr<store::record_store> db;  // nullptr when DB_URL is unusable
  std::unique_ptr<store::journal> journal;  // nullptr when STORE_JOURNAL is empty
  std::deque<store_record> queue;           // newer than everything in the journal
  std::string backend_name;
  bool database_up = false;
  bool journal_open = false;
  std::string last_error;
  std::uint64_t written = 0;
  std::uint64_t rejected = 0;
  std::uint64_t dropped = 0;
  std::uint64_t journaled = 0;      // records in the journal not yet stored
  std::uint64_t replay_offset = 0;  // journal bytes already stored
  std::chrono::steady_clock::time_point reconnect_at{};
  std::chrono::milliseconds backoff{0};
  bool tick_pending = false;
  bool retention_due = false;

  static inline const char* name = "call_store";
};

call_store_timed_actor::behavior_type call_store(
    call_store_timed_actor::stateful_pointer<call_store_state> self,
    std::shared_ptr<const settings> config);

// Spawns the store detached, as it must run.
call_store_actor spawn_call_store(caf::actor_system& system,
                                  std::shared_ptr<const settings> config);

}  // namespace cb
