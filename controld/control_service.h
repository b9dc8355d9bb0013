#pragma once
// The gRPC server on <home>/run/control.sock (owner-only): WorkerControl for
// the workers' snapshot streams and Admin for bitrouterctl.

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "controld/keys/key_registry.h"
#include "controld/mcp_host/control_protocol.h"
#include "controld/reloader.h"
#include "controld/route_registry.h"
#include "controld/snapshot_hub.h"
#include "controld/usage/intake.h"
#include "shared/config/config.h"

namespace grpc {
class Server;
}

namespace bitrouter::controld {

// What Status reports besides the ledger. Set by the main thread.
struct DaemonInfo {
  pid_t pid = 0;
  std::time_t started = 0;
  std::string home;
  std::string config_path;
  std::string listen;
  std::string store;  // the database, password removed
};

class ControlServer {
 public:
  // `request_stop(force)` begins shutdown (drain, or kill when forced).
  ControlServer(SnapshotHub* hub, RouteRegistry* routes, Reloader* reloader,
                std::function<void(bool)> request_stop);
  ~ControlServer();
  absl::Status Start(const std::string& socket_path);
  void SetInfo(DaemonInfo info);
  // The usage store's thread (worker usage batches, usage queries). Set
  // before Start; outlives the server.
  void SetUsageIntake(UsageIntake* intake) { intake_ = intake; }
  // Virtual keys (Admin key RPCs). Set before Start; outlives the server.
  void SetKeyRegistry(KeyRegistry* keys) { keys_ = keys; }
  // The MCP host's status of its stdio children (McpHostSupervisor::Status);
  // the function must stay callable until Shutdown.
  void SetStdioStatus(std::function<std::vector<mcphost::ServerStatus>()> status) {
    std::lock_guard<std::mutex> lock(mu_);
    stdio_status_ = std::move(status);
  }
  DaemonInfo Info() const;
  // Ends worker streams and stops serving (bounded wait).
  void Shutdown();

 private:
  class WorkerService;
  class AdminService;
  SnapshotHub* hub_;
  RouteRegistry* routes_;
  Reloader* reloader_;
  std::function<void(bool)> request_stop_;
  UsageIntake* intake_ = nullptr;
  KeyRegistry* keys_ = nullptr;
  std::function<std::vector<mcphost::ServerStatus>()> stdio_status_;
  mutable std::mutex mu_;
  DaemonInfo info_;
  std::unique_ptr<WorkerService> worker_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace bitrouter::controld
