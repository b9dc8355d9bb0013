#pragma once
// The MCP host's one-shot timer: shared/common/one_shot_timer.h.

#include "shared/common/one_shot_timer.h"

namespace bitrouter::mcphost {
using Timer = bitrouter::OneShotTimer;
}  // namespace bitrouter::mcphost
