#pragma once
// One stdio MCP server: its child process (started through this binary's
// --exec trampoline, which ties it to the host with a parent-death signal),
// newline-delimited JSON-RPC on its stdin/stdout, stderr to the log. The
// host initializes each child once (initialize + notifications/initialized)
// before forwarding anything; requests that arrive meanwhile wait (bounded).
// A child that exits is restarted with exponential back-off (100 ms doubling
// to 30 s, reset once a child stayed up 60 s); its requests in flight are
// answered with an error. Stop: close stdin, 2 s, SIGTERM, 2 s, SIGKILL;
// libuv reaps the child.
//
// Loop thread only. Every libuv handle lives in a heap object freed in its
// close callback.

#include <uv.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "controld/mcp_host/control_protocol.h"
#include "controld/mcp_host/frame.h"
#include "controld/mcp_host/mux.h"
#include "controld/mcp_host/timer.h"

namespace bitrouter::mcphost {

class StdioChild {
 public:
  struct Hooks {
    std::function<void(const MuxOut::ToConn&)> deliver;  // a message for a worker connection
    std::function<void()> status_changed;
  };
  StdioChild(uv_loop_t* loop, std::string id, ServerSpec spec, std::string self_exe, Hooks hooks);
  ~StdioChild();
  StdioChild(const StdioChild&) = delete;
  StdioChild& operator=(const StdioChild&) = delete;

  void Start();
  void FromConn(ConnId conn, std::string_view message);
  void ConnClosed(ConnId conn);
  // Stops the child (see above); `stopped` runs once the child exited and
  // its handles closed (or at once, deferred, when none runs). Then, and
  // only then, the object may be deleted.
  void Stop(std::function<void()> stopped);

  const ServerSpec& spec() const { return spec_; }
  ServerStatus Status() const;

 private:
  struct Process;  // the uv_process_t and its three pipes

  void Spawn();
  void OnExit(int64_t exit_status, int term_signal);
  void OnStdoutLine(std::string_view line);
  void OnStderrLine(std::string_view line);
  void OnInitialized(std::string_view line);
  void Fail(std::string why);  // kills the child; its exit handles the rest
  void Write(std::string line);
  void Emit(MuxOut out);
  void SetState(std::string state);
  void AfterProcessClosed();

  uv_loop_t* loop_;
  std::string id_;
  ServerSpec spec_;
  std::string self_exe_;
  Hooks hooks_;
  Multiplexer mux_;
  Process* process_ = nullptr;
  pid_t pid_ = 0;
  std::string state_ = "stopped";
  std::string last_error_;
  bool failed_this_run_ = false;  // Fail() set last_error_ for the child running now
  uint32_t starts_ = 0;
  uint32_t quick_exits_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::string> waiting_;  // lines for the child until it is initialized
  size_t waiting_bytes_ = 0;
  Timer* backoff_timer_ = nullptr;
  Timer* init_timer_ = nullptr;
  Timer* stop_timer_ = nullptr;
  bool stopping_ = false;
  std::function<void()> stopped_;
  // stderr lines logged in the current second (rate limit) and dropped.
  std::chrono::steady_clock::time_point stderr_window_;
  uint32_t stderr_lines_ = 0;
  uint32_t stderr_dropped_ = 0;
};

}  // namespace bitrouter::mcphost
