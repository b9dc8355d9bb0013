#include "controld/mcp_host_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "controld/supervisor.h"
#include "shared/common/log.h"

namespace bitrouter::controld {
namespace {

constexpr int kChildControlFd = 3;
constexpr auto kStableRun = std::chrono::seconds(60);
constexpr int64_t kFirstBackoffMs = 100;
constexpr int64_t kMaxBackoffMs = 30'000;
constexpr size_t kMaxPendingBytes = 16u << 20;

}  // namespace

mcphost::DesiredSet StdioServersOf(const config::Config& cfg) {
  mcphost::DesiredSet out;
  for (const auto& [id, s] : cfg.mcp_servers) {
    if (s.type != config::McpTransportType::kStdio) continue;
    out[id] = mcphost::ServerSpec{s.stdio.command, s.stdio.args, s.stdio.env, s.stdio.cwd};
  }
  return out;
}

McpHostSupervisor::~McpHostSupervisor() { CloseChannel(); }

void McpHostSupervisor::SetServers(mcphost::DesiredSet servers) {
  if (stopping_) return;
  servers_ = std::move(servers);
  if (servers_.empty()) {
    pending_restart_ = false;
    if (pid_ != 0) {
      LOG_INFO("no stdio MCP server is configured: stopping the MCP host pid ", pid_);
      // Its children stop with it; the exit is reaped as usual.
      Signal(SIGTERM);
    }
    return;
  }
  if (pid_ == 0) {
    if (!pending_restart_) Spawn();
    return;
  }
  if (out_.size() > kMaxPendingBytes) out_.clear();  // a stuck host gets the newest set only
  out_ += mcphost::DesiredSetLine(servers_);
  Flush();
}

void McpHostSupervisor::Spawn() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    LOG_ERROR("mcp host: socketpair: ", std::strerror(errno));
    pending_restart_ = true;
    restart_at_ = Clock::now() + std::chrono::seconds(1);
    return;
  }
  std::vector<const char*> argv = {options_.binary.c_str(),
                                   "--control-fd",
                                   "3",
                                   "--socket",
                                   options_.socket_path.c_str(),
                                   "--log-level",
                                   options_.log_level.c_str()};
  if (!options_.log_file.empty()) {
    argv.push_back("--log-file");
    argv.push_back(options_.log_file.c_str());
  }
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const int child_end = fds[1];
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec (see Supervisor::Spawn).
    signal(SIGINT, SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    if (dup2(child_end, kChildControlFd) < 0) _exit(127);
    execv(argv[0], const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  close(child_end);
  if (pid < 0) {
    LOG_ERROR("cannot fork the MCP host: ", std::strerror(errno));
    close(fds[0]);
    pending_restart_ = true;
    restart_at_ = Clock::now() + std::chrono::seconds(1);
    return;
  }
  fd_ = fds[0];
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  started_ = Clock::now();
  pending_restart_ = false;
  in_ = mcphost::LineSplitter(1u << 20);
  out_ = mcphost::DesiredSetLine(servers_);
  LOG_INFO("started the MCP host pid ", pid, " (", servers_.size(), " stdio server(s), socket ",
           options_.socket_path, ")");
  Flush();
}

void McpHostSupervisor::Signal(int sig) {
  if (pid_ != 0) kill(pid_, sig);
}

void McpHostSupervisor::CloseChannel() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  out_.clear();
}

void McpHostSupervisor::Flush() {
  while (fd_ >= 0 && !out_.empty()) {
    ssize_t n = write(fd_, out_.data(), out_.size());
    if (n > 0) {
      out_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;  // EAGAIN: next tick; an error: the host's exit is reaped soon
  }
}

void McpHostSupervisor::ReadStatus() {
  char buf[65536];
  while (fd_ >= 0) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN, or the end: the exit is reaped
    absl::Status st =
        in_.Feed(std::string_view(buf, static_cast<size_t>(n)), [this](std::string_view line) {
          auto status = mcphost::ParseStatus(line);
          if (!status.ok()) return status.status();
          std::lock_guard<std::mutex> lock(mu_);
          status_ = std::move(*status);
          return absl::OkStatus();
        });
    if (!st.ok()) {
      LOG_WARN("mcp host: unreadable status: ", st.message(), "; restarting it");
      in_ = mcphost::LineSplitter(1u << 20);
      Signal(SIGKILL);
      return;
    }
  }
}

void McpHostSupervisor::Tick() {
  ReadStatus();
  Flush();
  if (pending_restart_ && pid_ == 0 && !stopping_ && Clock::now() >= restart_at_) Spawn();
}

bool McpHostSupervisor::OnExit(pid_t pid, int status) {
  if (pid == 0 || pid != pid_) return false;
  pid_ = 0;
  ReadStatus();  // what it said last
  CloseChannel();
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.clear();
  }
  const std::string why = DescribeExit(status);
  if (stopping_ || servers_.empty()) {
    LOG_INFO("the MCP host pid ", pid, " ", why);
    return true;
  }
  if (Clock::now() - started_ >= kStableRun) quick_exits_ = 0;
  const int64_t delay =
      std::min<int64_t>(kMaxBackoffMs, kFirstBackoffMs << std::min<uint32_t>(quick_exits_, 20));
  ++quick_exits_;
  pending_restart_ = true;
  restart_at_ = Clock::now() + std::chrono::milliseconds(delay);
  LOG_WARN("the MCP host pid ", pid, " ", why, "; restarting in ", delay, " ms");
  return true;
}

std::vector<mcphost::ServerStatus> McpHostSupervisor::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void McpHostSupervisor::Stop(std::chrono::milliseconds deadline) {
  stopping_ = true;
  pending_restart_ = false;
  if (pid_ == 0) return;
  Signal(SIGTERM);
  auto until = Clock::now() + deadline;
  while (pid_ != 0) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      OnExit(r, status);
      break;
    }
    if (r < 0 && errno != EINTR) {  // reaped elsewhere
      pid_ = 0;
      break;
    }
    if (Clock::now() >= until) {
      LOG_WARN("the MCP host pid ", pid_, " did not stop in time; killing it");
      Signal(SIGKILL);
      until = Clock::now() + std::chrono::hours(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CloseChannel();
  unlink(options_.socket_path.c_str());
}

}  // namespace bitrouter::controld
