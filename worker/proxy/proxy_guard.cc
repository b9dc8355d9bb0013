// ProxyCall: guardrails on the answer (downgoing). A JSON answer is scanned
// whole in the client's protocol (worker/stages/guardrails/json_scan.h) and
// rewritten only when a redact rule matched; a stream goes through the
// canonical form (even between two endpoints of one protocol) so the
// GuardSink can hold back and redact inside text, reasoning and tool-call
// arguments, and end it in-band on a block.
#include "shared/common/log.h"
#include "shared/protocol/openai_request.h"
#include "worker/http/server.h"
#include "worker/proxy/proxy_call.h"
#include "worker/stages/guardrails/json_scan.h"

namespace bitrouter::worker {

using guardrails::Action;
using guardrails::Direction;

bool ProxyCall::GuardsAnswers() const {
  return snapshot_->guard != nullptr && snapshot_->guard->Applies(Direction::kDowngoing);
}

bool ProxyCall::GuardAnswer(std::string* body) {
  if (!GuardsAnswers()) return true;
  const guardrails::Guard& guard = *snapshot_->guard;
  body->reserve(body->size() + protocol::kJsonPadding);  // simdjson reads past the end
  auto scan = ScanJsonBody(guard, Direction::kDowngoing, *body);
  if (!scan.ok() || scan->matches.empty()) return true;
  for (const guardrails::Match& m : scan->matches) {
    in_.guard_hits.push_back({m.rule, Direction::kDowngoing, guard.rules()[m.rule].action[1]});
  }
  std::string blocked;
  if (scan->strongest == Action::kBlock) {
    blocked = guard.BlockMessage(Direction::kDowngoing, scan->matches);
  } else if (scan->strongest == Action::kRedact) {
    auto redacted = RedactJsonBody(guard, Direction::kDowngoing, *body);
    if (redacted.ok()) {
      *body = std::move(*redacted);
      return true;
    }
    blocked = "the answer could not be redacted";  // never let it through
  } else {
    return true;  // warn: recorded only
  }
  // The endpoint answered; its content is what the policy refuses: 422 in
  // the client's shape, no failover (another model may say the same).
  Accepted();
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  phase_ = Phase::kDone;
  client_status_ = 422;
  ResponseEnded(false);
  conn->SendError({422, "invalid_request_error", "guardrail_blocked", std::move(blocked)});
  return false;
}

void ProxyCall::GuardStream() {
  if (!GuardsAnswers() || translator_ == nullptr) return;
  guard_sink_ =
      std::make_unique<GuardSink>(snapshot_->guard.get(), translator_->front(), &in_.guard_hits);
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
