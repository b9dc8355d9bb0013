#include "worker/stages/budget/worst_case.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace bitrouter::worker {

WorstCase WorstCaseCost(const WorkerSnapshot& snapshot, const routing::Resolution& resolution,
                        size_t body_bytes, int64_t max_output_tokens) {
  WorstCase out;
  double worst = 0;
  for (const routing::Target& t : resolution.targets) {
    const ProviderRuntime* p = snapshot.FindProvider(t.provider);
    const config::Pricing* price = nullptr;
    if (p != nullptr) {
      if (auto it = p->pricing.find(t.model_id); it != p->pricing.end()) price = &it->second;
    }
    if (price == nullptr || !(price->input_no_cache >= 0) || !(price->output_text >= 0)) {
      out.unpriced = absl::StrCat(t.provider, ":", t.model_id);
      return out;
    }
    double prompt = static_cast<double>(body_bytes) / 4.0 + 1;
    if (auto it = p->context_windows.find(t.model_id); it != p->context_windows.end()) {
      prompt = std::min(prompt, static_cast<double>(it->second));
    }
    double output = static_cast<double>(max_output_tokens);
    if (output <= 0) {
      auto it = p->max_outputs.find(t.model_id);
      output = it != p->max_outputs.end() ? it->second : kUnknownOutputLimit;
    }
    // USD per million tokens is micro-USD per token.
    double in_price = std::max(price->input_no_cache, price->cache_write);
    double out_price = std::max(price->output_text, price->reasoning);
    worst = std::max(worst, prompt * in_price + output * out_price);
  }
  if (!std::isfinite(worst) || worst > 9e15) {
    out.unpriced = "(a price too large to count)";
    return out;
  }
  out.micro_usd = static_cast<int64_t>(std::ceil(worst));
  return out;
}

}  // namespace bitrouter::worker
