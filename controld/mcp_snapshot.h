#pragma once
// The MCP sections of a config as the snapshot carries them to the workers
// (servers, gateway settings, virtual tools). Stdio servers travel without
// their command: workers reach them through the host's socket only.

#include <string>

#include "bitrouter/v1/control.pb.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

// `stdio_socket`: the stdio host's Unix socket ("" while there is none).
void AddMcp(const config::Config& cfg, const std::string& stdio_socket,
            bitrouter::v1::Snapshot* snap);

}  // namespace bitrouter::controld
