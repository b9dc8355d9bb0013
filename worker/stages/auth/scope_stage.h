#pragma once
// Stage "scope": a key with model patterns may use a model only when every
// endpoint it resolves to (a virtual model's, a runtime route's, or the one
// of provider:model) is inside its scope, so a route name can never widen a
// key's reach. 403 in the client's shape otherwise. Runs after "route".

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class ScopeStage final : public Stage {
 public:
  std::string_view name() const override { return "scope"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
