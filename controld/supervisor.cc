#include "controld/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"

namespace bitrouter::controld {
namespace {

constexpr int kChildListenFd = 3;
constexpr int kChildNodeShmFd = 4;  // NodeShm keeps its own fd >= 10, clear of both
constexpr auto kStableRun = std::chrono::seconds(10);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

}  // namespace

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return "stopped";
}

Supervisor::Supervisor(SnapshotHub* hub, Options options)
    : hub_(hub), options_(std::move(options)) {}

void Supervisor::Resize(uint32_t count) {
  if (stopping_) return;
  while (active_.size() < count) {
    uint32_t id = next_id_++;
    active_.push_back(id);
    Spawn(id, slots_[id]);
  }
  while (active_.size() > count) {
    uint32_t id = active_.back();
    active_.pop_back();
    LOG_INFO("retiring worker[", id, "] (server.workers is now ", count, ")");
    Retire(id);
  }
}

void Supervisor::Retire(uint32_t id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  Slot& slot = it->second;
  slot.retiring = true;
  slot.pending_restart = false;
  if (slot.pid != 0) {
    hub_->WorkerDraining(id);
    kill(slot.pid, SIGTERM);
  } else {
    hub_->RemoveWorker(id);
    slots_.erase(it);
  }
}

void Supervisor::SwitchListener(int fd) {
  if (stopping_) return;
  // A switch during a switch: the half-started generation is retired too.
  for (uint32_t id : active_) previous_generation_.push_back(id);
  size_t count = active_.size();
  active_.clear();
  options_.listen_fd = fd;
  switch_started_ = Clock::now();
  LOG_INFO("listener changed: starting ", count, " worker(s) on the new socket");
  Resize(static_cast<uint32_t>(count));
}

void Supervisor::RetirePreviousGenerationWhenReady() {
  if (previous_generation_.empty()) return;
  auto snap = hub_->Current();
  uint64_t version = snap ? snap->version() : 0;
  bool ready = true;
  for (const auto& e : hub_->Ledger()) {
    if (std::find(active_.begin(), active_.end(), e.worker_id) == active_.end()) continue;
    ready = ready && e.pid != 0 && e.acked_version >= version;
  }
  bool late = Clock::now() - switch_started_ > std::chrono::seconds(10);
  if (!ready && !late) return;
  if (late && !ready) LOG_WARN("new workers not ready after 10 s; retiring the old ones anyway");
  for (uint32_t id : previous_generation_) {
    LOG_INFO("retiring worker[", id, "] from the previous listener (draining)");
    Retire(id);
  }
  previous_generation_.clear();
}

