#pragma once
// Stage "limits": a key's requests per minute and tokens per minute, one
// limit for the whole node (the node key table, shared by every worker).
// RPM counts a request when it is admitted; TPM admits while the minute's
// tokens are not used up and charges each request's tokens when it ends
// (response side), since they are known only then. 429 with Retry-After in
// the client's shape.

#include "worker/stages/stage.h"

namespace bitrouter::worker {

class LimitsStage final : public Stage {
 public:
  std::string_view name() const override { return "limits"; }
  unsigned sides() const override { return kRequest | kResponse; }
  Verdict OnRequest(StageRequest& req) override;
  void OnResponseEnd(StageResponse& resp, bool ok) override;
};

}  // namespace bitrouter::worker
