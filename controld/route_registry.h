#pragma once
// Runtime routes (`bitrouterctl route add`) and the snapshot they travel in.
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
    std::vector<std::string> nacks;
  };
  // Installs a (new) config and publishes a snapshot with the runtime routes
  // (they survive reload).
  SnapshotHub::SnapshotPtr SetConfig(std::shared_ptr<const config::Config> config);
  // Waits (bounded) until every worker answered `version`.
  Change WaitForAnswers(uint64_t version) const;
  std::shared_ptr<const config::Config> config() const;
  // The actual listen address carried in snapshots (after a listener change).
  void SetListen(std::string listen);

  // Validates, publishes, and waits (bounded) until every worker answered.
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
};

}  // namespace bitrouter::controld
