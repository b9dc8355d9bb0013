#include "shared/routing/health.h"

#include <gtest/gtest.h>

#include "shared/node/node_shm.h"

namespace bitrouter::routing {
namespace {

using Gate = EndpointHealth::Gate;

TEST(BreakerTest, OpensAfterConsecutiveFailuresThenOneProbeDecides) {
  EndpointHealth h;
  h.set_policy({3, 1000});
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(h.Check("e", 0), Gate::kAllow);
    h.OnFailure("e", 0);
  }
  EXPECT_EQ(h.Check("e", 0), Gate::kAllow);
  h.OnFailure("e", 100);
  EXPECT_EQ(h.Check("e", 500), Gate::kSkipOpen);
  EXPECT_EQ(h.WaitMs("e", 500), 600u);
  EXPECT_EQ(h.Check("e", 1100), Gate::kProbe);
  EXPECT_EQ(h.Check("e", 1100), Gate::kSkipOpen) << "only one probe at a time";
  h.OnFailure("e", 1200);  // the probe failed: open again
  EXPECT_EQ(h.Check("e", 1300), Gate::kSkipOpen);
  EXPECT_EQ(h.Check("e", 2300), Gate::kProbe);
  h.OnSuccess("e");
  EXPECT_EQ(h.Check("e", 2300), Gate::kAllow);
}

TEST(BreakerTest, SuccessResetsTheCount) {
  EndpointHealth h;
  h.set_policy({2, 1000});
  h.OnFailure("e", 0);
  h.OnSuccess("e");
  h.OnFailure("e", 0);
  EXPECT_EQ(h.Check("e", 0), Gate::kAllow);
}

TEST(BreakerTest, ReleasedProbeCanBeRetaken) {
  EndpointHealth h;
  h.set_policy({1, 10});
  h.OnFailure("e", 0);
  EXPECT_EQ(h.Check("e", 20), Gate::kProbe);
  h.ReleaseProbe("e");
  EXPECT_EQ(h.Check("e", 20), Gate::kProbe);
}

TEST(RetryAfterTest, SkipsUntilTheWindowPasses) {
  EndpointHealth h;
  h.OnRetryAfter("e", 5000);
  EXPECT_EQ(h.Check("e", 4999), Gate::kSkipRetryAfter);
  EXPECT_EQ(h.WaitMs("e", 3000), 2000u);
  EXPECT_EQ(h.Check("e", 5000), Gate::kAllow);
  EXPECT_EQ(h.Check("other", 0), Gate::kAllow);
}

TEST(ForgetTest, DropsTheStateOfMatchingIdsOncePerGeneration) {
  EndpointHealth h;
  h.set_policy({1, 1000});
  h.OnFailure("changed/m", 0);
  h.OnFailure("kept/m", 0);
  h.Forget(5, [](const std::string& id) { return id.rfind("changed/", 0) == 0; });
  EXPECT_EQ(h.Check("changed/m", 10), Gate::kAllow);
  EXPECT_EQ(h.Check("kept/m", 10), Gate::kSkipOpen);
}

// Two workers' handles on one node region: one breaker, one probe.
TEST(SharedHealthTest, WorkersOfANodeShareBreakerAndProbe) {
  auto shm = node::NodeShm::Create({.health_slots = 64});
  ASSERT_TRUE(shm.ok()) << shm.status();
  node::TableView view = (*shm)->Table(node::TableKind::kEndpointHealth, sizeof(node::HealthSlot));
  EndpointHealth w1, w2;
  w1.UseShared(view);
  w2.UseShared(view);
  ASSERT_TRUE(w1.shared());
  for (EndpointHealth* h : {&w1, &w2}) h->set_policy({2, 1000});
  w1.OnFailure("e", 0);
  w2.OnFailure("e", 0);  // the node's second failure opens it for both
  EXPECT_EQ(w1.Check("e", 10), Gate::kSkipOpen);
  EXPECT_EQ(w2.WaitMs("e", 10), 990u);
  EXPECT_EQ(w2.Check("e", 1000), Gate::kProbe);
  // Same process here, so w1 sees w2's probe as one already in flight.
  EXPECT_EQ(w1.Check("e", 1000), Gate::kSkipOpen);
  w2.OnSuccess("e");
  EXPECT_EQ(w1.Check("e", 1001), Gate::kAllow);
  w1.OnRetryAfter("e", 3000);
  EXPECT_EQ(w2.Check("e", 2000), Gate::kSkipRetryAfter);
  // w2 saw the state, so its Forget (one per snapshot) reaches it.
  w2.Forget(3, [](const std::string&) { return true; });
  EXPECT_EQ(w1.Check("e", 2000), Gate::kAllow);
}

TEST(SharedHealthTest, AFullTableFallsBackToAllow) {
  auto shm = node::NodeShm::Create({.health_slots = 2});
  ASSERT_TRUE(shm.ok()) << shm.status();
  EndpointHealth h;
  h.UseShared((*shm)->Table(node::TableKind::kEndpointHealth, sizeof(node::HealthSlot)));
  h.set_policy({1, 1000});
  for (int i = 0; i < 10; ++i) h.OnFailure("e" + std::to_string(i), 0);
  int open = 0;
  for (int i = 0; i < 10; ++i) open += h.Check("e" + std::to_string(i), 1) == Gate::kSkipOpen;
  EXPECT_EQ(open, 2);
}

}  // namespace
}  // namespace bitrouter::routing
