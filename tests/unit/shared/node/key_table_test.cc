// The node key table: GCRA rates exact under concurrency, budget
// reservations that never pass the limit, whatever the interleaving.
#include "shared/node/key_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace bitrouter::node {
namespace {

constexpr uint64_t kSecond = 1'000'000;

TEST(KeyTable, RpmAdmitsABurstOfExactlyTheLimitThenOneEveryInterval) {
  auto table = KeyTable::Private(4);
  KeySlot& s = *table->slot(0);
  const uint64_t t0 = 100 * kSecond;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(KeyTable::AdmitRequest(s, 10, t0), 0u) << i;
  uint64_t wait = KeyTable::AdmitRequest(s, 10, t0);
  EXPECT_EQ(wait, 6 * kSecond) << "one slot per 6 s at 10 per minute";
  EXPECT_NE(KeyTable::AdmitRequest(s, 10, t0 + wait - 1), 0u);
  EXPECT_EQ(KeyTable::AdmitRequest(s, 10, t0 + wait), 0u);
  EXPECT_NE(KeyTable::AdmitRequest(s, 10, t0 + wait), 0u);
  // After a quiet minute the whole burst is back.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(KeyTable::AdmitRequest(s, 10, t0 + 200 * kSecond), 0u);
  EXPECT_EQ(table->slot(4), nullptr);
}

TEST(KeyTable, RpmIsExactAcrossThreads) {
  auto table = KeyTable::Private(1);
  KeySlot& s = *table->slot(0);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  const uint64_t now = 50 * kSecond;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) admitted += KeyTable::AdmitRequest(s, 100, now) == 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 100);
}

TEST(KeyTable, TokensAdmitUntilTheMinuteIsSpentThenWait) {
  auto table = KeyTable::Private(1);
  KeySlot& s = *table->slot(0);
  const uint64_t t0 = 10 * kSecond;
  EXPECT_EQ(KeyTable::CheckTokens(s, 1000, t0), 0u);
  KeyTable::ChargeTokens(s, 1000, 600, t0);
  EXPECT_EQ(KeyTable::CheckTokens(s, 1000, t0), 0u) << "400 of 1000 left";
  KeyTable::ChargeTokens(s, 1000, 600, t0);  // 1200: in debt
  uint64_t wait = KeyTable::CheckTokens(s, 1000, t0);
  EXPECT_GT(wait, 12 * kSecond - 100'000);
  EXPECT_LE(wait, 12 * kSecond + 100'000);
  EXPECT_EQ(KeyTable::CheckTokens(s, 1000, t0 + wait), 0u);
}

TEST(KeyTable, NothingIsReservedBeforeBitrouterdSetALimit) {
  auto table = KeyTable::Private(1);
  KeySlot& s = *table->slot(0);
  EXPECT_EQ(KeyTable::Reserve(s, 1), BudgetVerdict::kNotReady);
  KeyTable::SetLimit(s, 100);
  EXPECT_EQ(KeyTable::Reserve(s, 60), BudgetVerdict::kAdmitted);
  EXPECT_EQ(KeyTable::Reserve(s, 50), BudgetVerdict::kExhausted);
  KeyTable::Settle(s, 60, 20);  // the request cost 20 of the 60 it reserved
  EXPECT_EQ(s.reserved.load(), 0);
  EXPECT_EQ(s.settled.load(), 20);
  EXPECT_EQ(KeyTable::Reserve(s, 80), BudgetVerdict::kAdmitted);
  EXPECT_EQ(KeyTable::Reserve(s, 1), BudgetVerdict::kExhausted);
}

TEST(KeyTable, ReservationsNeverPassTheLimitUnderConcurrency) {
  auto table = KeyTable::Private(1);
  KeySlot& s = *table->slot(0);
  KeyTable::SetLimit(s, 100'000);
  std::atomic<int64_t> admitted_worst{0};
  std::atomic<int64_t> max_seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        int64_t worst = 100 + (i * 37 + t) % 400;
        if (KeyTable::Reserve(s, worst) != BudgetVerdict::kAdmitted) continue;
        int64_t sum = s.reserved.load() + s.settled.load();
        int64_t seen = max_seen.load();
        while (sum > seen && !max_seen.compare_exchange_weak(seen, sum)) {
        }
        admitted_worst += worst;
        KeyTable::Settle(s, worst, worst / 2);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(max_seen.load(), 100'000);
  EXPECT_LE(s.settled.load(), 100'000);
  EXPECT_EQ(s.reserved.load(), 0);
  EXPECT_GT(s.settled.load(), 100'000 - 500) << "filled up to within one worst case";
}

}  // namespace
}  // namespace bitrouter::node
