// KeyRegistry, the store thread's side: polling for key changes made by any
// node, and renewing this node's budget leases (see key_registry.h for how
// a lease becomes the limit the workers admit against).
#include <time.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "controld/keys/key_registry.h"
#include "controld/route_registry.h"
#include "shared/common/log.h"
#include "shared/common/status_macros.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::controld {
namespace {

constexpr int64_t kPollEveryMs = 500;
constexpr int64_t kBudgetEveryMs = 200;
// A lease is renewed at least this often even when nothing moved, well
// within the live window other nodes count it in.
constexpr int64_t kLeaseRenewMs = 1'000;
constexpr int64_t kLeaseLiveWindowMs = 10'000;

bool IsOutage(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

std::string Serialized(const std::vector<bitrouter::v1::VirtualKey>& keys) {
  std::string out;
  for (const auto& k : keys) out += k.SerializeAsString();
  return out;
}

}  // namespace

int64_t BudgetPeriodStart(const std::string& period, int64_t now_unix_ms) {
  if (period == "day") return now_unix_ms - now_unix_ms % 86'400'000;
  if (period == "month") {
    time_t secs = static_cast<time_t>(now_unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  }
  return 0;
}

void KeyRegistry::ApplyLocked(const store::KeyRecord& record) {
  auto it = keys_.find(record.id);
  if (it == keys_.end()) {
    Entry e;
    e.record = record;
    if (table_ != nullptr && next_slot_ < table_->capacity()) {
      e.slot = next_slot_++;
    } else {
      LOG_ERROR("key ", record.id, ": the node key table is full (", next_slot_,
                " keys since start): its limits and budget cannot be enforced until a restart");
    }
    keys_.emplace(record.id, std::move(e));
    return;
  }
  it->second.record = record;
}

absl::Status KeyRegistry::SyncBudgetLocked(store::UsageStore& st, Entry& e, int64_t now_ms) {
  node::KeySlot* slot = table_ != nullptr ? table_->slot(e.slot) : nullptr;
  if (slot == nullptr || !e.record.budget_micro_usd) return absl::OkStatus();
  const int64_t budget = *e.record.budget_micro_usd;
  const int64_t reserved = slot->reserved.load();
  const int64_t unsettled = std::max<int64_t>(0, slot->settled.load() - e.budget.committed);
  store::LeaseRequest req;
  req.node_id = node_id_;
  req.key_id = e.record.id;
  req.budget_micro_usd = budget;
  req.period_start_unix_ms = BudgetPeriodStart(e.record.budget_period, now_ms);
  req.need_micro_usd = reserved + unsettled;
  req.now_unix_ms = now_ms;
  req.live_window_ms = kLeaseLiveWindowMs;
  auto grant = outage_ ? absl::StatusOr<store::LeaseGrant>(absl::UnavailableError("store down"))
                       : st.SyncLease(req);
  if (!grant.ok() && IsOutage(grant.status())) outage_ = true;
  if (grant.ok()) {
    e.budget.last = *grant;
    e.budget.committed_at_sync = e.budget.committed;
    e.budget.synced = true;
    node::KeyTable::SetLimit(*slot, grant->lease_micro_usd + e.budget.committed);
    return absl::OkStatus();
  }
  // The store is unreachable: keep serving. Known keys get everything the
  // last sync left of the budget (not only this node's share), so they keep
  // working; the cross-node bound is restored once the store answers.
  if (e.budget.synced) {
    const store::LeaseGrant& last = e.budget.last;
    int64_t all_left = budget - last.spent_micro_usd - last.others_micro_usd;
    node::KeyTable::SetLimit(*slot, std::max(last.lease_micro_usd, all_left) + e.budget.committed);
  }
  return grant.status();
}

absl::Status KeyRegistry::Tick(store::UsageStore& st) {
  const int64_t now = UnixMillis();
  absl::Status status;
  if (now >= next_poll_ms_) {
    next_poll_ms_ = now + kPollEveryMs;
    auto revision = st.MaxKeyRevision();
    if (!revision.ok()) {
      status = revision.status();
    } else if (*revision != known_revision_) {
      auto all = st.ListKeys();
      if (!all.ok()) {
        status = all.status();
      } else {
        std::string before, after;
        std::vector<bitrouter::v1::VirtualKey> publish;
        {
          std::lock_guard<std::mutex> lock(mu_);
          before = Serialized(SnapshotKeysLocked());
          for (const auto& r : *all) ApplyLocked(r);
          known_revision_ = *revision;
          publish = SnapshotKeysLocked();
          after = Serialized(publish);
          // A key that arrived from another node gets its lease before any
          // worker can see it.
          for (auto& [id, e] : keys_) {
            if (e.record.budget_micro_usd && !e.budget.synced && !e.record.revoked_unix_ms) {
              absl::Status s = SyncBudgetLocked(st, e, now);
              if (!s.ok() && status.ok()) status = s;
            }
          }
        }
        if (before != after) routes_->SetKeys(std::move(publish));
      }
    }
  }
  if (now >= next_budget_ms_) {
    next_budget_ms_ = now + kBudgetEveryMs;
    std::lock_guard<std::mutex> lock(mu_);
    // One unreachable store costs one timeout per tick, not one per key: the
    // other keys get their outage limits without asking it.
    outage_ = false;
    for (auto& [id, e] : keys_) {
      if (!e.record.budget_micro_usd || e.record.revoked_unix_ms) continue;
      node::KeySlot* slot = table_ != nullptr ? table_->slot(e.slot) : nullptr;
      if (slot == nullptr) continue;
      // Renew at once when anything moved (a refusal too: this node may be
      // owed a share another node has given back), else every kLeaseRenewMs.
      const int64_t moved = slot->reserved.load() + slot->settled.load() + e.budget.committed +
                            static_cast<int64_t>(slot->refused.load());
      if (e.budget.synced && moved == e.budget_moved && now < e.budget_renew_ms) continue;
      absl::Status s = SyncBudgetLocked(st, e, now);
      if (s.ok()) {
        e.budget_moved = moved;
        e.budget_renew_ms = now + kLeaseRenewMs;
      } else if (status.ok()) {
        status = s;
      }
    }
  }
  return status;
}

void KeyRegistry::OnCommitted(const std::vector<store::UsageRecord>& records) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const store::UsageRecord& r : records) {
    if (r.key_id.empty() || !r.cost_micro_usd) continue;
    auto it = keys_.find(r.key_id);
    if (it != keys_.end()) it->second.budget.committed += *r.cost_micro_usd;
  }
}

void KeyRegistry::Release(store::UsageStore& st) {
  absl::Status s = st.DropLeases(node_id_);
  if (!s.ok()) LOG_WARN("budget leases of this node not released: ", s.message());
}

}  // namespace bitrouter::controld
