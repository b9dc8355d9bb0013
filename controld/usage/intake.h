#pragma once
// Usage intake: the one thread in bitrouterd that talks to the usage store.
//
// Control-link threads (one per worker's ReportUsage stream) Submit batches
// and return at once; the store thread writes each batch in one transaction
// (several queued batches in one transaction when they have piled up), then
// runs the batch's `done` callback, which acknowledges it to the worker. So
// a worker hears "stored" only for rows that are committed: bitrouterd that
// restarts loses nothing it acknowledged.
//
// Bounded: at most Options::max_queued_records records wait; Submit refuses
// beyond that (the worker keeps the batch and retries; its own bounded queue
// drops and counts when that backs up). A write that fails is retried with a
// backoff while new batches queue behind it (a locked or full disk is
// usually transient); `done` reports the outcome either way.
//
// Queries for bitrouterctl (Admin RPCs) run on the same thread through Run,
// so no gRPC thread ever touches the store. Retention: every
// Options::prune_every the rows older than Options::retention are deleted.
//
// Thread safety: every public method may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "controld/store/usage_store.h"

namespace bitrouter::controld {

struct IntakeStats {
  uint64_t rows_written = 0;
  uint64_t batches_written = 0;  // transactions
  uint64_t write_errors = 0;     // failed transactions (retried)
  uint64_t rows_pruned = 0;
  uint64_t queued_records = 0;   // waiting now
  uint64_t refused_batches = 0;  // Submit said no (queue full)
  int64_t last_write_us = 0;
  // The store's health as the last operation on it found it (a write, or a
  // tick's key poll and budget sync): status and /metrics show an outage.
  bool store_ok = true;
  std::string store_error;          // the last failure's message
  int64_t store_down_since_ms = 0;  // Unix ms of the first failure of this outage
};

class UsageIntake {
 public:
  struct Options {
    size_t max_queued_records = 200'000;
    // 0 = keep forever.
    std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
    std::chrono::milliseconds prune_every{std::chrono::minutes(10)};
    // Called on the store thread after each transaction (metrics).
    std::function<void(bool ok, int64_t rows, int64_t latency_us)> on_write;
    // Called on the store thread after each committed transaction with its
    // rows (budget accounting: what of this node's spend the store has).
    std::function<void(const std::vector<store::UsageRecord>&)> on_committed;
    // Periodic work on the store thread (key poll, budget leases), also
    // while writes are failing; its status feeds the store's health.
    std::function<absl::Status(store::UsageStore&)> tick;
    std::chrono::milliseconds tick_every{100};
  };
  using Done = std::function<void(const absl::Status&)>;

  UsageIntake(std::unique_ptr<store::UsageStore> store, Options options);
  ~UsageIntake();  // Stop()

  void Start();
  // Writes what is queued (bounded by `drain`), then ends the thread. Batches
  // still queued after that are answered with an error.
  void Stop(std::chrono::milliseconds drain = std::chrono::seconds(5));

  // False (and `done` not called) when the queue is full or stopped.
  bool Submit(std::vector<store::UsageRecord> batch, Done done);
  // Runs `fn` on the store thread and waits for it; DeadlineExceeded when it
  // did not start within `timeout` (a long write ahead of it), Unavailable
  // after Stop. `fn` must not outlive the caller's references: it is never
  // run after Run returned.
  absl::Status Run(std::function<absl::Status(store::UsageStore&)> fn,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Prunes now (tests, and the periodic timer). Returns rows deleted.
  absl::StatusOr<int64_t> PruneNow();

  IntakeStats stats() const;
  // Records the outcome of an operation on the store (health for status).
  void NoteStore(const absl::Status& status);

 private:
  struct Pending {
    std::vector<store::UsageRecord> records;
    Done done;
  };
  struct Job;
  void Loop();
  void WriteQueued(std::unique_lock<std::mutex>& lock);
  void MaybePrune();

  std::unique_ptr<store::UsageStore> store_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::deque<std::shared_ptr<Job>> jobs_;
  size_t queued_records_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point drain_until_;
  std::chrono::steady_clock::time_point next_prune_;
  std::chrono::steady_clock::time_point next_tick_;
  std::chrono::steady_clock::time_point next_error_log_;
  IntakeStats stats_;
  std::thread thread_;
};

}  // namespace bitrouter::controld
