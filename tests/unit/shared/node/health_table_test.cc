// The node's shared endpoint health table: breaker, the single probe and its
// lease, Forget generations, a full table; and several processes hammering
// one slot through a real node region.
#include "shared/node/health_table.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "shared/node/node_shm.h"

namespace bitrouter::node {
namespace {

constexpr BreakerLimits kLimits{.failures = 2, .cooldown_ms = 1000, .probe_lease_ms = 5000};
constexpr pid_t kA = 1001, kB = 1002;

// Opens the breaker on `key` at t=0 (open until 1000).
void Open(HealthTable& t, uint64_t key) {
  for (uint32_t i = 0; i < kLimits.failures; ++i) ASSERT_TRUE(t.OnFailure(key, 0, kLimits, kA));
}

TEST(HealthTableTest, OneProbeForAllProcessesThenSuccessClosesForAll) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  EXPECT_EQ(t->Check(key, 0, kLimits, kA), HealthGate::kAllow) << "unknown endpoint";
  Open(*t, key);
  EXPECT_EQ(t->Check(key, 999, kLimits, kB), HealthGate::kSkipOpen);
  EXPECT_EQ(t->WaitMs(key, 400, kLimits), 600u);
  EXPECT_EQ(t->Check(key, 1000, kLimits, kB), HealthGate::kProbe);
  EXPECT_EQ(t->Check(key, 1000, kLimits, kA), HealthGate::kSkipOpen) << "B holds the probe";
  EXPECT_EQ(t->Check(key, 1001, kLimits, kB), HealthGate::kSkipOpen) << "one per process too";
  t->OnSuccess(key);
  EXPECT_EQ(t->Check(key, 1001, kLimits, kA), HealthGate::kAllow);
  EXPECT_EQ(t->Check(key, 1001, kLimits, kB), HealthGate::kAllow);
}

TEST(HealthTableTest, FailedProbeReopensForAnotherCooldown) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  Open(*t, key);
  ASSERT_EQ(t->Check(key, 1000, kLimits, kA), HealthGate::kProbe);
  ASSERT_TRUE(t->OnFailure(key, 1200, kLimits, kA));
  EXPECT_EQ(t->Check(key, 1300, kLimits, kB), HealthGate::kSkipOpen);
  EXPECT_EQ(t->Check(key, 2199, kLimits, kB), HealthGate::kSkipOpen);
  EXPECT_EQ(t->Check(key, 2200, kLimits, kB), HealthGate::kProbe);
}

TEST(HealthTableTest, OnlyTheOwnerReleasesItsProbe) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  Open(*t, key);
  ASSERT_EQ(t->Check(key, 1000, kLimits, kA), HealthGate::kProbe);
  t->ReleaseProbe(key, kB);
  EXPECT_EQ(t->Check(key, 1000, kLimits, kB), HealthGate::kSkipOpen);
  // A non-probe failure elsewhere extends the window but leaves A's probe alone.
  ASSERT_TRUE(t->OnFailure(key, 1000, kLimits, kB));
  t->ReleaseProbe(key, kA);
  EXPECT_EQ(t->Check(key, 2000, kLimits, kB), HealthGate::kProbe);
}

TEST(HealthTableTest, AProbeWhoseOwnerVanishedIsRetakenAfterItsLease) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  Open(*t, key);
  ASSERT_EQ(t->Check(key, 1000, kLimits, kA), HealthGate::kProbe);  // A never settles
  EXPECT_EQ(t->Check(key, 5999, kLimits, kB), HealthGate::kSkipOpen);
  EXPECT_EQ(t->Check(key, 6000, kLimits, kB), HealthGate::kProbe);
  // A's late release must not free B's probe.
  t->ReleaseProbe(key, kA);
  EXPECT_EQ(t->Check(key, 6001, kLimits, kA), HealthGate::kSkipOpen);
}

