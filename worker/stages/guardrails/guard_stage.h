#pragma once
// Stage "guardrails", request side: the client's request before anything
// of it goes upstream (worker/stages/guardrails/json_scan.h says which
// strings count). Per the snapshot's rules (shared/guardrails/guard.h):
//   block  -> 400 in the client's shape with the configured message; nothing
//             goes upstream
//   redact -> each match becomes "[REDACTED]" in what goes upstream: the
//             body is rewritten only when something matched
//   warn   -> only recorded
// Every match is recorded on the call (usage record, /metrics) by pattern
// and action, never by its text.

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class GuardrailsStage final : public Stage {
 public:
  std::string_view name() const override { return "guardrails"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
