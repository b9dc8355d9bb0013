#include "worker/stages/guardrails/guard_stage.h"

#include "shared/common/log.h"
#include "shared/protocol/openai_request.h"
#include "worker/stages/guardrails/json_scan.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

Stage::Verdict GuardrailsStage::OnRequest(StageRequest& req) {
  const guardrails::Guard* guard = req.snapshot().guard.get();
  if (guard == nullptr || !guard->Applies(Direction::kUpgoing)) return Verdict::kContinue;
  auto scan = ScanJsonBody(*guard, Direction::kUpgoing, req.request().body);
  // A body that is not JSON was refused by the entry already.
  if (!scan.ok() || scan->matches.empty()) return Verdict::kContinue;
  InboundCall& call = req.call();
  for (const guardrails::Match& m : scan->matches) {
    call.guard_hits.push_back({m.rule, Direction::kUpgoing, guard->rules()[m.rule].action[0]});
  }
  if (scan->strongest == Action::kBlock) {
    req.Answer({400, "invalid_request_error", "guardrail_blocked",
                guard->BlockMessage(Direction::kUpgoing, scan->matches)});
    return Verdict::kHandled;
  }
  if (scan->strongest != Action::kRedact) return Verdict::kContinue;
  auto redacted = RedactJsonBody(*guard, Direction::kUpgoing, req.request().body);
  if (!redacted.ok()) {
    // Scanned as JSON a moment ago: cannot happen; never send the secret.
    req.Answer({500, "server_error", "guardrail_failed", "the request could not be redacted"});
    return Verdict::kHandled;
  }
  req.ReplaceBody(std::move(*redacted));
  if (call.client != protocol::Protocol::kGemini) {
    // The model's place in the rewritten body, for the passthrough splice.
    auto view = protocol::InspectRequest(req.request().body.data(), req.request().body.size());
    if (!view.ok()) {
      req.Answer({500, "server_error", "guardrail_failed", "the redacted request is invalid"});
      return Verdict::kHandled;
    }
    call.model_begin = view->model_begin;
    call.model_end = view->model_end;
  }
  return Verdict::kContinue;
}

}  // namespace bitrouter::worker
