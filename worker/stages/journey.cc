// The request's journey, in the order it runs. A new per-request concern
// (auth, limits, guardrails, usage) is a Stage inserted here where it
// belongs: before "route" for what must happen before an upstream is chosen,
// with a response side for what must see the answer.
#include "worker/stages/auth/auth_stage.h"
#include "worker/stages/auth/scope_stage.h"
#include "worker/stages/budget/budget_stage.h"
#include "worker/stages/chain.h"
#include "worker/stages/classify/classify_stage.h"
#include "worker/stages/guardrails/guard_stage.h"
#include "worker/stages/limits/limits_stage.h"
#include "worker/stages/model_name.h"
#include "worker/stages/route.h"
#include "worker/stages/usage.h"

namespace bitrouter::worker {

const StageChain& RequestJourney() {
  static UsageStage usage;
  static AuthStage auth;
  static ModelNameStage model;
  static ClassifyStage classify;
  static RouteStage route;
  static ScopeStage scope;
  static GuardrailsStage guard;
  static LimitsStage limits;
  static BudgetStage budget;
  static DispatchStage dispatch;
  static const StageChain chain({
      &usage,     // response side, last: one usage record per request, however it ended
      &auth,      // who asks: the virtual key (401)
      &model,     // the routing key is sane (400)
      &classify,  // a trigger model: the model(s) picked from the content, no network call
      &route,     // endpoints in strategy order (404)
      &scope,     // every endpoint inside the key's scope (403)
      &limits,    // the key's RPM / TPM for the node (429); tokens charged at the end
      &guard,     // secrets and PII in the request: block (400), redact, warn
      &budget,    // worst case reserved (402); real cost settled at the end
      &dispatch,  // -> the router (attempts, translate, upstream, relay)
  });
  return chain;
}

}  // namespace bitrouter::worker
