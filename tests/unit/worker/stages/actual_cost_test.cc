#include "worker/stages/actual_cost.h"

#include <gtest/gtest.h>

namespace bitrouter::worker {
namespace {

WorkerSnapshot Snap() {
  WorkerSnapshot s;
  ProviderRuntime p;
  p.name = "p";
  // input 2, cache read 1, cache write 4, output 10, reasoning 20 USD per Mtok.
  p.pricing["priced"] = {2, 1, 4, 10, 20};
  s.providers["p"] = p;
  return s;
}

routing::Target Target(std::string model) {
  routing::Target t;
  t.provider = "p";
  t.model_id = std::move(model);
  return t;
}

protocol::Usage Tokens(int64_t prompt, int64_t completion) {
  protocol::Usage u;
  u.prompt_tokens = prompt;
  u.completion_tokens = completion;
  return u;
}

constexpr UnpricedModel kBoth[] = {UnpricedModel::kUnknown, UnpricedModel::kPriceEachBucket};

TEST(ActualCost, NoUsageCostsNothing) {
  WorkerSnapshot s = Snap();
  CallReport r;  // nothing served
  for (UnpricedModel m : kBoth) EXPECT_EQ(ActualCostMicroUsd(s, r, m), 0);
}

TEST(ActualCost, UsageAtTheServedModelsPrice) {
  WorkerSnapshot s = Snap();
  routing::Target t = Target("priced");
  CallReport r;
  r.served = &t;
  r.usage = Tokens(100, 50);
  for (UnpricedModel m : kBoth) EXPECT_EQ(ActualCostMicroUsd(s, r, m), 100 * 2 + 50 * 10);
}

TEST(ActualCost, TokensOnAnUnpricedModelAreUnknown) {
  WorkerSnapshot s = Snap();
  routing::Target nope = Target("nope");
  routing::Target other = Target("priced");
  other.provider = "other";
  CallReport r;
  r.usage = Tokens(1, 0);
  for (const routing::Target* served :
       {static_cast<const routing::Target*>(nullptr), static_cast<const routing::Target*>(&nope),
        static_cast<const routing::Target*>(&other)}) {
    r.served = served;
    for (UnpricedModel m : kBoth) EXPECT_EQ(ActualCostMicroUsd(s, r, m), std::nullopt);
  }
}

TEST(ActualCost, ZeroTokensOnAnUnpricedModelDependOnTheCaller) {
  WorkerSnapshot s = Snap();
  routing::Target nope = Target("nope");
  CallReport r;
  r.served = &nope;
  r.usage = Tokens(0, 0);
  EXPECT_EQ(ActualCostMicroUsd(s, r, UnpricedModel::kUnknown), std::nullopt);
  EXPECT_EQ(ActualCostMicroUsd(s, r, UnpricedModel::kPriceEachBucket), 0);
}

}  // namespace
}  // namespace bitrouter::worker
