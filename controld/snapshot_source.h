#pragma once
// Builds the workers' Snapshot from a validated Config: only active providers
// travel (inactive ones are explained by `status`, never routed to).

#include <string>

#include "bitrouter/v1/control.pb.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

bitrouter::v1::Snapshot BuildSnapshot(const config::Config& cfg, const std::string& listen);

}  // namespace bitrouter::controld
