#pragma once
// Stage "route": resolves the model to its endpoints (a virtual model, a
// runtime route, provider:model, or a bare catalog id) and orders them by
// the route's strategy, onto the call (the policy stages after it check
// them). 404 in the client's shape for an unknown model.
//
// Stage "dispatch", the last request-side stage: hands the request to the
// router (attempts, failover, translation, upstream, relay).

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class RouteStage final : public Stage {
 public:
  std::string_view name() const override { return "route"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

class DispatchStage final : public Stage {
 public:
  std::string_view name() const override { return "dispatch"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
