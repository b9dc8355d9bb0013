#pragma once
// Builds the RouteTable from a control-plane Snapshot. Used by the worker
// (when a snapshot arrives, off the loop) and by bitrouterd (route trace),
// so both resolve names the same way.

#include "shared/routing/route_table.h"

namespace bitrouter::v1 {
class Snapshot;
}

namespace bitrouter::routing {

// Snapshots carry only active providers; `inactive` adds the others (name →
// reason) so resolution can say why a provider was not used.
RouteTable BuildRouteTable(const bitrouter::v1::Snapshot& snapshot,
                           const std::map<std::string, std::string>& inactive = {});

}  // namespace bitrouter::routing
