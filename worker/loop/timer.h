#pragma once
// The worker's one-shot timer: shared/common/one_shot_timer.h.

#include "shared/common/one_shot_timer.h"

namespace bitrouter::worker {
using OneShotTimer = bitrouter::OneShotTimer;
}  // namespace bitrouter::worker
