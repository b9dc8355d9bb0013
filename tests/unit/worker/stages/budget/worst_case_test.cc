#include "worker/stages/budget/worst_case.h"

#include <gtest/gtest.h>

namespace bitrouter::worker {
namespace {

WorkerSnapshot Snap() {
  WorkerSnapshot s;
  ProviderRuntime p;
  p.name = "p";
  // input 2 (cache write 4), output 10 (reasoning 20) USD per Mtok.
  p.pricing["priced"] = {2, 1, 4, 10, 20};
  p.pricing["half"] = {2, -1, -1, 10, -1};
  p.context_windows["priced"] = 100;
  p.max_outputs["priced"] = 1000;
  s.providers["p"] = p;
  return s;
}

routing::Resolution To(std::vector<std::string> models) {
  routing::Resolution r;
  for (auto& m : models) {
    routing::Target t;
    t.provider = "p";
    t.model_id = m;
    r.targets.push_back(t);
  }
  return r;
}

TEST(WorstCase, PromptEstimateTimesInputPlusOutputLimitTimesOutput) {
  WorkerSnapshot s = Snap();
  // 40 bytes -> 11 tokens x 4 + 50 x 20.
  EXPECT_EQ(*WorstCaseCost(s, To({"priced"}), 40, 50).micro_usd, 11 * 4 + 50 * 20);
  // No client limit: the catalog's max output; the prompt is capped by the window.
  EXPECT_EQ(*WorstCaseCost(s, To({"priced"}), 4000, 0).micro_usd, 100 * 4 + 1000 * 20);
  // No catalog output limit either: kUnknownOutputLimit at the plain prices.
  EXPECT_EQ(*WorstCaseCost(s, To({"half"}), 0, 0).micro_usd, 1 * 2 + kUnknownOutputLimit * 10);
  // The largest over the endpoints a request may fail over to.
  EXPECT_EQ(*WorstCaseCost(s, To({"half", "priced"}), 40, 50).micro_usd, 11 * 4 + 50 * 20);
}

TEST(WorstCase, AnUnpricedEndpointMakesItUnknowable) {
  WorkerSnapshot s = Snap();
  WorstCase w = WorstCaseCost(s, To({"priced", "nope"}), 10, 10);
  EXPECT_FALSE(w.micro_usd.has_value());
  EXPECT_EQ(w.unpriced, "p:nope");
  s.providers["p"].pricing["free"] = {-1, -1, -1, 1, -1};
  EXPECT_EQ(WorstCaseCost(s, To({"free"}), 10, 10).unpriced, "p:free");
}

}  // namespace
}  // namespace bitrouter::worker
