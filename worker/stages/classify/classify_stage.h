#pragma once
// Stage "classify": when the client's model is a trigger, picks the model(s)
// to route from the request's content, without any network call, and records
// the decision on the call for the route stage and the answer's headers.
// Triggers, in this order:
//  - a `routing:` rule's name: the rule's decision (one model);
//  - with compat.llmrouter, `llmrouter/auto|simple|coding|reasoning`, and the
//    bare `auto|simple|coding|reasoning` when no route and no rule has that
//    name (the OpenClaw plugin writes a config route named `auto`): Rungate's
//    category and its candidate list. A forced category skips the classifier.
// Any other model passes through untouched. The body is never changed:
// OpenClaw's metadata is stripped for classification only.

#include "worker/stages/stage.h"

namespace bitrouter::worker {

// The model name a classified request is answered by: the candidate the
// target at `target_index` (in the call's resolution) came from, or the first
// candidate when no target answered (`target_index` out of range).
std::string_view RouteModel(const InboundCall& call, size_t target_index);

// "x-bitrouter-route-category/-model" header lines (and Rungate's
// x-llm-router-* in compat mode) for every answer of a classified request;
// "" when the request was not classified.
std::string RouteHeaderLines(const InboundCall& call, std::string_view route_model);

class ClassifyStage final : public Stage {
 public:
  std::string_view name() const override { return "classify"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