TEST(HealthTableTest, ReleaseAllOfFreesADeadWorkersProbesAtOnce) {
  auto t = HealthTable::Private(64);
  uint64_t k1 = HashId("p/one"), k2 = HashId("p/two");
  Open(*t, k1);
  Open(*t, k2);
  ASSERT_EQ(t->Check(k1, 1000, kLimits, kA), HealthGate::kProbe);
  ASSERT_EQ(t->Check(k2, 1000, kLimits, kB), HealthGate::kProbe);
  t->ReleaseAllOf(kA);
  EXPECT_EQ(t->Check(k1, 1001, kLimits, kB), HealthGate::kProbe);
  EXPECT_EQ(t->Check(k2, 1001, kLimits, kA), HealthGate::kSkipOpen) << "B's probe stays";
}

TEST(HealthTableTest, RetryAfterWindowsOnlyGrow) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  ASSERT_TRUE(t->OnRetryAfter(key, 5000));
  ASSERT_TRUE(t->OnRetryAfter(key, 3000));
  EXPECT_EQ(t->Check(key, 4999, kLimits, kA), HealthGate::kSkipRetryAfter);
  EXPECT_EQ(t->WaitMs(key, 4000, kLimits), 1000u);
  EXPECT_EQ(t->Check(key, 5000, kLimits, kA), HealthGate::kAllow);
  t->OnSuccess(key);  // a success does not cancel what the upstream asked for
  ASSERT_TRUE(t->OnRetryAfter(key, 9000));
  t->OnSuccess(key);
  EXPECT_EQ(t->Check(key, 8000, kLimits, kA), HealthGate::kSkipRetryAfter);
}

TEST(HealthTableTest, ForgetClearsOncePerGeneration) {
  auto t = HealthTable::Private(64);
  uint64_t key = HashId("p/m");
  Open(*t, key);
  t->Forget(key, 7);  // the first worker applying snapshot v7
  EXPECT_EQ(t->Check(key, 10, kLimits, kA), HealthGate::kAllow);
  Open(*t, key);      // failures under the new definition
  t->Forget(key, 7);  // a later worker applying v7: keeps them
  EXPECT_EQ(t->Check(key, 10, kLimits, kA), HealthGate::kSkipOpen);
  t->Forget(key, 9);
  EXPECT_EQ(t->Check(key, 10, kLimits, kA), HealthGate::kAllow);
}

TEST(HealthTableTest, CollidingKeysGetTheirOwnSlotsAndAFullTableDegrades) {
  auto t = HealthTable::Private(8);
  // Same home slot (key % 8), different keys.
  for (uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(t->OnFailure(8 * i + 3, 0, kLimits, kA)) << i;
  EXPECT_EQ(t->CountUsed(), 8u);
  EXPECT_FALSE(t->OnFailure(99, 0, kLimits, kA)) << "no slot left";
  EXPECT_FALSE(t->OnRetryAfter(99, 10));
  EXPECT_EQ(t->Check(99, 0, kLimits, kA), HealthGate::kAllow);
  ASSERT_TRUE(t->OnFailure(8 * 5 + 3, 0, kLimits, kA));  // the 2nd failure of an existing key
  EXPECT_EQ(t->Check(8 * 5 + 3, 1, kLimits, kA), HealthGate::kSkipOpen);
  EXPECT_EQ(t->Check(8 * 4 + 3, 1, kLimits, kA), HealthGate::kAllow);
}

TEST(HealthTableTest, HashIsStableAndNeverZero) {
  EXPECT_EQ(HashId("openai/gpt-4o"), HashId("openai/gpt-4o"));
  EXPECT_NE(HashId("openai/gpt-4o"), HashId("openai/gpt-4o#2"));
  EXPECT_NE(HashId(""), 0u);
}

// Several processes share one real node region (each attaches its own
// mapping, as workers do) and race for the probe of one open endpoint.
class ForkedHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto shm = NodeShm::Create({.health_slots = 256});
    ASSERT_TRUE(shm.ok()) << shm.status();
    shm_ = std::move(*shm);
    // Test bookkeeping shared with the children (not part of the region).
    void* p =
        mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(p, MAP_FAILED);
    shared_ = new (p) Shared();
  }
  void TearDown() override { munmap(shared_, sizeof(Shared)); }

  // Runs `body` in `n` children on their own mapping; true if all exit 0.
  template <typename Body>
  bool RunChildren(int n, Body body) {
    std::vector<pid_t>& kids = kids_;
    kids.clear();
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        auto mine = NodeShm::Attach(dup(shm_->fd()));
        if (!mine.ok()) _exit(3);
        HealthTable table((*mine)->Table(TableKind::kEndpointHealth, sizeof(HealthSlot)));
        shared_->ready.fetch_add(1);
        while (shared_->ready.load() < n) {
        }
        _exit(body(table, getpid()) ? 0 : 1);
      }
      if (pid < 0) return false;
      kids.push_back(pid);
    }
    bool ok = true;
    for (pid_t pid : kids) {
      int status = 0;
      waitpid(pid, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
  }
  HealthTable Table() const {
    return HealthTable(shm_->Table(TableKind::kEndpointHealth, sizeof(HealthSlot)));
  }

  struct Shared {
    std::atomic<int> ready{0};
    std::atomic<int> wins{0};
    std::atomic<int> holders{0};
    std::atomic<int> max_holders{0};
  };
  std::unique_ptr<NodeShm> shm_;
  std::vector<pid_t> kids_;  // of the last RunChildren
  Shared* shared_ = nullptr;
};

