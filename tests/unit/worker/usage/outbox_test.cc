// UsageOutbox: bounded, never blocks the pusher, drops and counts when full,
// batches in order, and Close lets the taker drain without waiting.
#include "worker/usage/outbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace bitrouter::worker {
namespace {

usage::UsageRecord Rec(int i) {
  usage::UsageRecord r;
  r.request_id = "r" + std::to_string(i);
  return r;
}

TEST(UsageOutbox, FullDropsAndCountsInsteadOfGrowing) {
  UsageOutbox box(3);
  for (int i = 0; i < 5; ++i) box.Push(Rec(i));
  EXPECT_EQ(box.size(), 3u);
  EXPECT_EQ(box.dropped(), 2u);
  auto batch = box.Take(10, std::chrono::milliseconds(0));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].request_id, "r0");
  EXPECT_EQ(batch[2].request_id, "r2");
  EXPECT_TRUE(box.Push(Rec(9)));  // room again
}

TEST(UsageOutbox, TakesBatchesInOrderUpToTheLimit) {
  UsageOutbox box(100);
  for (int i = 0; i < 10; ++i) box.Push(Rec(i));
  auto a = box.Take(4, std::chrono::milliseconds(0));
  auto b = box.Take(4, std::chrono::milliseconds(0));
  auto c = box.Take(4, std::chrono::milliseconds(0));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(b[0].request_id, "r4");
  EXPECT_EQ(c[1].request_id, "r9");
  EXPECT_EQ(box.size(), 0u);
}

TEST(UsageOutbox, TakeWaitsForAWholeBatchOrTheTimeout) {
  UsageOutbox box(10);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(box.Take(5, std::chrono::milliseconds(50)).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(40));
  // One record does not end the wait early: the batch window does.
  box.Push(Rec(0));
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(box.Take(3, std::chrono::milliseconds(100)).size(), 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(80));
  // A whole batch does.
  std::thread pusher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 0; i < 3; ++i) box.Push(Rec(i));
  });
  t0 = std::chrono::steady_clock::now();
  auto got = box.Take(3, std::chrono::seconds(5));
  pusher.join();
  EXPECT_EQ(got.size(), 3u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(UsageOutbox, CloseRefusesPushesAndEndsWaits) {
  UsageOutbox box(10);
  box.Push(Rec(1));
  box.Close();
  EXPECT_FALSE(box.Push(Rec(2)));
  EXPECT_EQ(box.dropped(), 1u);
  EXPECT_EQ(box.Take(5, std::chrono::seconds(5)).size(), 1u);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(box.Take(5, std::chrono::seconds(5)).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

}  // namespace
}  // namespace bitrouter::worker
