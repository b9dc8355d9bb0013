#pragma once
// Spawns and supervises bitrouter-mcp-host, the one process per node that
// owns the stdio MCP servers (controld/mcp_host/). It runs only while the
// config has a stdio server. bitrouterd sends it the servers' specs (from
// the config file, never from anything else) over a socketpair, at start
// and after every reload, and keeps the status it reports. A host that dies
// is restarted with exponential back-off (100 ms doubling to 30 s, reset
// after 60 s up) and gets the specs again.
//
// Main thread only (the parent-death signal is tied to the forking thread),
// except Status(), which any thread may call.

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "controld/mcp_host/control_protocol.h"
#include "controld/mcp_host/frame.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

// The stdio servers of `cfg`, as the host takes them.
mcphost::DesiredSet StdioServersOf(const config::Config& cfg);

class McpHostSupervisor {
 public:
  struct Options {
    std::string binary;       // bitrouter-mcp-host
    std::string socket_path;  // <run_dir>/mcp-host.sock
    std::string log_level = "info";
    std::string log_file;
  };
  explicit McpHostSupervisor(Options options) : options_(std::move(options)) {}
  ~McpHostSupervisor();

  // The desired set: starts the host when it becomes non-empty, sends it,
  // stops the host when it becomes empty.
  void SetServers(mcphost::DesiredSet servers);
  // Each main-loop turn: reads status, flushes the channel, restarts a
  // host whose back-off elapsed.
  void Tick();
  // From the reaper; true when `pid` was the host.
  bool OnExit(pid_t pid, int status);
  // SIGTERM, wait up to `deadline` (the host stops its children), SIGKILL.
  void Stop(std::chrono::milliseconds deadline);
  pid_t pid() const { return pid_; }

  // The servers as the host last reported them (empty without a host).
  std::vector<mcphost::ServerStatus> Status() const;

 private:
  using Clock = std::chrono::steady_clock;
  void Spawn();
  void Signal(int sig);
  void CloseChannel();
  void Flush();
  void ReadStatus();

  Options options_;
  mcphost::DesiredSet servers_;
  pid_t pid_ = 0;
  int fd_ = -1;  // our end of the control channel (non-blocking)
  std::string out_;
  mcphost::LineSplitter in_{1u << 20};
  Clock::time_point started_;
  Clock::time_point restart_at_;
  bool pending_restart_ = false;
  uint32_t quick_exits_ = 0;
  bool stopping_ = false;
  mutable std::mutex mu_;
  std::vector<mcphost::ServerStatus> status_;
};

}  // namespace bitrouter::controld
