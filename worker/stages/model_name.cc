#include "worker/stages/model_name.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace bitrouter::worker {

Stage::Verdict ModelNameStage::OnRequest(StageRequest& req) {
  const std::string& model = req.call().model;
  bool printable =
      std::all_of(model.begin(), model.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!model.empty() && model.size() <= kMaxModelNameBytes && printable) return Verdict::kContinue;
  req.Answer({400, "invalid_request_error", "invalid_model",
              absl::StrCat("model must be 1 to ", kMaxModelNameBytes,
                           " printable ASCII characters without spaces")});
  return Verdict::kHandled;
}

}  // namespace bitrouter::worker
