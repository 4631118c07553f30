#include "actors/store/call_store.hpp"

#include <caf/sec.hpp>

#include <algorithm>
#include <utility>
#include <vector>

#include "actors/log.hpp"

namespace cb {

namespace {

using store_ptr = call_store_timed_actor::stateful_pointer<call_store_state>;
using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* component = "store";
constexpr std::size_t batch_size = 200;
constexpr auto flush_interval = 100ms;
// Records kept in memory while the journal replays; beyond, they join the journal's end.
constexpr std::size_t max_queue = 10000;
constexpr std::size_t replay_chunk = 1000;
constexpr auto reconnect_min = 500ms;
constexpr auto reconnect_max = 30000ms;
constexpr auto retention_interval = std::chrono::hours(1);

const std::string& uuid_of(const store_record& record) {
  struct visitor {
    const std::string& operator()(const call_record& r) const { return r.uuid; }
    const std::string& operator()(const transcript_record& r) const { return r.uuid; }
    const std::string& operator()(const tool_call_record& r) const { return r.uuid; }
    const std::string& operator()(const dtmf_record& r) const { return r.uuid; }
    const std::string& operator()(const post_call_record& r) const { return r.conversation_id; }
  };
  return std::visit(visitor{}, record);
}

caf::error unavailable(const call_store_state& st) {
  return make_error(bridge_errc::store_unavailable, st.last_error);
}

bool journal_backlog(const call_store_state& st) {
  return st.journal_open && st.replay_offset < st.journal->size();
}

void mark_down(store_ptr self, const store::db_error& error) {
  auto& st = self->state;
  if (st.database_up) {
    log::warn(component, "", "{} database unavailable, records go to the journal: {}",
              st.backend_name, error.message);
  }
  st.database_up = false;
  st.last_error = error.message;
  st.db->close();
  st.backoff = std::clamp(st.backoff * 2, std::chrono::milliseconds(reconnect_min),
                          std::chrono::milliseconds(reconnect_max));
  st.reconnect_at = clock::now() + st.backoff;
}

// Connects (applying migrations) unless the database is up; `now` ignores the backoff.
bool ensure_up(store_ptr self, bool now) {
  auto& st = self->state;
  if (st.database_up) return true;
  if (!st.db || (!now && clock::now() < st.reconnect_at)) return false;
  if (auto error = st.db->open()) {
    if (st.last_error != error->message) {
      log::warn(component, "", "cannot reach the {} database: {}", st.backend_name, error->message);
    }
    mark_down(self, *error);
    return false;
  }
  st.database_up = true;
  st.backoff = 0ms;
  st.last_error.clear();
  log::info(component, "", "{} database connected ({} records in the journal)", st.backend_name,
            st.journaled);
  return true;
}

// Stores a batch; a record the database refuses for its content is set aside (logged) so that it
// cannot hold back the others. Answers how many records, from the front, are done (stored or
// set aside); fewer than all means the database went down.
std::size_t store_batch(store_ptr self, const std::vector<store_record>& batch) {
  auto& st = self->state;
  auto error = st.db->write(batch);
  if (!error) {
    st.written += batch.size();
    return batch.size();
  }
  if (!error->refused_record) {
    mark_down(self, *error);
    return 0;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto single = st.db->write({batch[i]});
    if (!single) {
      ++st.written;
    } else if (single->refused_record) {
      ++st.rejected;
      log::warn(component, uuid_of(batch[i]), "record refused by the database: {}",
                single->message);
    } else {
      mark_down(self, *single);
      return i;
    }
  }
  return batch.size();
}

// Appends the queue to the journal (the database is down or the queue is full).
void spill(store_ptr self) {
  auto& st = self->state;
  if (st.queue.empty()) return;
  if (!st.journal_open) {
    // Nowhere durable to put them: keep the newest max_queue records.
    while (st.queue.size() > max_queue) {
      st.queue.pop_front();
      ++st.dropped;
    }
    return;
  }
  if (auto error = st.journal->append(st.queue)) {
    log::error(component, "", "cannot journal {} records: {}", st.queue.size(), *error);
    while (st.queue.size() > max_queue) {
      st.queue.pop_front();
      ++st.dropped;
    }
    return;
  }
  st.journaled += st.queue.size();
  st.queue.clear();
}

// Stores the next part of the journal; answers false when the database went down.
bool replay_some(store_ptr self) {
  auto& st = self->state;
  auto part = st.journal->read(st.replay_offset, replay_chunk);
  if (!part) {
    log::error(component, "", "cannot read the journal: {}", part.error());
    return false;
  }
  for (std::size_t first = 0; first < part->records.size(); first += batch_size) {
    const auto last = std::min(first + batch_size, part->records.size());
    const auto from = part->records.begin();
    std::vector<store_record> batch(
        std::make_move_iterator(from + static_cast<std::ptrdiff_t>(first)),
        std::make_move_iterator(from + static_cast<std::ptrdiff_t>(last)));
    const auto done = store_batch(self, batch);
    if (done > 0) st.replay_offset = part->ends[first + done - 1];
    st.journaled -= std::min<std::uint64_t>(st.journaled, done);
    if (done < batch.size()) return false;
  }
  if (part->skipped > 0) {
    log::warn(component, "", "skipped {} damaged journal lines", part->skipped);
  }
  if (part->end == st.replay_offset) {
    // Only a line without its newline is left, which open() cut and this process never writes.
    log::error(component, "", "the journal ends in a partial line; dropping it");
    st.replay_offset = st.journal->size();
  }
  st.replay_offset = std::max(st.replay_offset, part->end);
  if (st.replay_offset >= st.journal->size()) {
    if (auto error = st.journal->clear()) {
      log::error(component, "", "cannot empty the replayed journal: {}", *error);
      return true;
    }
    st.replay_offset = 0;
    st.journaled = 0;
    log::info(component, "", "journal replayed");
  }
  return true;
}

// Stores what waits, oldest first: the journal, then the queue. Unless `everything`, stops after
// one part of a long journal so that messages are served in between. Answers false when the
// database is down.
bool drain(store_ptr self, bool everything) {
  auto& st = self->state;
  if (!st.database_up) return false;
  while (journal_backlog(st)) {
    if (!replay_some(self)) return false;
    if (!everything && journal_backlog(st)) return true;
  }
  while (!st.queue.empty()) {
    const auto n = std::min(batch_size, st.queue.size());
    const auto end = st.queue.begin() + static_cast<std::ptrdiff_t>(n);
    std::vector<store_record> batch(std::make_move_iterator(st.queue.begin()),
                                    std::make_move_iterator(end));
    st.queue.erase(st.queue.begin(), end);
    const auto done = store_batch(self, batch);
    if (done < n) {
      for (auto i = n; i > done; --i)
        st.queue.push_front(std::move(batch[i - 1]));
      return false;
    }
  }
  return true;
}

void apply_retention(store_ptr self) {
  auto& st = self->state;
  if (!st.retention_due || st.config->store_retention_days == 0 || !st.database_up) return;
  const auto cutoff =
      std::chrono::system_clock::now() - std::chrono::hours(24) * st.config->store_retention_days;
  const auto cutoff_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(cutoff.time_since_epoch()).count();
  auto deleted = st.db->delete_older_than(cutoff_ms);
  if (!deleted) {
    mark_down(self, deleted.error());
    return;
  }
  st.retention_due = false;
  if (*deleted > 0) {
    log::info(component, "", "retention: deleted {} calls older than {} days", *deleted,
              st.config->store_retention_days);
  }
}

void schedule_tick(store_ptr self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  if (st.tick_pending) return;
  st.tick_pending = true;
  if (delay == 0ms) {
    self->send(self, atom::tick_v);
  } else {
    self->delayed_send(self, delay, atom::tick_v);
  }
}

// One round of work: reconnect when due, retention, store or journal what waits; then the next
// round, while anything waits or the database is down.
void service(store_ptr self) {
  auto& st = self->state;
  if (ensure_up(self, false)) {
    apply_retention(self);
    drain(self, false);
  }
  if (!st.database_up) spill(self);
  if (st.database_up && journal_backlog(st)) {
    schedule_tick(self, 0ms);
  } else if (!st.database_up || !st.queue.empty()) {
    schedule_tick(self, flush_interval);
  }
}

// Everything stored, or journaled and synced; answers the records still waiting.
std::uint64_t flush_all(store_ptr self) {
  auto& st = self->state;
  if (ensure_up(self, true)) {
    apply_retention(self);
    drain(self, true);
  }
  if (!st.database_up) spill(self);
  if (st.journal_open) {
    if (auto error = st.journal->sync()) log::error(component, "", "{}", *error);
  }
  return st.queue.size() + st.journaled;
}

void on_record(store_ptr self, store_record record) {
  auto& st = self->state;
  st.queue.push_back(std::move(record));
  if (st.queue.size() >= batch_size && st.database_up && !journal_backlog(st)) {
    drain(self, false);
  } else if (st.queue.size() >= max_queue) {
    spill(self);
  }
  if (!st.queue.empty()) schedule_tick(self, flush_interval);
}

void open_journal(call_store_state& st) {
  if (st.config->store_journal.empty()) {
    log::warn(component, "", "no STORE_JOURNAL: records wait in memory only");
    return;
  }
  st.journal = std::make_unique<store::journal>(st.config->store_journal);
  auto records = st.journal->open();
  if (!records) {
    log::error(component, "", "journal unusable, records wait in memory only: {}", records.error());
    return;
  }
  st.journal_open = true;
  st.journaled = *records;
  if (*records > 0) {
    log::info(component, "", "{} records in the journal {} wait for the database", *records,
              st.config->store_journal);
  }
}

}  // namespace

call_store_timed_actor::behavior_type call_store(
    call_store_timed_actor::stateful_pointer<call_store_state> self,
    std::shared_ptr<const settings> config) {
  auto& st = self->state;
  st.config = std::move(config);
  auto backend = store::make_backend(st.config->db_url, st.config->db_password);
  if (backend) {
    st.backend_name = (*backend)->name();
    st.db = std::make_unique<store::record_store>(std::move(*backend));
  } else {
    st.backend_name = "none";
    st.last_error = "DB_URL: " + backend.error();
    log::error(component, "", "{}; records go to the journal", st.last_error);
  }
  open_journal(st);
  st.retention_due = st.config->store_retention_days > 0;
  if (st.retention_due) self->delayed_send(self, retention_interval, atom::expire_v);
  // Connecting and replaying block: they run in the first round, after spawn returned.
  schedule_tick(self, 0ms);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& s = self->state;
    const auto waiting = flush_all(self);
    if (s.db) s.db->close();
    // Unlocked now, not when CAF gets round to destroying the state: a successor may open it.
    s.journal.reset();
    s.journal_open = false;
    if (waiting > 0) {
      log::warn(component, "", "stopping with {} records waiting in the journal", waiting);
    }
    self->quit(msg.reason);
  });
  return {
      [self](store_record& record) { on_record(self, std::move(record)); },
      [self](atom::history, const history_query& query) -> caf::result<history_page> {
        auto& s = self->state;
        if (!ensure_up(self, false) || !drain(self, true)) return unavailable(s);
        auto page = s.db->history(query);
        if (!page) {
          mark_down(self, page.error());
          return unavailable(s);
        }
        return std::move(*page);
      },
      [self](atom::history, const std::string& id) -> caf::result<call_history> {
        auto& s = self->state;
        if (!ensure_up(self, false) || !drain(self, true)) return unavailable(s);
        auto found = s.db->find(id);
        if (!found) {
          mark_down(self, found.error());
          return unavailable(s);
        }
        if (!*found) return make_error(bridge_errc::unknown_call, "no call with id " + id);
        return std::move(**found);
      },
      [self](atom::flush) -> std::uint64_t { return flush_all(self); },
      [self](atom::status) -> store_status {
        const auto& s = self->state;
        store_status out;
        out.backend = s.backend_name;
        out.database_up = s.database_up;
        out.last_error = s.last_error;
        out.written = s.written;
        out.queued = s.queue.size();
        out.journaled = s.journaled;
        out.rejected = s.rejected;
        out.dropped = s.dropped;
        return out;
      },
      [self](atom::tick) {
        self->state.tick_pending = false;
        service(self);
      },
      [self](atom::expire) {
        self->state.retention_due = true;
        self->delayed_send(self, retention_interval, atom::expire_v);
        service(self);
      },
  };
}

call_store_actor spawn_call_store(caf::actor_system& system,
                                  std::shared_ptr<const settings> config) {
  return system.spawn<caf::detached>(call_store, std::move(config));
}

}  // namespace cb
