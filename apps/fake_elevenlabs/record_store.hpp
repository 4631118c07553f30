// The conversation records, shared between the lws service thread (which writes them) and test
// threads (which read snapshots). One mutex guards them all; the service thread holds it only for
// the few counter updates of one message.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "apps/fake_elevenlabs/conversation_record.hpp"

namespace cb::fake_elevenlabs {

class record_store {
 public:
  // Adds a record; the index stays valid for the store's lifetime.
  std::size_t add(conversation_record record);

  // Runs f(record) under the lock.
  template <class F>
  void update(std::size_t index, F&& f) {
    const std::lock_guard<std::mutex> lock(mutex_);
    f(records_[index]);
  }

  [[nodiscard]] std::vector<conversation_record> snapshot() const;

  // Polls predicate(snapshot) every few milliseconds until it holds or the timeout passes.
  [[nodiscard]] bool wait_for(
      const std::function<bool(const std::vector<conversation_record>&)>& predicate,
      std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  std::deque<conversation_record> records_;  // a deque keeps references stable as it grows
};

}  // namespace cb::fake_elevenlabs