TEST_F(ForkedHealthTest, ExactlyOneProcessWinsTheProbe) {
  HealthTable t = Table();
  uint64_t key = HashId("primary/m");
  Open(t, key);
  ASSERT_TRUE(RunChildren(4, [&](HealthTable& mine, pid_t self) {
    for (int i = 0; i < 20000; ++i) {
      if (mine.Check(key, 1500, kLimits, self) == HealthGate::kProbe) shared_->wins.fetch_add(1);
    }
    return true;
  }));
  EXPECT_EQ(shared_->wins.load(), 1);
}

TEST_F(ForkedHealthTest, NeverTwoProbesInFlightAcrossProcesses) {
  HealthTable t = Table();
  uint64_t key = HashId("primary/m");
  Open(t, key);
  ASSERT_TRUE(RunChildren(4, [&](HealthTable& mine, pid_t self) {
    for (int i = 0; i < 20000; ++i) {
      if (mine.Check(key, 1500, kLimits, self) != HealthGate::kProbe) continue;
      int now = shared_->holders.fetch_add(1) + 1;
      int seen = shared_->max_holders.load();
      while (now > seen && !shared_->max_holders.compare_exchange_weak(seen, now)) {
      }
      shared_->wins.fetch_add(1);
      shared_->holders.fetch_sub(1);
      mine.ReleaseProbe(key, self);  // no verdict: the next one may probe
    }
    return true;
  }));
  EXPECT_GT(shared_->wins.load(), 1);
  EXPECT_EQ(shared_->max_holders.load(), 1);
}

TEST_F(ForkedHealthTest, ADeadProcessProbeIsFreedByReleaseClaimsOf) {
  HealthTable t = Table();
  uint64_t key = HashId("primary/m");
  Open(t, key);
  ASSERT_TRUE(RunChildren(1, [&](HealthTable& mine, pid_t self) {
    return mine.Check(key, 1500, kLimits, self) == HealthGate::kProbe;  // exits holding it
  }));
  EXPECT_EQ(t.Check(key, 1501, kLimits, getpid()), HealthGate::kSkipOpen);
  // Its lease still runs; what frees it is the supervisor reaping the child.
  ASSERT_EQ(kids_.size(), 1u);
  shm_->ReleaseClaimsOf(kids_[0]);
  EXPECT_EQ(t.Check(key, 1501, kLimits, getpid()), HealthGate::kProbe);
}

}  // namespace
}  // namespace bitrouter::node
