#include "worker/stages/guardrails/guard_stage.h"

#include "shared/common/log.h"
#include "shared/protocol/openai_request.h"
#include "worker/stages/guardrails/json_scan.h"
#include "worker/stages/guardrails/tool_filter.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

namespace {

// A rewritten body goes upstream; the passthrough splice needs the model's
// new place in it. False when the client was answered (cannot happen: the
// rewrite keeps what the entry validated).
bool Replace(StageRequest& req, std::string body) {
  req.ReplaceBody(std::move(body));
  InboundCall& call = req.call();
  if (call.client == protocol::Protocol::kGemini) return true;  // the model is in the path
  auto view = protocol::InspectRequest(req.request().body.data(), req.request().body.size());
  if (!view.ok()) {
    req.Answer({500, "server_error", "guardrail_failed", "the rewritten request is invalid"});
    return false;
  }
  call.model_begin = view->model_begin;
  call.model_end = view->model_end;
  return true;
}

// guardrails.tools: the offered tools, by the strictest policy among the
// providers the request may reach.
Stage::Verdict FilterTools(StageRequest& req) {
  const guardrails::ToolPolicy* tools = req.snapshot().tools.get();
  InboundCall& call = req.call();
  if (tools == nullptr || !call.resolution) return Stage::Verdict::kContinue;
  std::vector<NamedToolPolicy> policies;
  for (const routing::Target& t : call.resolution->targets) {
    const guardrails::ToolProviderPolicy* p = tools->For(t.provider);
    if (p == nullptr) continue;
    bool seen = false;
    for (const auto& named : policies) seen = seen || named.second == p;
    if (!seen) policies.emplace_back(t.provider, p);
  }
  if (policies.empty()) return Stage::Verdict::kContinue;
  auto filtered = FilterOfferedTools(call.client, req.request().body, policies);
  if (!filtered.ok()) return Stage::Verdict::kContinue;  // not JSON: the entry answered that
  if (!filtered->blocked.empty()) {
    call.guard_hits.push_back({GuardHit::kToolPolicy, Direction::kUpgoing, Action::kBlock});
    req.Answer({400, "invalid_request_error", "guardrail_blocked", filtered->blocked});
    return Stage::Verdict::kHandled;
  }
  if (filtered->body.empty()) return Stage::Verdict::kContinue;
  call.guard_hits.push_back({GuardHit::kToolPolicy, Direction::kUpgoing, Action::kRedact});
  return Replace(req, std::move(filtered->body)) ? Stage::Verdict::kContinue
                                                 : Stage::Verdict::kHandled;
}

}  // namespace

Stage::Verdict GuardrailsStage::OnRequest(StageRequest& req) {
  if (FilterTools(req) == Verdict::kHandled) return Verdict::kHandled;
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
  return Replace(req, std::move(*redacted)) ? Verdict::kContinue : Verdict::kHandled;
}

}  // namespace bitrouter::worker
