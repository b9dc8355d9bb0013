#pragma once
// Runtime routes (`bitrouterctl route add`), virtual keys, and the snapshot
// they travel in.
// bitrouterd owns them; they shadow config routes of the same name, survive
// reload (the config changes, they stay), and are gone after a restart.
// Thread-safe: Admin RPCs call in from gRPC threads.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bitrouter/v1/control.pb.h"
#include "controld/snapshot_hub.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

class RouteRegistry {
 public:
  RouteRegistry(SnapshotHub* hub, std::string listen);

  struct Change {
    uint64_t version = 0;
    std::vector<std::string> nacks;  // "worker[N]: why", one per worker not serving it
    bool accepted = false;           // some worker ACKed it: it is the current snapshot
    size_t refused = 0;              // workers that NACKed it (not merely slow)
    // No worker ACKed it and at least one refused it (workers run the same
    // checks, so the rest would too): nothing serves it.
    bool rejected() const { return !accepted && refused > 0; }
  };
  // Installs a (new) config and publishes a snapshot with the runtime routes
  // (they survive reload).
  SnapshotHub::SnapshotPtr SetConfig(std::shared_ptr<const config::Config> config);
  // Waits (bounded) until every worker answered `version`.
  Change WaitForAnswers(uint64_t version) const;
  // After a reload whose snapshot every worker refused: puts back the config
  // and listen address it replaced, unless something installed another
  // config since. Publishes nothing: the workers still serve the old one.
  void RestoreConfig(const std::shared_ptr<const config::Config>& refused,
                     std::shared_ptr<const config::Config> previous, std::string previous_listen);
  std::string listen() const;
  std::shared_ptr<const config::Config> config() const;
  // The actual listen address carried in snapshots (after a listener change).
  void SetListen(std::string listen);
  // The MCP host's socket every snapshot names for stdio MCP servers (set
  // once, before the first config).
  void SetMcpHostSocket(std::string path);
  // The virtual keys every snapshot carries (controld/keys/key_registry.h);
  // publishes them (null before the first config, which will carry them).
  SnapshotHub::SnapshotPtr SetKeys(std::vector<bitrouter::v1::VirtualKey> keys);

  // Validates, publishes, and waits (bounded) until every worker answered.
  // A route every worker refused is taken back out (FailedPrecondition), so
  // it cannot poison the snapshots that follow.
  absl::StatusOr<Change> Add(const bitrouter::v1::Route& route);
  absl::StatusOr<Change> Remove(const std::string& name);
  std::vector<bitrouter::v1::Route> List() const;
  bitrouter::v1::TraceRouteResponse Trace(const std::string& model) const;

 private:
  SnapshotHub::SnapshotPtr PublishLocked();

  SnapshotHub* hub_;
  std::string listen_;
  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> config_;
  std::map<std::string, config::VirtualModel> runtime_;
  std::map<std::string, uint64_t> runtime_version_;  // snapshot version that set each route
  std::vector<bitrouter::v1::VirtualKey> keys_;
  std::string mcp_host_socket_;
};

}  // namespace bitrouter::controld
