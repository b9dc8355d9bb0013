#include "worker/stages/route.h"

#include <utility>

namespace bitrouter::worker {

Stage::Verdict RouteStage::OnRequest(StageRequest& req) {
  auto resolution = req.snapshot().routes.Resolve(req.call().model);
  if (!resolution.ok()) {
    req.Answer({404, "invalid_request_error", "model_not_found",
                std::string(resolution.status().message())});
    return Verdict::kHandled;
  }
  // Round-robin state is keyed by names from the snapshot (bounded), never by
  // what the client typed: a direct `provider:model` (any model text) rotates
  // its provider's key pool under the provider's name.
  uint64_t counter = 0;
  if (resolution->targets.size() > 1) {
    const std::string& key = resolution->source == "provider:model"
                                 ? resolution->targets.front().provider
                                 : resolution->name;
    counter = req.NextCounter(key);
  }
  InboundCall& call = req.call();
  call.order = routing::OrderTargets(*resolution, counter);
  call.resolution = std::move(*resolution);
  return Verdict::kContinue;
}

Stage::Verdict DispatchStage::OnRequest(StageRequest& req) {
  InboundCall& call = req.call();
  if (!call.resolution) {
    req.Answer({500, "server_error", "no_route_stage", "the request was not routed"});
    return Verdict::kHandled;
  }
  routing::Resolution resolution = std::move(*call.resolution);
  call.resolution.reset();
  std::vector<size_t> order = std::move(call.order);
  req.Route(std::move(resolution), std::move(order));
  return Verdict::kHandled;  // the router owns the request from here
}

}  // namespace bitrouter::worker
