#include "worker/stages/limits/limits_stage.h"

#include "absl/strings/str_cat.h"
#include "shared/node/key_table.h"

namespace bitrouter::worker {
namespace {

void TooMany(StageRequest& req, uint64_t wait_us, std::string message) {
  uint64_t seconds = (wait_us + 999'999) / 1'000'000;
  if (seconds == 0) seconds = 1;
  req.Answer({429, "rate_limit_error", "rate_limit_exceeded", std::move(message)},
             absl::StrCat("Retry-After: ", seconds, "\r\n"));
}

}  // namespace

Stage::Verdict LimitsStage::OnRequest(StageRequest& req) {
  const KeyPolicy* key = req.call().key;
  if (key == nullptr || (key->rpm == 0 && key->tpm == 0) || req.server() == nullptr) {
    return Verdict::kContinue;
  }
  node::KeySlot* slot = req.server()->keys().slot(key->slot);
  if (slot == nullptr) {
    req.Answer({503, "api_error", "limits_unavailable",
                "this key's limits cannot be checked on this node (key table full)"});
    return Verdict::kHandled;
  }
  const uint64_t now = node::MonotonicMicros();
  // Tokens first: a request refused for tokens must not use up a request.
  if (key->tpm != 0) {
    if (uint64_t wait = node::KeyTable::CheckTokens(*slot, key->tpm, now)) {
      TooMany(req, wait,
              absl::StrCat("this key's token limit (", key->tpm, " tokens per minute) is used up"));
      return Verdict::kHandled;
    }
  }
  if (key->rpm != 0) {
    if (uint64_t wait = node::KeyTable::AdmitRequest(*slot, key->rpm, now)) {
      TooMany(
          req, wait,
          absl::StrCat("this key's rate limit (", key->rpm, " requests per minute) is reached"));
      return Verdict::kHandled;
    }
  }
  return Verdict::kContinue;
}

void LimitsStage::OnResponseEnd(StageResponse& resp, bool /*ok*/) {
  const KeyPolicy* key = resp.call().key;
  if (key == nullptr || key->tpm == 0 || resp.server() == nullptr) return;
  const auto& usage = resp.report().usage;
  if (!usage) return;
  node::KeySlot* slot = resp.server()->keys().slot(key->slot);
  if (slot == nullptr) return;
  int64_t tokens = usage->prompt_tokens + usage->completion_tokens;
  if (tokens > 0) {
    node::KeyTable::ChargeTokens(*slot, key->tpm, static_cast<uint64_t>(tokens),
                                 node::MonotonicMicros());
  }
}

}  // namespace bitrouter::worker
