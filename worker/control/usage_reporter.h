#pragma once
// Sends the worker's usage records to bitrouterd on its own thread: takes
// batches from the UsageOutbox (up to kMaxBatch records, or whatever arrived
// within kFlushEvery) and writes each on the ReportUsage stream, waiting for
// bitrouterd's answer, which comes once the batch is committed to the store.
// A batch bitrouterd could not take (its queue full, the stream broken) is
// kept and sent again after a pause; meanwhile the outbox fills and drops.
// So a worker that dies loses at most the batch in hand plus the outbox.
//
// Thread: its own; touches the loop never (the outbox is thread-safe).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shared/usage/usage_record.h"
#include "worker/usage/outbox.h"

namespace grpc {
class ClientContext;
}

namespace bitrouter::worker {

class UsageReporter {
 public:
  static constexpr size_t kMaxBatch = 512;
  static constexpr std::chrono::milliseconds kFlushEvery{200};

  UsageReporter(std::string socket_path, UsageOutbox* outbox);
  ~UsageReporter();
  void Start();
  // Closes the outbox, sends what is left (bounded by `flush`), then ends.
  void Stop(std::chrono::milliseconds flush = std::chrono::seconds(3));

 private:
  void Run();

  std::string socket_path_;
  UsageOutbox* outbox_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> give_up_at_ms_{0};
  std::atomic<bool> done_{false};  // after Stop: when to stop retrying
  std::mutex ctx_mu_;
  grpc::ClientContext* ctx_ = nullptr;
  uint64_t seq_ = 0;
};

}  // namespace bitrouter::worker
