#pragma once
// Per-key limits shared by every process of a node: the request rate (RPM)
// and token rate (TPM) of each virtual key, and its budget reservations, so
// a limit is one limit for the node however many workers serve the key (a
// per-worker counter would let N workers admit N times the limit).
//
// Slots are indexed by the key's slot number, which bitrouterd assigns when
// a key first appears and never reuses while it runs (the snapshot carries
// it). A fresh slot is zero: no rate used, nothing reserved, no budget limit
// set (so nothing is admitted against a budget until bitrouterd set one).
//
// Rates are GCRA (the generic cell rate algorithm): one atomic theoretical
// arrival time per rate, advanced by CAS, so admission is exact across
// processes without a lock: `rpm` requests pass in any burst, then one more
// every 60/rpm seconds. Budgets: a request reserves its worst-case cost with
// a CAS that keeps reserved + settled <= limit; settling moves it from
// reserved to settled. bitrouterd reads both and sets the limit (the node's
// lease of the budget; controld/keys/budget_sync.h).
//
// Times are CLOCK_MONOTONIC microseconds (one clock for every process on the
// machine). Safe from any thread of any process mapping the table; never
// blocks, never allocates.

#include <atomic>
#include <cstdint>
#include <memory>

#include "shared/node/node_shm.h"

namespace bitrouter::node {

struct alignas(64) KeySlot {
  std::atomic<uint64_t> rpm_tat_us;  // GCRA theoretical arrival time of requests
  std::atomic<uint64_t> tpm_tat_us;  // ... of tokens
  std::atomic<int64_t> reserved;     // open reservations, micro-USD
  std::atomic<int64_t> settled;      // spend settled on this node since it started, micro-USD
  std::atomic<int64_t> limit;        // reserved + settled may reach this (set by bitrouterd)
  std::atomic<uint64_t> limit_set;   // 0 until bitrouterd set `limit`
  std::atomic<uint64_t> admitted;    // requests admitted against the budget (diagnostics)
  std::atomic<uint64_t> refused;     // ... refused for the budget
};
static_assert(sizeof(KeySlot) == 64);

enum class BudgetVerdict { kAdmitted, kExhausted, kNotReady };

class KeyTable {
 public:
  // A view of the shared table in a node region (which must outlive it).
  explicit KeyTable(TableView view)
      : slots_(static_cast<KeySlot*>(view.base)), capacity_(view.capacity) {}
  // A process-local table (tests; a worker started without a node region).
  static std::unique_ptr<KeyTable> Private(uint64_t capacity);

  bool valid() const { return slots_ != nullptr && capacity_ > 0; }
  uint64_t capacity() const { return capacity_; }
  // Null for a slot number outside the table.
  KeySlot* slot(uint64_t index) const { return index < capacity_ ? &slots_[index] : nullptr; }

  // One request against `per_minute` requests: 0 = admitted (counted), else
  // microseconds until one would be.
  static uint64_t AdmitRequest(KeySlot& s, uint64_t per_minute, uint64_t now_us);
  // Tokens: admitted (0) while the minute's tokens are not used up; nothing
  // is counted until ChargeTokens (the tokens are known only at the end).
  static uint64_t CheckTokens(const KeySlot& s, uint64_t per_minute, uint64_t now_us);
  static void ChargeTokens(KeySlot& s, uint64_t per_minute, uint64_t tokens, uint64_t now_us);

  // Reserves `worst` micro-USD if reserved + settled + worst <= limit.
  static BudgetVerdict Reserve(KeySlot& s, int64_t worst);
  // The request ended: its reservation is released and `actual` is settled.
  static void Settle(KeySlot& s, int64_t reserved, int64_t actual);
  // bitrouterd: the node may have reserved + settled up to `limit`.
  static void SetLimit(KeySlot& s, int64_t limit);

 private:
  KeyTable(std::unique_ptr<KeySlot[]> owned, uint64_t capacity)
      : owned_(std::move(owned)), slots_(owned_.get()), capacity_(capacity) {}

  std::unique_ptr<KeySlot[]> owned_;
  KeySlot* slots_ = nullptr;
  uint64_t capacity_ = 0;
};

// CLOCK_MONOTONIC in microseconds.
uint64_t MonotonicMicros();

}  // namespace bitrouter::node
