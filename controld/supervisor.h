#pragma once
// Spawns and supervises the worker processes (main thread only: the parent
// death signal is tied to the thread that forks). A worker that dies is
// replaced; crash loops back off exponentially, and every exit is logged.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "controld/snapshot_hub.h"
#include "shared/node/node_shm.h"

namespace bitrouter::controld {

class Supervisor {
 public:
  struct Options {
    std::string worker_binary;
    std::string control_socket;
    int listen_fd = -1;
    std::string log_level = "info";
    std::string log_file;  // passed to workers so they can reopen it on SIGUSR1
    // The node region (state one per node: breakers, ...); null = none.
    // Each worker gets its fd; a reaped worker's claims in it are released.
    const node::NodeShm* node_shm = nullptr;
    // Reaping collects every child of bitrouterd: an exit that is no
    // worker's goes here (the MCP host's supervisor).
    std::function<void(pid_t, int status)> other_child_exited;
  };
  Supervisor(SnapshotHub* hub, Options options);

  // Grows or shrinks the serving set to `count` workers: new ones get fresh
  // ids; extra ones get SIGTERM, drain, and are not replaced.
  void Resize(uint32_t count);
  // A new listen socket (reload changed server.listen): a new generation of
  // workers starts on it; once it serves the current snapshot, the previous
  // generation drains and exits. `fd` is owned by the caller.
  void SwitchListener(int fd);
  // True while an old generation is still waiting to be retired.
  bool switching() const { return !previous_generation_.empty(); }
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
  void Retire(uint32_t id);
  void RetirePreviousGenerationWhenReady();

  SnapshotHub* hub_;
  Options options_;
  std::map<uint32_t, Slot> slots_;
  std::vector<uint32_t> active_;               // the serving generation, in id order
  std::vector<uint32_t> previous_generation_;  // to retire once the new one is ready
  Clock::time_point switch_started_;
  uint32_t next_id_ = 0;
  bool stopping_ = false;
};

// Describes a wait() status: "exited with status 1", "killed by signal 9 (Killed)".
std::string DescribeExit(int status);

}  // namespace bitrouter::controld
