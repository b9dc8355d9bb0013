#pragma once
// Endpoint health shared by every process of a node: circuit breaker
// (consecutive failures, open-until, the single half-open probe) and
// Retry-After windows, keyed by a 64-bit hash of the endpoint's stable id.
//
// Open addressing with linear probing over fixed slots; a slot is claimed by
// CAS of its key from 0 and never given back (Forget clears its state), so a
// lookup never races with a removal. Probing stops after kMaxProbe slots:
// the cost of a lookup is bounded and a full neighbourhood means "no slot"
// (the caller then behaves as if the endpoint were healthy).
//
// Times are CLOCK_MONOTONIC milliseconds (uv_now() on Linux qualifies): one
// clock for every process on the machine. Safe from any thread of any
// process mapping the table; never blocks.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "shared/node/node_shm.h"

namespace bitrouter::node {

struct alignas(64) HealthSlot {
  std::atomic<uint64_t> key;  // 0 = free
  std::atomic<uint64_t> consecutive_failures;
  std::atomic<uint64_t> open_until_ms;  // breaker open until (once failures reach the limit)
  // The half-open probe in flight: 0 = none, else PackProbe(lease_until_ms, pid).
  std::atomic<uint64_t> probe;
  std::atomic<uint64_t> retry_after_until_ms;
  std::atomic<uint64_t> forgotten_generation;  // see Forget
  std::atomic<uint64_t> reserved[2];
};
static_assert(sizeof(HealthSlot) == 64);

struct BreakerLimits {
  uint32_t failures = 5;
  uint64_t cooldown_ms = 30'000;
  // How long a probe may stay unsettled before another process may take
  // over (its owner hung or vanished without bitrouterd noticing).
  uint64_t probe_lease_ms = 30'000;
};

enum class HealthGate {
  kAllow,           // closed breaker: go
  kProbe,           // half-open: the caller holds the node's single probe
  kSkipOpen,        // breaker open, or another probe in flight
  kSkipRetryAfter,  // the upstream asked us to wait
};

// A breaker as reported (metrics): closed, open (cooling down), or half-open
// (cooled down: the next request probes, or a probe is in flight).
enum class BreakerState : uint32_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

// The probe word: lease expiry (42 bits of ms, 139 years of uptime) and the
// owner's pid (22 bits: Linux's PID_MAX_LIMIT is 2^22).
inline constexpr int kPidBits = 22;
inline constexpr uint64_t PackProbe(uint64_t lease_until_ms, pid_t pid) {
  return (lease_until_ms << kPidBits) | (static_cast<uint64_t>(pid) & ((1u << kPidBits) - 1));
}
inline constexpr uint64_t ProbeLeaseUntil(uint64_t word) { return word >> kPidBits; }
inline constexpr pid_t ProbeOwner(uint64_t word) {
  return static_cast<pid_t>(word & ((1u << kPidBits) - 1));
}

// Stable across processes and runs (absl::Hash is seeded per process).
// Never 0 (0 marks a free slot).
uint64_t HashId(std::string_view id);

class HealthTable {
 public:
  static constexpr uint32_t kMaxProbe = 64;

  // A view of the shared table in a node region (which must outlive it).
  explicit HealthTable(TableView view)
      : slots_(static_cast<HealthSlot*>(view.base)), capacity_(view.capacity) {}
  // A process-local table (tests; a worker started without a node region).
  static std::unique_ptr<HealthTable> Private(uint64_t capacity);

  bool valid() const { return slots_ != nullptr && capacity_ > 0; }
  uint64_t capacity() const { return capacity_; }

  // `self` is the calling process's pid: it owns a probe it takes.
  HealthGate Check(uint64_t key, uint64_t now_ms, const BreakerLimits& limits, pid_t self);
  // Any success closes the breaker for every process at once.
  void OnSuccess(uint64_t key);
  // False if no slot could be had (table full around this key).
  bool OnFailure(uint64_t key, uint64_t now_ms, const BreakerLimits& limits, pid_t self);
  bool OnRetryAfter(uint64_t key, uint64_t until_ms);
  // Gives back the probe if `self` holds it (the call ended without a verdict).
  void ReleaseProbe(uint64_t key, pid_t self);
  uint64_t WaitMs(uint64_t key, uint64_t now_ms, const BreakerLimits& limits) const;
  // Read-only (takes no probe): what the breaker of `key` is at `now_ms`.
  BreakerState State(uint64_t key, uint64_t now_ms, const BreakerLimits& limits) const;
  // Clears the state of `key` once per `generation` (the snapshot version
  // that changed its provider): the first process applying the snapshot
  // clears it; later ones see the generation and keep what was recorded since.
  void Forget(uint64_t key, uint64_t generation);
  // Releases every probe held by `pid` (a worker that died).
  void ReleaseAllOf(pid_t pid);
  // Slots in use (diagnostics, tests).
  uint64_t CountUsed() const;

 private:
  HealthTable(std::unique_ptr<HealthSlot[]> owned, uint64_t capacity)
      : owned_(std::move(owned)), slots_(owned_.get()), capacity_(capacity) {}
  HealthSlot* Find(uint64_t key) const;
  HealthSlot* FindOrClaim(uint64_t key);

  std::unique_ptr<HealthSlot[]> owned_;
  HealthSlot* slots_ = nullptr;
  uint64_t capacity_ = 0;
};

}  // namespace bitrouter::node
