#include "apps/fake_elevenlabs/record_store.hpp"

#include <thread>
#include <utility>

namespace cb::fake_elevenlabs {

std::size_t record_store::add(conversation_record record) {
  const std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(std::move(record));
  return records_.size() - 1;
}

std::vector<conversation_record> record_store::snapshot() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return {records_.begin(), records_.end()};
}

bool record_store::wait_for(
    const std::function<bool(const std::vector<conversation_record>&)>& predicate,
    std::chrono::milliseconds timeout) const {
  constexpr auto poll_interval = std::chrono::milliseconds(5);
  const auto deadline = clock::now() + timeout;
  for (;;) {
    if (predicate(snapshot())) return true;
    if (clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace cb::fake_elevenlabs
