#include "worker/stages/budget/budget_stage.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "shared/node/key_table.h"
#include "worker/stages/actual_cost.h"
#include "worker/stages/budget/worst_case.h"

namespace bitrouter::worker {
namespace {

std::string Usd(int64_t micro) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "$%.6f", static_cast<double>(micro) / 1e6);
  return buf;
}

}  // namespace

Stage::Verdict BudgetStage::OnRequest(StageRequest& req) {
  InboundCall& call = req.call();
  if (call.key == nullptr || !call.key->has_budget || !call.resolution || req.server() == nullptr) {
    return Verdict::kContinue;
  }
  node::KeySlot* slot = req.server()->keys().slot(call.key->slot);
  if (slot == nullptr) {
    req.Answer({503, "api_error", "budget_unavailable",
                "this key's budget cannot be checked on this node (key table full)"});
    return Verdict::kHandled;
  }
  WorstCase worst = WorstCaseCost(req.snapshot(), *call.resolution, req.request().body.size(),
                                  call.max_output_tokens);
  if (!worst.micro_usd) {
    req.Answer({403, "permission_error", "budget_unenforceable",
                absl::StrCat("this key has a budget, and ", worst.unpriced,
                             " has no known price, so its cost cannot be counted; set "
                             "providers.<name>.models.<id>.pricing or use a priced model")});
    return Verdict::kHandled;
  }
  switch (node::KeyTable::Reserve(*slot, *worst.micro_usd)) {
    case node::BudgetVerdict::kAdmitted:
      call.budget_reserved = *worst.micro_usd;
      return Verdict::kContinue;
    case node::BudgetVerdict::kNotReady:
      req.Answer({503, "api_error", "budget_unavailable",
                  "this key's budget is not known to this node yet; retry shortly"},
                 "Retry-After: 1\r\n");
      return Verdict::kHandled;
    case node::BudgetVerdict::kExhausted:
      break;
  }
  req.Answer({402, "insufficient_quota", "budget_exceeded",
              absl::StrCat("this key's budget is exhausted: this request may cost up to ",
                           Usd(*worst.micro_usd),
                           " (lower max_tokens to reserve less), and spend plus open "
                           "requests leave less than that")});
  return Verdict::kHandled;
}

void BudgetStage::OnResponseEnd(StageResponse& resp, bool /*ok*/) {
  const InboundCall& call = resp.call();
  if (call.key == nullptr || resp.server() == nullptr) return;
  node::KeySlot* slot = resp.server()->keys().slot(call.key->slot);
  if (slot == nullptr) return;
  std::optional<int64_t> cost =
      ActualCostMicroUsd(resp.snapshot(), resp.report(), UnpricedModel::kUnknown);
  // Unknown (a budget key never gets here with an unpriced model; a key
  // without a budget settles nothing it cannot price).
  int64_t actual = cost.value_or(call.budget_reserved);
  if (actual == 0 && call.budget_reserved == 0) return;
  node::KeyTable::Settle(*slot, call.budget_reserved, actual);
}

}  // namespace bitrouter::worker
