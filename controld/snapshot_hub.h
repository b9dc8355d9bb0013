#pragma once
// The current snapshot and the per-worker ACK ledger. Thread-safe: the main
// thread publishes, gRPC stream threads wait for newer versions and record
// ACK/NACK, the Admin service reads.
//
// Rules (go-control-plane's lessons): state-of-the-world pushes, one push in
// flight per worker, later versions coalesce to the newest, and a NACKed
// version is never pushed again to that worker.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bitrouter/v1/control.pb.h"

namespace bitrouter::controld {

struct WorkerLedgerEntry {
  uint32_t worker_id = 0;
  pid_t pid = 0;
  std::string state = "starting";  // starting | connected | ready | draining | exited | restarting
  uint64_t acked_version = 0;
  uint64_t nacked_version = 0;
  std::string last_error;
  uint32_t restarts = 0;
  bool stream_open = false;
};

class SnapshotHub {
 public:
  using SnapshotPtr = std::shared_ptr<const bitrouter::v1::Snapshot>;

  // Stamps version (previous + 1) and content hash, publishes, wakes streams.
  // Returns the published snapshot.
  SnapshotPtr Publish(bitrouter::v1::Snapshot snapshot);
  SnapshotPtr Current() const;

  // Blocks until a snapshot newer than `have` exists, `timeout` passes or
  // Shutdown() is called. Returns null on timeout/shutdown.
  SnapshotPtr WaitNewer(uint64_t have, std::chrono::milliseconds timeout);
  void Shutdown();
  bool shut_down() const;

  // Ledger.
  void WorkerSpawned(uint32_t worker_id, pid_t pid);
  void WorkerConnected(uint32_t worker_id, pid_t pid);
  void WorkerAcked(uint32_t worker_id, uint64_t version);
  void WorkerNacked(uint32_t worker_id, uint64_t rejected, const std::string& error);
  void WorkerStreamClosed(uint32_t worker_id);
  void WorkerExited(uint32_t worker_id, const std::string& why, bool will_restart);
  void WorkerDraining(uint32_t worker_id);
  void RemoveWorker(uint32_t worker_id);
  std::vector<WorkerLedgerEntry> Ledger() const;
  // True once every listed worker has ACKed `version` (or NACKed it).
  bool AllAnswered(uint64_t version) const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  SnapshotPtr current_;
  uint64_t next_version_ = 1;
  bool shutdown_ = false;
  std::map<uint32_t, WorkerLedgerEntry> ledger_;
};

// Hex SHA-256 of the snapshot's content (version and hash fields excluded).
std::string ContentHash(const bitrouter::v1::Snapshot& snapshot);

}  // namespace bitrouter::controld
