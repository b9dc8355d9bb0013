#include "worker/stages/actual_cost.h"

#include "shared/usage/cost.h"

namespace bitrouter::worker {

std::optional<int64_t> ActualCostMicroUsd(const WorkerSnapshot& snapshot, const CallReport& report,
                                          UnpricedModel unpriced) {
  if (!report.usage) return 0;  // nothing was spent
  const config::Pricing* price = nullptr;
  if (report.served != nullptr) {
    if (const ProviderRuntime* p = snapshot.FindProvider(report.served->provider)) {
      if (auto it = p->pricing.find(report.served->model_id); it != p->pricing.end()) {
        price = &it->second;
      }
    }
  }
  if (price == nullptr) {
    if (unpriced == UnpricedModel::kUnknown) return std::nullopt;
    return usage::ComputeCost(*report.usage, config::Pricing{}).total_micro_usd;
  }
  return usage::ComputeCost(*report.usage, *price).total_micro_usd;
}

}  // namespace bitrouter::worker