void Supervisor::Spawn(uint32_t id, Slot& slot) {
  std::string id_text = std::to_string(id);
  std::string fd_text = std::to_string(kChildListenFd);
  std::string shm_fd_text = std::to_string(kChildNodeShmFd);
  const int shm_fd = options_.node_shm != nullptr ? options_.node_shm->fd() : -1;
  std::vector<const char*> argv = {options_.worker_binary.c_str(),
                                   "--control-socket",
                                   options_.control_socket.c_str(),
                                   "--worker-id",
                                   id_text.c_str(),
                                   "--listen-fd",
                                   fd_text.c_str(),
                                   "--log-level",
                                   options_.log_level.c_str(),
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr,
                                   nullptr};
  size_t next_arg = argv.size() - 5;
  if (!options_.log_file.empty()) {
    argv[next_arg++] = "--log-file";
    argv[next_arg++] = options_.log_file.c_str();
  }
  if (shm_fd >= 0) {
    argv[next_arg++] = "--node-shm-fd";
    argv[next_arg++] = shm_fd_text.c_str();
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    // Ctrl-C reaches the whole process group; the worker ignores SIGINT
    // (bitrouterd drains it with SIGTERM). Ignored before unblocking, so the
    // window before the worker's own setup cannot kill it either.
    // SIGTERM and SIGUSR1 stay blocked through exec (the mask is inherited):
    // one that arrives before the worker's main has installed its handlers
    // (a group SIGTERM right after a spawn) waits for them instead of
    // killing it with the default action. The worker unblocks them.
    signal(SIGINT, SIG_IGN);
    sigset_t early;
    sigemptyset(&early);
    sigaddset(&early, SIGTERM);
    sigaddset(&early, SIGUSR1);
    sigprocmask(SIG_SETMASK, &early, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    if (options_.listen_fd == kChildListenFd) {
      fcntl(kChildListenFd, F_SETFD, 0);
    } else if (dup2(options_.listen_fd, kChildListenFd) < 0) {
      _exit(127);
    }
    // dup2 leaves the copy without close-on-exec: only the worker gets it.
    if (shm_fd >= 0 && dup2(shm_fd, kChildNodeShmFd) < 0) _exit(127);
    execv(argv[0], const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  if (pid < 0) {
    LOG_ERROR("cannot fork worker[", id, "]: ", std::strerror(errno));
    slot.pending_restart = true;
    slot.restart_at = Clock::now() + std::chrono::seconds(1);
    return;
  }
  slot.pid = pid;
  slot.started = Clock::now();
  slot.pending_restart = false;
  hub_->WorkerSpawned(id, pid);
  LOG_INFO("started worker[", id, "] pid ", pid);
}

void Supervisor::Reap() {
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    // Before the pid can be reused (it is only now reaped): a probe the dead
    // worker held goes back to the node at once, not when its lease ends.
    if (options_.node_shm != nullptr) options_.node_shm->ReleaseClaimsOf(pid);
    bool worker = false;
    for (const auto& [id, slot] : slots_) worker = worker || slot.pid == pid;
    if (!worker) {
      if (options_.other_child_exited) options_.other_child_exited(pid, status);
      continue;
    }
    for (auto& [id, slot] : slots_) {
      if (slot.pid != pid) continue;
      slot.pid = 0;
      std::string why = DescribeExit(status);
      if (slot.retiring) {
        const uint32_t retired = id;  // copy: the node is erased below
        LOG_INFO("worker[", retired, "] pid ", pid, " retired: ", why);
        hub_->RemoveWorker(retired);
        slots_.erase(retired);
        break;
      }
      if (stopping_) {
        hub_->WorkerExited(id, why, false);
        LOG_INFO("worker[", id, "] pid ", pid, " ", why);
        break;
      }
      auto ran = Clock::now() - slot.started;
      slot.consecutive_failures = ran >= kStableRun ? 0 : slot.consecutive_failures + 1;
      auto delay = std::chrono::milliseconds(0);
      if (slot.consecutive_failures > 1) {
        delay = std::min<std::chrono::milliseconds>(
            kMaxBackoff, std::chrono::milliseconds(
                             100LL << std::min<uint32_t>(slot.consecutive_failures - 2, 10)));
      }
      slot.pending_restart = true;
      slot.restart_at = Clock::now() + delay;
      hub_->WorkerExited(id, why, true);
      LOG_WARN(
          "worker[", id, "] pid ", pid, " ", why, "; restarting in ", delay.count(), " ms",
          slot.consecutive_failures > 1
              ? absl::StrCat(" (crash loop: ", slot.consecutive_failures, " quick exits in a row)")
              : std::string());
      break;
    }
  }
}

void Supervisor::Tick() {
  if (stopping_) return;
  RetirePreviousGenerationWhenReady();
  auto now = Clock::now();
  for (auto& [id, slot] : slots_) {
    if (slot.pending_restart && slot.pid == 0 && now >= slot.restart_at) Spawn(id, slot);
  }
}

void Supervisor::SignalAll(int sig) {
  for (const auto& [id, slot] : slots_) {
    if (slot.pid != 0) kill(slot.pid, sig);
  }
}

size_t Supervisor::running() const {
  size_t n = 0;
  for (const auto& [id, slot] : slots_) n += slot.pid != 0;
  return n;
}

void Supervisor::StopAll(std::chrono::milliseconds deadline) {
  stopping_ = true;
  for (auto& [id, slot] : slots_) {
    slot.pending_restart = false;
    if (slot.pid != 0) {
      hub_->WorkerDraining(id);
      kill(slot.pid, SIGTERM);
    }
  }
  auto until = Clock::now() + deadline;
  while (running() > 0 && Clock::now() < until) {
    Reap();
    if (running() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& [id, slot] : slots_) {
    if (slot.pid != 0) {
      LOG_WARN("worker[", id, "] pid ", slot.pid, " did not exit in time; killing it");
      kill(slot.pid, SIGKILL);
    }
  }
  while (running() > 0) {
    Reap();
    if (running() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace bitrouter::controld
