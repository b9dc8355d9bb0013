#pragma once
// Per-endpoint health: a circuit breaker (after N consecutive failures the
// endpoint is skipped for a cool-down, then one probe request decides) and
// Retry-After windows. Mutable runtime state, kept outside snapshots and
// keyed by stable target ids.
//
// The state itself lives in a node::HealthTable: the node region's table
// (UseShared) so every worker of the node sees one breaker per endpoint and
// the node sends one probe, or a private table (tests, no region). This
// object is the calling process's handle: one per worker loop, loop thread
// only. Times are CLOCK_MONOTONIC ms (uv_now()), passed in so tests are
// deterministic and every process compares the same clock.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "shared/node/health_table.h"

namespace bitrouter::routing {

struct BreakerPolicy {
  uint32_t failures = 5;
  uint64_t cooldown_ms = 30'000;
  // How long a probe may go unsettled before another worker may probe in its
  // stead (its owner hung; a worker that dies releases its probe at once).
  // 0 = the cooldown.
  uint64_t probe_lease_ms = 0;
};

class EndpointHealth {
 public:
  using Gate = node::HealthGate;

  EndpointHealth();  // a private table until UseShared
  // Switches to the node's shared table (which must outlive this object).
  void UseShared(node::TableView view);
  bool shared() const { return private_ == nullptr; }

  void set_policy(BreakerPolicy policy);
  Gate Check(const std::string& id, uint64_t now_ms);
  void OnSuccess(const std::string& id);
  void OnFailure(const std::string& id, uint64_t now_ms);
  // The endpoint answered 429/503 with Retry-After: skip it until `until_ms`.
  void OnRetryAfter(const std::string& id, uint64_t until_ms);
  // The request that held the probe slot ended without an outcome (client left).
  void ReleaseProbe(const std::string& id);
  // Milliseconds until the endpoint may be tried again (0 if now).
  uint64_t WaitMs(const std::string& id, uint64_t now_ms) const;
  // Read-only breaker state (for /metrics): takes no probe.
  node::BreakerState State(const std::string& id, uint64_t now_ms) const {
    return table_->State(node::HashId(id), now_ms, limits_);
  }
  // Drops the state of every endpoint id for which `pred` is true (its
  // definition changed in the snapshot of version `generation`). Every
  // worker calls it on applying that snapshot; the table clears each
  // endpoint once per generation, so a late worker does not wipe what
  // earlier ones recorded under the new definition. Ids are the ones this
  // process has seen with state.
  template <typename Pred>
  void Forget(uint64_t generation, Pred pred) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      if (!pred(*it)) {
        ++it;
        continue;
      }
      table_->Forget(node::HashId(*it), generation);
      it = seen_.erase(it);
    }
  }
  static const char* Describe(Gate gate);

 private:
  void NoteFull(const std::string& id);

  std::unique_ptr<node::HealthTable> private_;
  std::unique_ptr<node::HealthTable> shared_;
  node::HealthTable* table_;
  node::BreakerLimits limits_;
  pid_t self_;
  // Ids this process recorded or found state for: what Forget can name
  // (the table keeps only hashes).
  std::unordered_set<std::string> seen_;
  bool warned_full_ = false;
};

}  // namespace bitrouter::routing
