#pragma once
// Builds the workers' Snapshot from a validated Config: only active providers
// travel (inactive ones are explained by `status`, never routed to).

#include <map>
#include <string>

#include "bitrouter/v1/control.pb.h"
#include "shared/config/config.h"

namespace bitrouter::controld {

// Runtime routes (bitrouterctl route add) travel with runtime = true and
// shadow config routes of the same name. `mcp_host_socket`: where workers
// reach the stdio MCP servers ("" = nowhere).
bitrouter::v1::Snapshot BuildSnapshot(
    const config::Config& cfg, const std::string& listen,
    const std::map<std::string, config::VirtualModel>& runtime_routes = {},
    const std::string& mcp_host_socket = "");

}  // namespace bitrouter::controld
