#pragma once
// Stage "model": the model the client named is a routing key, so it must be
// 1 to kMaxModelNameBytes printable ASCII characters without spaces
// (anything else would reach logs, counters and upstream URLs). 400 otherwise.

#include <cstddef>

#include "worker/stages/stage.h"

namespace bitrouter::worker {

inline constexpr size_t kMaxModelNameBytes = 256;

class ModelNameStage final : public Stage {
 public:
  std::string_view name() const override { return "model"; }
  unsigned sides() const override { return kRequest; }
  Verdict OnRequest(StageRequest& req) override;
};

}  // namespace bitrouter::worker
