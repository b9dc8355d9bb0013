#include "worker/usage/outbox.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace bitrouter::worker {

bool UsageOutbox::Push(usage::UsageRecord record) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || queue_.size() - head_ >= capacity_) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(record));
    wake = queue_.size() - head_ == wake_at_;
  }
  // Only a full batch wakes the taker (a futex call, and a context switch
  // on the loop's core): otherwise it wakes by itself when its wait ends.
  if (wake) cv_.notify_one();
  return true;
}

std::vector<usage::UsageRecord> UsageOutbox::Take(size_t max, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mu_);
  wake_at_ = std::max<size_t>(1, std::min(max, capacity_));
  cv_.wait_for(lock, wait, [&] { return closed_ || queue_.size() - head_ >= wake_at_; });
  std::vector<usage::UsageRecord> out;
  size_t n = std::min(max, queue_.size() - head_);
  out.reserve(n);
  std::move(queue_.begin() + static_cast<ptrdiff_t>(head_),
            queue_.begin() + static_cast<ptrdiff_t>(head_ + n), std::back_inserter(out));
  head_ += n;
  if (head_ == queue_.size()) {
    queue_.clear();  // keeps its capacity: no allocation on the next pushes
    head_ = 0;
  } else if (head_ > capacity_) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(head_));
    head_ = 0;
  }
  return out;
}

void UsageOutbox::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

uint64_t UsageOutbox::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

size_t UsageOutbox::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() - head_;
}

}  // namespace bitrouter::worker
