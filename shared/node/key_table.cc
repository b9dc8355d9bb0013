#include "shared/node/key_table.h"

#include <time.h>

#include <algorithm>

namespace bitrouter::node {
namespace {

constexpr uint64_t kMinuteUs = 60'000'000;

// GCRA over one minute: each unit advances the arrival time by the emission
// interval; a unit is admitted while the arrival time is at most one minute
// (less one interval) ahead of now. Returns 0 or the wait in microseconds.
uint64_t Gcra(std::atomic<uint64_t>& tat, uint64_t per_minute, uint64_t units, uint64_t now_us,
              bool charge) {
  if (per_minute == 0) return 0;
  const uint64_t interval = std::max<uint64_t>(1, kMinuteUs / per_minute);
  const uint64_t tolerance = kMinuteUs > interval ? kMinuteUs - interval : 0;
  uint64_t current = tat.load(std::memory_order_acquire);
  while (true) {
    uint64_t base = std::max(current, now_us);
    if (!charge) return base - now_us > tolerance ? base - now_us - tolerance : 0;
    if (units == 1 && base - now_us > tolerance) return base - now_us - tolerance;
    uint64_t next = base + interval * units;
    if (tat.compare_exchange_weak(current, next, std::memory_order_acq_rel)) return 0;
  }
}

}  // namespace

std::unique_ptr<KeyTable> KeyTable::Private(uint64_t capacity) {
  auto owned = std::make_unique<KeySlot[]>(capacity);
  return std::unique_ptr<KeyTable>(new KeyTable(std::move(owned), capacity));
}

uint64_t KeyTable::AdmitRequest(KeySlot& s, uint64_t per_minute, uint64_t now_us) {
  return Gcra(s.rpm_tat_us, per_minute, 1, now_us, true);
}

uint64_t KeyTable::CheckTokens(const KeySlot& s, uint64_t per_minute, uint64_t now_us) {
  return Gcra(const_cast<std::atomic<uint64_t>&>(s.tpm_tat_us), per_minute, 0, now_us, false);
}

void KeyTable::ChargeTokens(KeySlot& s, uint64_t per_minute, uint64_t tokens, uint64_t now_us) {
  if (tokens == 0) return;
  // Tokens are charged whatever the debt: a request that ran is spent.
  Gcra(s.tpm_tat_us, per_minute, tokens, now_us, true);
}

BudgetVerdict KeyTable::Reserve(KeySlot& s, int64_t worst) {
  if (s.limit_set.load(std::memory_order_acquire) == 0) return BudgetVerdict::kNotReady;
  int64_t reserved = s.reserved.load(std::memory_order_acquire);
  while (true) {
    // Settled grows and reserved shrinks in that order (Settle), so the sum
    // read here is never below the truth: a race can only refuse, never
    // over-admit.
    int64_t settled = s.settled.load(std::memory_order_acquire);
    int64_t limit = s.limit.load(std::memory_order_acquire);
    if (reserved + settled + worst > limit) {
      s.refused.fetch_add(1, std::memory_order_relaxed);
      return BudgetVerdict::kExhausted;
    }
    if (s.reserved.compare_exchange_weak(reserved, reserved + worst, std::memory_order_acq_rel)) {
      s.admitted.fetch_add(1, std::memory_order_relaxed);
      return BudgetVerdict::kAdmitted;
    }
  }
}

void KeyTable::Settle(KeySlot& s, int64_t reserved, int64_t actual) {
  s.settled.fetch_add(actual, std::memory_order_acq_rel);
  s.reserved.fetch_sub(reserved, std::memory_order_acq_rel);
}

void KeyTable::SetLimit(KeySlot& s, int64_t limit) {
  s.limit.store(limit, std::memory_order_release);
  s.limit_set.store(1, std::memory_order_release);
}

uint64_t MonotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace bitrouter::node
