#pragma once
// /metrics: the node's metrics table (metrics_table.h) in the Prometheus
// text exposition format 0.0.4. Every slot is summed, so every worker
// renders the same totals; series of one label set in several slots (or
// twice in one) are merged. Families:
//
//   bitrouter_requests_total{client_protocol,route,provider,model,status,streamed}  counter
//   bitrouter_upstream_attempts_total{provider,outcome}                           counter
//   bitrouter_failovers_total{route}                                              counter
//   bitrouter_upstream_ttfb_seconds{provider}, bitrouter_upstream_latency_seconds{provider}
//                                                                                 histograms
//   bitrouter_router_overhead_seconds                                             histogram
//   bitrouter_tokens_total{provider,model,kind}                                   counter
//   bitrouter_cost_usd_total{provider,model}  (exact decimal of the micro-USD sum) counter
//   bitrouter_requests_cost_unknown_total{provider,model}                         counter
//   bitrouter_active_connections, bitrouter_active_streams                        gauges
//   bitrouter_circuit_breaker_state{endpoint,provider,model}  (0/1/2)             gauge
//   bitrouter_snapshot_version{worker}, bitrouter_workers                         gauges
//   bitrouter_usage_records_dropped_total, bitrouter_metrics_series_overflow_total counters
//   bitrouter_store_write_seconds                                                 histogram
//   bitrouter_store_write_errors_total, bitrouter_store_rows_written_total        counters
//
// Every family always has its HELP and TYPE lines; unlabeled ones always
// have a sample (0 when nothing happened). Histogram buckets are cumulative
// and +Inf equals _count by construction, even while writers race the
// render. Allocates (a scrape is off the hot path), bounded by the table's
// size. Read-only: safe from any process mapping the table.

#include <string>
#include <string_view>
#include <vector>

#include "shared/node/health_table.h"
#include "shared/node/metrics_table.h"

namespace bitrouter::node {

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// One endpoint's breaker, as the rendering process's snapshot names it.
struct BreakerSample {
  std::string endpoint;  // the endpoint's stable id (routing::TargetId)
  std::string provider;
  std::string model;
  BreakerState state = BreakerState::kClosed;
};

// What only the rendering process knows (from its snapshot).
struct RenderContext {
  std::vector<BreakerSample> breakers;
};

std::string RenderPrometheus(const MetricsTable& table, const RenderContext& context = {});

// A label value as the exposition format wants it: \ " and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// A count of millionths (microseconds, micro-USD) as an exact decimal of
// the unit ("0.00025", "3").
std::string FormatMicros(uint64_t us);

}  // namespace bitrouter::node
