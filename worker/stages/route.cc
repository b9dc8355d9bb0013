#include "worker/stages/route.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace bitrouter::worker {
namespace {

// Round-robin state is keyed by names from the snapshot (bounded), never by
// what the client typed: a direct `provider:model` (any model text) rotates
// its provider's key pool under the provider's name.
uint64_t CounterFor(StageRequest& req, const routing::Resolution& r) {
  if (r.targets.size() <= 1) return 0;
  return req.NextCounter(r.source == "provider:model" ? r.targets.front().provider : r.name);
}

// A classified request: each candidate resolved as usual (unresolvable ones
// skipped) and ordered by its own strategy, then all of them concatenated in
// candidate order into one priority resolution, so failover moves on to the
// next candidate exactly as it moves to a route's next endpoint.
Stage::Verdict RouteCandidates(StageRequest& req) {
  InboundCall& call = req.call();
  routing::Resolution out;
  out.source = "classified";
  out.name = call.model;
  out.strategy = "priority";
  std::vector<std::string> missed;
  uint32_t group_base = 0;
  // One round-robin step per request, keyed by the trigger (a name from the
  // configuration), not one per candidate that is never tried.
  uint64_t counter = 0;
  bool counted = false;
  for (uint32_t i = 0; i < call.route_candidates.size(); ++i) {
    const std::string& candidate = call.route_candidates[i];
    auto r = req.snapshot().routes.Resolve(candidate);
    if (!r.ok()) {
      missed.push_back(absl::StrCat(candidate, " (", r.status().message(), ")"));
      continue;
    }
    // One candidate (a `routing:` rule's model): keep its own resolution, so
    // its route's timeouts and usage name apply.
    if (call.route_candidates.size() == 1) {
      out.source = r->source;
      out.name = r->name;
      out.strategy = r->strategy;
    }
    uint32_t max_group = 0;
    if (!counted && r->targets.size() > 1) {
      counter =
          call.route_candidates.size() == 1 ? CounterFor(req, *r) : req.NextCounter(call.model);
      counted = true;
    }
    for (size_t t : routing::OrderTargets(*r, counter)) {
      routing::Target target = r->targets[t];
      max_group = std::max(max_group, target.group);
      target.group += group_base;
      out.targets.push_back(std::move(target));
      call.route_target_candidate.push_back(i);
    }
    group_base += max_group + 1;
    for (std::string& s : r->skipped) out.skipped.push_back(std::move(s));
  }
  if (out.targets.empty()) {
    req.Answer({404, "invalid_request_error", "model_not_found",
                absl::StrCat("'", call.model, "' routed to category '", call.route_category,
                             "', but none of its candidates can be routed: ",
                             call.route_candidates.empty() ? std::string("(no candidates)")
                                                           : absl::StrJoin(missed, "; "))});
    return Stage::Verdict::kHandled;
  }
  call.order.resize(out.targets.size());
  for (size_t i = 0; i < call.order.size(); ++i) call.order[i] = i;  // already in order
  call.resolution = std::move(out);
  return Stage::Verdict::kContinue;
}

}  // namespace

Stage::Verdict RouteStage::OnRequest(StageRequest& req) {
  if (!req.call().route_category.empty()) return RouteCandidates(req);
  auto resolution = req.snapshot().routes.Resolve(req.call().model);
  if (!resolution.ok()) {
    req.Answer({404, "invalid_request_error", "model_not_found",
                std::string(resolution.status().message())});
    return Verdict::kHandled;
  }
  InboundCall& call = req.call();
  call.order = routing::OrderTargets(*resolution, CounterFor(req, *resolution));
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
