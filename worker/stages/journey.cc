// The request's journey, in the order it runs. A new per-request concern
// (auth, limits, guardrails, usage) is a Stage inserted here where it
// belongs: before "route" for what must happen before an upstream is chosen,
// with a response side for what must see the answer.
#include "worker/stages/chain.h"
#include "worker/stages/model_name.h"
#include "worker/stages/route.h"
#include "worker/stages/usage.h"

namespace bitrouter::worker {

const StageChain& RequestJourney() {
  static UsageStage usage;
  static ModelNameStage model;
  static RouteStage route;
  static const StageChain chain({
      &usage,  // response side, last: one usage record per request, however it ended
      &model,  // the routing key is sane
      &route,  // endpoints in strategy order -> the router (attempts, translate, upstream, relay)
  });
  return chain;
}

}  // namespace bitrouter::worker
