#pragma once
// The node-level JSON endpoints the OpenClaw plugin polls (research brief
// A.3), answered by the server before the dispatcher, like /health: open
// without a key even when keys are required (the plugin's sync probe sends
// none), GET and HEAD only (405 with Allow otherwise).
//
//   GET /v1/routes   {"routes":[{"model","provider","protocol"}]}: every route
//                    the snapshot serves (config `models:` and runtime
//                    routes), sorted by model; provider = the first
//                    endpoint's, protocol "openai" | "anthropic" | "google".
//   GET /v1/metrics  {"uptime_seconds","routes":{...}}: the per-route view of
//                    the node's shared metrics table (shared/node/route_stats.h),
//                    so every worker answers the same numbers.
//   GET /v1/agents   {"agents":[]}
//   GET /v1/skills   {"skills":[]}
//
// Loop thread only.

#include <string>

#include "worker/http/http_connection.h"
#include "worker/http/server.h"

namespace bitrouter::worker {

// True when the request was for one of the endpoints above (it is answered).
bool HandlePluginEndpoint(Server& server, HttpConnection* conn);

// The bodies, for tests.
std::string RenderRoutes(const WorkerSnapshot& snapshot);
std::string RenderRouteMetrics(const node::MetricsTable& table, int64_t now_unix_ms);

}  // namespace bitrouter::worker
