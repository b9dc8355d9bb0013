#pragma once
// The classified-routing sections of a config (`routing:` rules and
// compat.llmrouter) as the snapshot carries them to the workers.

#include "bitrouter/v1/control.pb.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

void AddContentRouting(const config::Config& cfg, bitrouter::v1::Snapshot* snap);

}  // namespace bitrouter::controld
