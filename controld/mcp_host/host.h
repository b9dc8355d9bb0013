#pragma once
// The MCP host: the set of stdio servers (one child each) and the socket
// workers reach them on. Apply() takes the whole desired set and restarts
// only what changed: a removed server is stopped, a changed one stopped and
// started anew, a new one started, the rest untouched.
//
// Loop thread only.

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controld/mcp_host/child.h"
#include "controld/mcp_host/control_protocol.h"
#include "controld/mcp_host/socket_server.h"

namespace bitrouter::mcphost {

class Host {
 public:
  // `on_status` runs whenever a server's status changes.
  Host(uv_loop_t* loop, std::string self_exe,
       std::function<void(const std::vector<ServerStatus>&)> on_status);
  ~Host();

  absl::Status Listen(const std::string& socket_path);
  void Apply(DesiredSet desired);
  // Closes the socket and stops every child; `done` runs once all exited.
  void Shutdown(std::function<void()> done);
  std::vector<ServerStatus> Status() const;

 private:
  void OnFrame(ConnId conn, Frame frame);
  void StatusChanged();
  void Retire(std::unique_ptr<StdioChild> child);
  void MaybeDone();

  uv_loop_t* loop_;
  std::string self_exe_;
  std::function<void(const std::vector<ServerStatus>&)> on_status_;
  SocketServer server_;
  std::map<std::string, std::unique_ptr<StdioChild>> children_;
  std::map<StdioChild*, std::unique_ptr<StdioChild>> retiring_;
  std::vector<ServerStatus> last_status_;
  bool shutting_down_ = false;
  std::function<void()> done_;
};

}  // namespace bitrouter::mcphost
