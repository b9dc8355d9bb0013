#include "worker/stages/auth/scope_stage.h"

#include "absl/strings/str_cat.h"
#include "shared/keys/virtual_key.h"

namespace bitrouter::worker {

namespace {

// A classified request's candidate list is a choice, not one route: the
// candidates outside the key's scope are dropped (the others keep their
// order), and only a list with nothing left is refused.
Stage::Verdict KeepCandidatesInScope(StageRequest& req) {
  InboundCall& call = req.call();
  routing::Resolution& r = *call.resolution;
  std::vector<routing::Target> kept;
  std::vector<uint32_t> kept_candidate;
  for (size_t i = 0; i < r.targets.size(); ++i) {
    if (!keys::ScopeAllows(call.key->models, r.targets[i].provider, r.targets[i].model_id)) {
      continue;
    }
    kept.push_back(std::move(r.targets[i]));
    if (i < call.route_target_candidate.size()) {
      kept_candidate.push_back(call.route_target_candidate[i]);
    }
  }
  if (kept.empty()) {
    req.Answer({403, "permission_error", "model_not_allowed",
                absl::StrCat("model '", call.model, "': none of category '", call.route_category,
                             "''s candidates is inside this key's scope")});
    return Stage::Verdict::kHandled;
  }
  r.targets = std::move(kept);
  call.route_target_candidate = std::move(kept_candidate);
  call.order.resize(r.targets.size());
  for (size_t i = 0; i < call.order.size(); ++i) call.order[i] = i;  // candidate order
  return Stage::Verdict::kContinue;
}

}  // namespace

Stage::Verdict ScopeStage::OnRequest(StageRequest& req) {
  const InboundCall& call = req.call();
  if (call.key == nullptr || call.key->models.empty() || !call.resolution) {
    return Verdict::kContinue;
  }
  if (call.resolution->source == "classified") return KeepCandidatesInScope(req);
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
