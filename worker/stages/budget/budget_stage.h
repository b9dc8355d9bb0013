#pragma once
// Stage "budget": a key's spending cap, exact on a node under concurrency.
//
// Request side: reserves the request's worst case (worst_case.h) in the
// node key table; refused (402 in the client's shape) once spend plus open
// reservations plus this request would pass the node's limit (its lease of
// the budget, set by bitrouterd: controld/keys/key_registry.h). So overshoot
// is bounded by the admitted requests' estimate error only. A model without
// a known price cannot be counted: 403, never a silent bypass.
//
// Response side, for every key with a slot: the reservation is released and
// the request's real cost settled (an unknown cost settles the reservation).

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class BudgetStage final : public Stage {
 public:
  std::string_view name() const override { return "budget"; }
  unsigned sides() const override { return kRequest | kResponse; }
  Verdict OnRequest(StageRequest& req) override;
  void OnResponseEnd(StageResponse& resp, bool ok) override;
};

}  // namespace bitrouter::worker
