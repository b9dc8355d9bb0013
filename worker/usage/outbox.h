#pragma once
// The bounded queue between a worker's loop and its control thread for
// usage records: the loop Pushes one record per request and never waits;
// the control thread takes batches and sends them to bitrouterd
// (control/usage_reporter.h).
//
// Full means dropped and counted, never blocked and never grown: a stalled
// store costs records (reported in /metrics and to bitrouterd), never a
// request's latency or the worker's memory.
//
// Thread safety: Push from the loop, Take/Dropped from any thread; one mutex
// held for a move of a vector at most.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "shared/usage/usage_record.h"

namespace bitrouter::worker {

class UsageOutbox {
 public:
  explicit UsageOutbox(size_t capacity = 10'000) : capacity_(capacity) {}

  // False (and counted in dropped()) when full or closed.
  bool Push(usage::UsageRecord record);
  // Up to `max` records, oldest first, once `max` are waiting or `wait` has
  // passed (what is there then, possibly nothing), or at once when closed.
  // Batching here is what keeps the store's cost per request small: the
  // loop wakes the taker only when a whole batch is ready.
  std::vector<usage::UsageRecord> Take(size_t max, std::chrono::milliseconds wait);
  // No more pushes are accepted; Take returns what is left without waiting.
  void Close();
  uint64_t dropped() const;
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<usage::UsageRecord> queue_;
  size_t head_ = 0;  // queue_[head_..] are waiting
  uint64_t dropped_ = 0;
  size_t wake_at_ = 1;  // the taker's batch size: Push wakes it only then
  bool closed_ = false;
};

}  // namespace bitrouter::worker
