#include "worker/stages/auth/scope_stage.h"

#include "absl/strings/str_cat.h"
#include "shared/keys/virtual_key.h"

namespace bitrouter::worker {

Stage::Verdict ScopeStage::OnRequest(StageRequest& req) {
  const InboundCall& call = req.call();
  if (call.key == nullptr || call.key->models.empty() || !call.resolution) {
    return Verdict::kContinue;
  }
  for (const routing::Target& t : call.resolution->targets) {
    if (keys::ScopeAllows(call.key->models, t.provider, t.model_id)) continue;
    req.Answer({403, "permission_error", "model_not_allowed",
                absl::StrCat("model '", call.model, "' (endpoint ", t.provider, ":", t.model_id,
                             ") is outside this key's scope")});
    return Verdict::kHandled;
  }
  return Verdict::kContinue;
}

}  // namespace bitrouter::worker
