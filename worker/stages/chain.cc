#include "worker/stages/chain.h"

namespace bitrouter::worker {

StageChain::StageChain(std::initializer_list<Stage*> stages) : all_(stages) {
  for (Stage* s : all_) {
    if (s->sides() & Stage::kRequest) request_.push_back(s);
  }
  for (auto it = all_.rbegin(); it != all_.rend(); ++it) {
    if ((*it)->sides() & Stage::kResponse) response_.push_back(*it);
  }
}

Stage::Verdict StageChain::RunRequest(StageRequest& req) const {
  for (Stage* s : request_) {
    if (s->OnRequest(req) == Stage::Verdict::kHandled) return Stage::Verdict::kHandled;
  }
  return Stage::Verdict::kContinue;
}

std::string StageChain::Describe() const {
  std::string out;
  for (const Stage* s : all_) {
    if (!out.empty()) out.append(" -> ");
    out.append(s->name());
  }
  return out;
}

}  // namespace bitrouter::worker
