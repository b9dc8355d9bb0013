#include "shared/routing/health.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace bitrouter::routing
