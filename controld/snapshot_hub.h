#pragma once
// The current snapshot and the per-worker ACK ledger. Thread-safe: the main
// thread publishes, gRPC stream threads wait for newer versions and record
// ACK/NACK, the Admin service reads.
//
// Rules (go-control-plane's lessons): state-of-the-world pushes, one push in
// flight per worker, later versions coalesce to the newest, and a NACKed
// version is never pushed again to that worker.
//
// Published is not current: the newest published snapshot is the candidate
// every worker is offered; it becomes current (what Status reports, what a
// new generation must serve) only once a worker has ACKed it. A worker that
// serves nothing yet (new, or restarted) is never left on a candidate the
// others refused: it gets the current snapshot instead.

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
  uint64_t nacked_version = 0;  // newest version this worker refused (or skipped)
  std::string nack_error;       // why, for that version
  std::string last_error;
  uint32_t restarts = 0;
  bool stream_open = false;
};

class SnapshotHub {
 public:
  using SnapshotPtr = std::shared_ptr<const bitrouter::v1::Snapshot>;

  // One worker's control stream, owned by the thread serving it.
  struct Stream {
    uint32_t worker_id = 0;
    pid_t pid = 0;
    uint64_t answered = 0;         // newest version pushed and answered (or skipped)
    uint64_t serving = 0;          // version the worker serves; 0 = none yet
    std::vector<uint64_t> nacked;  // versions it refused: never pushed again
  };

  // Stamps version (previous + 1) and content hash, publishes it as the
  // candidate, wakes streams. Returns the published snapshot.
  SnapshotPtr Publish(bitrouter::v1::Snapshot snapshot);
  // The newest snapshot a worker has ACKed (null before the first ACK).
  SnapshotPtr Current() const;

  // Blocks until there is something to push on `stream` (see the class
  // comment), `timeout` passes or Shutdown() is called. Returns null on
  // timeout/shutdown. May mark the candidate as skipped for this worker.
  SnapshotPtr NextFor(Stream* stream, std::chrono::milliseconds timeout);
  void Shutdown();
  bool shut_down() const;

  // Ledger. Updates carry the worker's pid: those from a stream of a previous
  // process of the same worker id (closing late) are ignored.
  void WorkerSpawned(uint32_t worker_id, pid_t pid);
  void WorkerConnected(uint32_t worker_id, pid_t pid);
  void WorkerAcked(Stream* stream, const SnapshotPtr& snapshot);
  void WorkerNacked(Stream* stream, uint64_t rejected, const std::string& error);
  void WorkerStreamClosed(uint32_t worker_id, pid_t pid);
  void WorkerExited(uint32_t worker_id, const std::string& why, bool will_restart);
  void WorkerDraining(uint32_t worker_id);
  void RemoveWorker(uint32_t worker_id);
  std::vector<WorkerLedgerEntry> Ledger() const;
  // True once every listed worker has ACKed `version` (or NACKed it).
  bool AllAnswered(uint64_t version) const;

 private:
  SnapshotPtr ChooseLocked(Stream* stream);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  SnapshotPtr latest_;   // newest published: the candidate
  SnapshotPtr current_;  // newest ACKed by any worker
  uint64_t newest_nacked_ = 0;
  uint64_t next_version_ = 1;
  bool shutdown_ = false;
  std::map<uint32_t, WorkerLedgerEntry> ledger_;
};

// Hex SHA-256 of the snapshot's content (version and hash fields excluded).
std::string ContentHash(const bitrouter::v1::Snapshot& snapshot);

}  // namespace bitrouter::controld
