// The per-route view of the node's metrics (GET /v1/metrics): two workers'
// slots of one region merge into one set of route and endpoint stats, the
// last-used time is the latest (not a sum), and quantiles interpolate inside
// the histogram buckets.
#include "shared/node/route_stats.h"

#include <gtest/gtest.h>

#include "shared/common/wall_clock.h"
#include "shared/node/metrics.h"
#include "shared/node/node_shm.h"

namespace bitrouter::node {
namespace {

RequestSample RouteSample(std::string_view requested, int status, int64_t latency_us,
                          int64_t finished_unix_s, std::span<const EndpointSample> endpoints) {
  RequestSample s;
  s.client_protocol = "chat";
  s.route = requested;
  s.provider = "openai";
  s.model = "gpt-4o";
  s.status = status;
  s.upstream_latency_us = latency_us;
  s.prompt_tokens = 10;
  s.completion_tokens = 4;
  s.cost_micro_usd = 0;
  s.requested = requested;
  s.endpoints = endpoints;
  s.total_latency_us = latency_us;
  s.tokens_counted = status < 400;
  s.finished_unix_s = finished_unix_s;
  return s;
}

TEST(RouteStats, WorkersMergeIntoOneViewOfTheNode) {
  auto region = NodeShm::Create(
      {.health_slots = 16, .metrics_worker_slots = 4, .metrics_series_per_slot = 64});
  ASSERT_TRUE(region.ok()) << region.status();
  WorkerMetrics a, b;
  ASSERT_TRUE(a.UseShared(**region, 0, 1001));
  ASSERT_TRUE(b.UseShared(**region, 1, 1002));
  const EndpointSample failed[] = {{"openai", "m-broken", true, 40'000},
                                   {"openai", "m-good", false, 120'000}};
  const EndpointSample ok[] = {{"openai", "m-good", false, 120'000}};
  a.RecordRequest(RouteSample("smart", 200, 130'000, 2000, failed));
  b.RecordRequest(RouteSample("smart", 200, 140'000, 1500, ok));
  b.RecordRequest(RouteSample("smart", 502, 60'000, 1800, {}));
  a.RecordRequest(RouteSample("", 404, 0, 1900, {}));  // not routed: no route view

  auto stats = CollectRouteStats(a.table());
  ASSERT_EQ(stats.size(), 1u);
  const RouteStats& smart = stats.at("smart");
  EXPECT_EQ(smart.requests, 3u);
  EXPECT_EQ(smart.errors, 1u);
  EXPECT_EQ(smart.token_samples, 2u);
  EXPECT_EQ(smart.prompt_tokens, 20u);
  EXPECT_EQ(smart.completion_tokens, 8u);
  EXPECT_EQ(smart.last_used_unix_s, 2000u);  // the latest, across slots
  ASSERT_EQ(smart.endpoints.size(), 2u);
  EXPECT_EQ(smart.endpoints.at("openai:m-broken").requests, 1u);
  EXPECT_EQ(smart.endpoints.at("openai:m-broken").errors, 1u);
  EXPECT_EQ(smart.endpoints.at("openai:m-good").requests, 2u);
  EXPECT_EQ(smart.endpoints.at("openai:m-good").errors, 0u);
  // 60 ms, 130 ms, 140 ms: the median ranks 1.5 of 3 -> inside (100, 250] ms.
  auto p50 = QuantileMs(smart.latency, 0.5);
  ASSERT_TRUE(p50);
  EXPECT_GT(*p50, 100.0);
  EXPECT_LE(*p50, 250.0);
  // Uptime dates from the region's creation.
  const uint64_t started = NodeStartedUnixMs(a.table());
  EXPECT_GT(started, 0u);
  EXPECT_LE(started, static_cast<uint64_t>(UnixMillis()));
}

TEST(RouteStats, QuantilesInterpolateInsideBuckets) {
  LatencyBuckets b{};
  EXPECT_FALSE(QuantileMs(b, 0.5));
  b[0] = 4;  // four in (0, 50] ms
  EXPECT_DOUBLE_EQ(*QuantileMs(b, 0.5), 25.0);
  b[1] = 4;  // four in (50, 100] ms
  EXPECT_DOUBLE_EQ(*QuantileMs(b, 0.5), 50.0);
  EXPECT_DOUBLE_EQ(*QuantileMs(b, 0.75), 75.0);
  LatencyBuckets over{};
  over[kUpstreamBoundsUs.size()] = 1;  // above the last bound: reads as the last bound
  EXPECT_DOUBLE_EQ(*QuantileMs(over, 0.99), 300'000.0);
}

TEST(RouteStats, APrivateTableIsItsOwnNode) {
  WorkerMetrics m;  // no region
  EXPECT_GT(NodeStartedUnixMs(m.table()), 0u);
}

}  // namespace
}  // namespace bitrouter::node
