#pragma once
// Spawns and supervises the worker processes (main thread only: the parent
// death signal is tied to the thread that forks). A worker that dies is
// replaced; crash loops back off exponentially, and every exit is logged.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "controld/snapshot_hub.h"

namespace bitrouter::controld {

class Supervisor {
 public:
  struct Options {
    std::string worker_binary;
    std::string control_socket;
    int listen_fd = -1;
    std::string log_level = "info";
    std::string log_file;  // passed to workers so they can reopen it on SIGUSR1
  };
  Supervisor(SnapshotHub* hub, Options options);

  // Grows to `count` workers (ids 0..count-1).
  void EnsureWorkers(uint32_t count);
  // Grows or shrinks to `count`: extra workers get SIGTERM, drain, and are
  // not replaced.
  void Resize(uint32_t count);
  // Reaps exited children (after SIGCHLD) and schedules replacements.
  void Reap();
  // Starts replacements whose backoff has elapsed.
  void Tick();
  // SIGTERM to every worker, wait up to `deadline`, then SIGKILL the rest.
  void StopAll(std::chrono::milliseconds deadline);
  size_t running() const;
  void SignalAll(int sig);

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    pid_t pid = 0;
    Clock::time_point started;
    Clock::time_point restart_at;
    uint32_t consecutive_failures = 0;
    bool pending_restart = false;
    bool retiring = false;
  };
  void Spawn(uint32_t id, Slot& slot);

  SnapshotHub* hub_;
  Options options_;
  std::map<uint32_t, Slot> slots_;
  bool stopping_ = false;
};

// Describes a wait() status: "exited with status 1", "killed by signal 9 (Killed)".
std::string DescribeExit(int status);

}  // namespace bitrouter::controld
