#pragma once
// The Unix socket workers reach the MCP host on (owner-only, 0600): one
// connection per worker, newline-delimited frames (frame.h). A connection
// that sends a malformed frame, or does not read what it is sent (over
// 64 MiB queued), is closed.
//
// Loop thread only. Every handle is freed in its close callback.

#include <uv.h>

#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "controld/mcp_host/frame.h"
#include "controld/mcp_host/mux.h"

namespace bitrouter::mcphost {

class SocketServer {
 public:
  struct Hooks {
    std::function<void(ConnId, Frame)> on_frame;
    std::function<void(ConnId)> on_closed;  // after its last frame
  };
  SocketServer(uv_loop_t* loop, Hooks hooks) : loop_(loop), hooks_(std::move(hooks)) {}
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  // Replaces a stale socket file at `path`.
  absl::Status Listen(const std::string& path);
  // Queues `line` on the connection (a no-op when it is gone).
  void Send(ConnId conn, std::string line);
  // Stops listening and closes every connection (on_closed for each).
  void Close();

 private:
  struct Conn;
  struct Listener;
  void Accept();
  void Drop(Conn* conn);

  uv_loop_t* loop_;
  Hooks hooks_;
  Listener* listener_ = nullptr;
  std::string path_;
  ConnId next_conn_ = 1;
  std::map<ConnId, Conn*> conns_;
};

}  // namespace bitrouter::mcphost
