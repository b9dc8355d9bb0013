#pragma once
// Virtual keys in bitrouterd: issuing, changing and revoking them (Admin
// RPCs), the set the workers enforce (it travels in every snapshot), and the
// share of each key's budget this node may spend (budget_sync.cc).
//
// The store is the source of truth and several nodes may share it
// (PostgreSQL): every change made here is written first, then published; a
// change made by another node is found by polling the store's key revision
// (Tick, on the store thread) and published within a second.
//
// Budgets. A worker admits a request against the node key table
// (shared/node/key_table.h) while reserved + settled + its worst case stays
// within the slot's limit. The limit is this node's lease of the budget plus
// the spend of this node the store already holds (`committed`):
//   limit = lease + committed
// so a worker's check reads "open reservations + spend not yet in the store
// + this request <= lease", and the leases of all nodes plus the stored
// spend never pass the budget (SyncLease is atomic in the database). While
// the store is unreachable the node keeps serving: the lease becomes all the
// budget left at the last sync, so known keys keep working (the bound then
// holds per node, not across nodes, until the store is back).
//
// Thread safety: every public method may be called from any thread; Tick and
// OnCommitted run on the store thread (UsageIntake).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bitrouter/v1/control.pb.h"
#include "controld/store/usage_store.h"
#include "shared/node/key_table.h"

namespace bitrouter::controld {

class UsageIntake;
class RouteRegistry;

class KeyRegistry {
 public:
  // `table` is the node key table (null: budgets cannot be enforced, and a
  // budgeted key is refused). `node_id` names this run in the lease table.
  KeyRegistry(RouteRegistry* routes, node::KeyTable* table, std::string node_id);

  // Set before the intake starts; the intake outlives the registry's use.
  void SetIntake(UsageIntake* intake) { intake_ = intake; }

  // Store thread: every 500 ms looks for key changes made by any node and
  // publishes them; every 200 ms renews the leases of budgeted keys.
  absl::Status Tick(store::UsageStore& store);
  // Store thread: rows this node just committed (spend the store now holds).
  void OnCommitted(const std::vector<store::UsageRecord>& records);
  // Gives this node's leases back (clean stop).
  void Release(store::UsageStore& store);

  // Admin RPCs (gRPC threads). Each change is in the store and in a snapshot
  // every worker ACKed (or refused) when the call returns.
  absl::StatusOr<bitrouter::v1::CreateKeyResponse> Create(const bitrouter::v1::CreateKeyRequest& r);
  absl::StatusOr<std::vector<bitrouter::v1::KeyInfo>> List();
  absl::StatusOr<bitrouter::v1::KeyInfo> Get(const std::string& id_or_name);
  absl::StatusOr<bitrouter::v1::KeyInfo> Update(const bitrouter::v1::UpdateKeyRequest& r);
  absl::StatusOr<bitrouter::v1::KeyInfo> Revoke(const std::string& id_or_name);

  // The keys a snapshot carries (active: not revoked; expiry is the
  // workers' to check, so an expired key answers 401 to the millisecond).
  std::vector<bitrouter::v1::VirtualKey> SnapshotKeys() const;
  size_t active_count() const;

 private:
  struct Budget {
    int64_t committed = 0;          // this node's spend the store holds (all periods)
    store::LeaseGrant last;         // the last grant (spent, others, lease)
    int64_t committed_at_sync = 0;  // `committed` when `last` was granted
    bool synced = false;
  };
  struct Entry {
    store::KeyRecord record;
    uint32_t slot = UINT32_MAX;
    Budget budget;
    int64_t budget_moved = -1;  // reserved + settled + committed at the last renewal
    int64_t budget_renew_ms = 0;
  };

  absl::StatusOr<bitrouter::v1::KeyInfo> Change(
      const std::string& id_or_name, const std::function<absl::Status(store::KeyRecord*)>& edit);
  // Runs `fn` on the store thread and waits.
  absl::Status OnStore(const std::function<absl::Status(store::UsageStore&)>& fn);
  // Caller holds mu_.
  Entry* FindLocked(const std::string& id_or_name);
  void ApplyLocked(const store::KeyRecord& record);
  absl::Status SyncBudgetLocked(store::UsageStore& store, Entry& entry, int64_t now_ms);
  bitrouter::v1::KeyInfo InfoLocked(const Entry& entry, int64_t now_ms) const;
  std::vector<bitrouter::v1::VirtualKey> SnapshotKeysLocked() const;
  // Publishes the keys and waits until every worker answered.
  void PublishAndWait();

  RouteRegistry* routes_;
  node::KeyTable* table_;
  std::string node_id_;
  UsageIntake* intake_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, Entry> keys_;  // by id
  int64_t known_revision_ = -1;
  uint32_t next_slot_ = 0;
  int64_t next_poll_ms_ = 0;
  int64_t next_budget_ms_ = 0;
  bool outage_ = false;  // this tick found the store unreachable (store thread)
};

// This run's name in the lease table: host, pid and 8 random hex digits.
std::string NewNodeId();

// The start of the budget period that contains `now_unix_ms` (UTC):
// total -> 0, day -> midnight, month -> the first of the month.
int64_t BudgetPeriodStart(const std::string& period, int64_t now_unix_ms);

}  // namespace bitrouter::controld
