#pragma once
// GET /metrics: the node's metrics in the Prometheus text format
// (shared/node/metrics_render.h). The counters come from the node region's
// table, which every worker shares, so whichever worker answers renders the
// same totals; the circuit-breaker gauges come from the shared health table
// for the endpoints this worker's snapshot configures. Loop thread only.

#include "shared/node/metrics_render.h"
#include "worker/http/http_connection.h"
#include "worker/http/server.h"

namespace bitrouter::worker {

// The breaker state of every endpoint the snapshot configures (each route's
// endpoints, each active provider's catalog models), bounded.
std::vector<node::BreakerSample> SnapshotBreakers(const WorkerSnapshot& snapshot,
                                                  const routing::EndpointHealth& health,
                                                  uint64_t now_ms);

// Answers GET/HEAD /metrics (405 for other methods).
void HandleMetrics(Server& server, HttpConnection* conn);

}  // namespace bitrouter::worker
