#pragma once
// The per-route view of the node's metrics (GET /v1/metrics, the shape the
// OpenClaw plugin reads): every slot's kRouteRequests / kRouteLatency /
// kEndpointRequests / kEndpointLatency series merged, so whichever worker
// answers sees the node's totals. Read-only, allocates (off the hot path),
// bounded by the table's size. Safe from any process mapping the table.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "shared/node/metrics_table.h"

namespace bitrouter::node {

using LatencyBuckets = std::array<uint64_t, kUpstreamBoundsUs.size() + 1>;  // non-cumulative

struct EndpointStats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  LatencyBuckets latency{};
};

struct RouteStats {
  uint64_t requests = 0;
  uint64_t errors = 0;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t token_samples = 0;     // requests whose tokens were counted
  uint64_t last_used_unix_s = 0;  // 0 = never
  LatencyBuckets latency{};
  std::map<std::string, EndpointStats> endpoints;  // "provider:model"
};

// Route name as requested -> its merged stats.
std::map<std::string, RouteStats> CollectRouteStats(const MetricsTable& table);

// The q-quantile (0 < q < 1) of a histogram over kUpstreamBoundsUs in
// milliseconds, interpolated linearly inside its bucket as Prometheus'
// histogram_quantile does (the first bucket starts at 0; a rank in the
// overflow bucket reads as the last bound). nullopt for an empty histogram.
std::optional<double> QuantileMs(const LatencyBuckets& buckets, double q);

// When the node started (unix ms): bitrouterd's creation of the region, or
// a private table's; 0 when unknown.
uint64_t NodeStartedUnixMs(const MetricsTable& table);

}  // namespace bitrouter::node
