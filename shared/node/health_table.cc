#include "shared/node/health_table.h"

#include <algorithm>

namespace bitrouter::node {
namespace {

// Raises `a` to at least `value` (windows only ever extend).
void StoreMax(std::atomic<uint64_t>& a, uint64_t value) {
  uint64_t cur = a.load();
  while (cur < value && !a.compare_exchange_weak(cur, value)) {
  }
}

// Clears the probe word if `self` owns it; a probe another process took
// since (after our lease expired) is theirs to settle.
void ReleaseIfOwner(HealthSlot& s, pid_t self) {
  uint64_t p = s.probe.load();
  if (p != 0 && ProbeOwner(p) == ProbeOwner(PackProbe(0, self))) {
    s.probe.compare_exchange_strong(p, 0);
  }
}

}  // namespace

uint64_t HashId(std::string_view id) {
  // FNV-1a, then a SplitMix64 finaliser so nearby ids spread over the table.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

std::unique_ptr<HealthTable> HealthTable::Private(uint64_t capacity) {
  // make_unique value-initialises: every atomic starts at 0, like a new region.
  return std::unique_ptr<HealthTable>(
      new HealthTable(std::make_unique<HealthSlot[]>(capacity), capacity));
}

HealthSlot* HealthTable::Find(uint64_t key) const {
  if (!valid()) return nullptr;
  uint64_t limit = std::min<uint64_t>(kMaxProbe, capacity_);
  for (uint64_t i = 0, at = key % capacity_; i < limit; ++i, at = (at + 1) % capacity_) {
    uint64_t k = slots_[at].key.load();
    if (k == key) return &slots_[at];
    if (k == 0) return nullptr;  // claims fill a run in order: the key is not further on
  }
  return nullptr;
}

HealthSlot* HealthTable::FindOrClaim(uint64_t key) {
  if (!valid()) return nullptr;
  uint64_t limit = std::min<uint64_t>(kMaxProbe, capacity_);
  for (uint64_t i = 0, at = key % capacity_; i < limit; ++i, at = (at + 1) % capacity_) {
    uint64_t k = slots_[at].key.load();
    if (k == 0 && slots_[at].key.compare_exchange_strong(k, key)) return &slots_[at];
    // Lost the race for a free slot: `k` now holds the winner's key, maybe ours.
    if (k == key) return &slots_[at];
  }
  return nullptr;
}

HealthGate HealthTable::Check(uint64_t key, uint64_t now_ms, const BreakerLimits& limits,
                              pid_t self) {
  HealthSlot* s = Find(key);
  if (s == nullptr) return HealthGate::kAllow;
  if (s->retry_after_until_ms.load() > now_ms) return HealthGate::kSkipRetryAfter;
  if (s->consecutive_failures.load() < limits.failures) return HealthGate::kAllow;
  if (s->open_until_ms.load() > now_ms) return HealthGate::kSkipOpen;
  uint64_t p = s->probe.load();
  if (p != 0 && ProbeLeaseUntil(p) > now_ms) return HealthGate::kSkipOpen;
  // Half-open: whoever swaps the probe word from what it read wins; every
  // other process (and request) of the node keeps skipping.
  if (!s->probe.compare_exchange_strong(p, PackProbe(now_ms + limits.probe_lease_ms, self))) {
    return HealthGate::kSkipOpen;
  }
  // A probe that failed just before our swap reopened the breaker before it
  // let go of the word (OnFailure's order), so seeing the word free means we
  // now also see the new window: give the slot back and keep skipping.
  if (s->open_until_ms.load() > now_ms) {
    ReleaseIfOwner(*s, self);
    return HealthGate::kSkipOpen;
  }
  return HealthGate::kProbe;
}

void HealthTable::OnSuccess(uint64_t key) {
  HealthSlot* s = Find(key);
  if (s == nullptr) return;
  s->consecutive_failures.store(0);
  s->open_until_ms.store(0);
  s->probe.store(0);
}

bool HealthTable::OnFailure(uint64_t key, uint64_t now_ms, const BreakerLimits& limits,
                            pid_t self) {
  HealthSlot* s = FindOrClaim(key);
  if (s == nullptr) return false;
  // Opens (or reopens, for a failed probe) before the probe word is let go;
  // Check relies on this order.
  if (s->consecutive_failures.fetch_add(1) + 1 >= limits.failures) {
    StoreMax(s->open_until_ms, now_ms + limits.cooldown_ms);
  }
  ReleaseIfOwner(*s, self);
  return true;
}

bool HealthTable::OnRetryAfter(uint64_t key, uint64_t until_ms) {
  HealthSlot* s = FindOrClaim(key);
  if (s == nullptr) return false;
  StoreMax(s->retry_after_until_ms, until_ms);
  return true;
}

void HealthTable::ReleaseProbe(uint64_t key, pid_t self) {
  if (HealthSlot* s = Find(key); s != nullptr) ReleaseIfOwner(*s, self);
}

uint64_t HealthTable::WaitMs(uint64_t key, uint64_t now_ms, const BreakerLimits& limits) const {
  const HealthSlot* s = Find(key);
  if (s == nullptr) return 0;
  uint64_t until = s->retry_after_until_ms.load();
  if (s->consecutive_failures.load() >= limits.failures) {
    until = std::max(until, s->open_until_ms.load());
  }
  return until > now_ms ? until - now_ms : 0;
}

BreakerState HealthTable::State(uint64_t key, uint64_t now_ms, const BreakerLimits& limits) const {
  const HealthSlot* s = Find(key);
  if (s == nullptr || s->consecutive_failures.load() < limits.failures) {
    return BreakerState::kClosed;
  }
  return s->open_until_ms.load() > now_ms ? BreakerState::kOpen : BreakerState::kHalfOpen;
}

void HealthTable::Forget(uint64_t key, uint64_t generation) {
  HealthSlot* s = Find(key);
  if (s == nullptr) return;
  uint64_t g = s->forgotten_generation.load();
  while (g < generation) {
    if (s->forgotten_generation.compare_exchange_weak(g, generation)) {
      s->consecutive_failures.store(0);
      s->open_until_ms.store(0);
      s->retry_after_until_ms.store(0);
      s->probe.store(0);
      return;
    }
  }
}

void HealthTable::ReleaseAllOf(pid_t pid) {
  for (uint64_t i = 0; i < capacity_; ++i) {
    if (slots_[i].key.load() != 0) ReleaseIfOwner(slots_[i], pid);
  }
}

uint64_t HealthTable::CountUsed() const {
  uint64_t n = 0;
  for (uint64_t i = 0; i < capacity_; ++i) n += slots_[i].key.load() != 0;
  return n;
}

}  // namespace bitrouter::node
