// ProxyCall: guardrails on the answer (downgoing). A JSON answer is checked
// whole in the client's protocol: the serving provider's tool policy on its
// tool calls (worker/stages/guardrails/tool_calls.h), then the patterns
// (worker/stages/guardrails/json_scan.h); it is rewritten only when
// something was removed or redacted. A stream goes through the canonical
// form (even between two endpoints of one protocol) so the GuardSink can
// hold back and redact inside text, reasoning and tool-call arguments, and
// end it in-band on a block.
#include "shared/common/log.h"
#include "shared/protocol/openai_request.h"
#include "worker/http/server.h"
#include "worker/proxy/proxy_call.h"
#include "worker/stages/guardrails/json_scan.h"
#include "worker/stages/guardrails/tool_calls.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

const guardrails::ToolProviderPolicy* ProxyCall::AnswerToolPolicy() const {
  if (snapshot_->tools == nullptr || provider_ == nullptr) return nullptr;
  return snapshot_->tools->For(provider_->name);
}

bool ProxyCall::GuardsAnswers() const {
  return (snapshot_->guard != nullptr && snapshot_->guard->Applies(Direction::kDowngoing)) ||
         AnswerToolPolicy() != nullptr;
}

bool ProxyCall::GuardAnswer(std::string* body) {
  if (!GuardsAnswers()) return true;
  body->reserve(body->size() + protocol::kJsonPadding);  // simdjson reads past the end
  if (const guardrails::ToolProviderPolicy* tools = AnswerToolPolicy()) {
    auto checked = CheckAnswerToolCalls(in_.client, *body, provider_->name, *tools);
    if (checked.ok() && !checked->blocked.empty()) {
      in_.guard_hits.push_back({GuardHit::kToolPolicy, Direction::kDowngoing, Action::kBlock});
      RefuseAnswer(std::move(checked->blocked));
      return false;
    }
    if (checked.ok() && !checked->body.empty()) {
      in_.guard_hits.push_back({GuardHit::kToolPolicy, Direction::kDowngoing, Action::kRedact});
      *body = std::move(checked->body);
      body->reserve(body->size() + protocol::kJsonPadding);
    }
  }
  const guardrails::Guard* guard = snapshot_->guard.get();
  if (guard == nullptr || !guard->Applies(Direction::kDowngoing)) return true;
  auto scan = ScanJsonBody(*guard, Direction::kDowngoing, *body);
  if (!scan.ok() || scan->matches.empty()) return true;
  for (const guardrails::Match& m : scan->matches) {
    in_.guard_hits.push_back({m.rule, Direction::kDowngoing, guard->rules()[m.rule].action[1]});
  }
  if (scan->strongest == Action::kBlock) {
    RefuseAnswer(guard->BlockMessage(Direction::kDowngoing, scan->matches));
    return false;
  }
  if (scan->strongest != Action::kRedact) return true;  // warn: recorded only
  auto redacted = RedactJsonBody(*guard, Direction::kDowngoing, *body);
  if (!redacted.ok()) {
    RefuseAnswer("the answer could not be redacted");  // never let it through
    return false;
  }
  *body = std::move(*redacted);
  return true;
}

void ProxyCall::RefuseAnswer(std::string message) {
  // The endpoint answered; its content is what the policy refuses: 422 in
  // the client's shape, no failover (another model may say the same).
  Accepted();
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  client_status_ = 422;
  ResponseEnded(false);
  conn->SendError({422, "invalid_request_error", "guardrail_blocked", std::move(message)},
                  RouteHeaders(true));
}

void ProxyCall::GuardStream() {
  if (!GuardsAnswers() || translator_ == nullptr) return;
  guard_sink_ = std::make_unique<GuardSink>(snapshot_->guard.get(), AnswerToolPolicy(),
                                            provider_->name, translator_->front(), &in_.guard_hits);
  translator_->Intercept(guard_sink_.get());
}

bool ProxyCall::GuardBlockedStream() {
  if (guard_sink_ == nullptr || !guard_sink_->blocked()) return false;
  if (!committed_) {
    Accepted();
    Commit(-1, StreamContentType());
  }
  LOG_INFO("request ", conn_->request().request_id, ": answer blocked by a guardrail");
  FlushTranslated();
  HttpConnection* conn = conn_;
  if (conn == nullptr) return true;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  ResponseEnded(false);
  conn->AbortResponse();
  return true;
}

}  // namespace bitrouter::worker
