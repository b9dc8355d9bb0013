// /metrics text: valid Prometheus exposition (every sample line parses,
// HELP and TYPE for every family, cumulative histograms with +Inf ==
// _count), exact numbers, escaped label values, and the families that are
// always there.
#include "shared/node/metrics_render.h"

#include <gtest/gtest.h>

#include <string>

#include "shared/node/metrics.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::node {
namespace {

using testing::ParsePrometheusText;
using testing::PromText;

constexpr const char* kAlwaysThere[] = {
    "bitrouter_requests_total",
    "bitrouter_upstream_attempts_total",
    "bitrouter_failovers_total",
    "bitrouter_upstream_ttfb_seconds",
    "bitrouter_upstream_latency_seconds",
    "bitrouter_router_overhead_seconds",
    "bitrouter_tokens_total",
    "bitrouter_cost_usd_total",
    "bitrouter_requests_cost_unknown_total",
    "bitrouter_active_connections",
    "bitrouter_active_streams",
    "bitrouter_circuit_breaker_state",
    "bitrouter_snapshot_version",
    "bitrouter_workers",
    "bitrouter_usage_records_dropped_total",
    "bitrouter_metrics_series_overflow_total",
    "bitrouter_store_write_seconds",
    "bitrouter_store_write_errors_total",
    "bitrouter_store_rows_written_total",
    "bitrouter_store_up",
    "bitrouter_store_queued_records",
};

TEST(MetricsRenderTest, NumbersAreExactDecimals) {
  EXPECT_EQ(FormatMicros(0), "0");
  EXPECT_EQ(FormatMicros(10), "0.00001");
  EXPECT_EQ(FormatMicros(250), "0.00025");
  EXPECT_EQ(FormatMicros(1'000'000), "1");
  EXPECT_EQ(FormatMicros(1'500'000), "1.5");
  EXPECT_EQ(FormatMicros(123'000'456), "123.000456");
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(MetricsRenderTest, AnEmptyTableIsValidWithEveryFamily) {
  auto table = MetricsTable::Private(2, 32);
  std::string text = RenderPrometheus(*table);
  PromText t = ParsePrometheusText(text);
  ASSERT_TRUE(t.ok()) << t.ErrorText() << text;
  for (const char* family : kAlwaysThere) {
    ASSERT_TRUE(t.Has(family)) << family << "\n" << text;
    EXPECT_FALSE(t.families.at(family).help.empty()) << family;
  }
  EXPECT_EQ(t.families.at("bitrouter_requests_total").type, "counter");
  EXPECT_EQ(t.families.at("bitrouter_router_overhead_seconds").type, "histogram");
  EXPECT_EQ(t.families.at("bitrouter_active_connections").type, "gauge");
  EXPECT_EQ(t.Count("bitrouter_requests_total"), 0u);
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 0);
  EXPECT_EQ(t.Count("bitrouter_router_overhead_seconds_bucket"), 14u) << "13 bounds and +Inf";
  EXPECT_EQ(t.Count("bitrouter_store_write_seconds_bucket"), 17u);
  EXPECT_NE(text.find("bitrouter_router_overhead_seconds_bucket{le=\"0.00001\"} 0\n"),
            std::string::npos)
      << "10 us, the first bound";
  EXPECT_NE(text.find("bitrouter_router_overhead_seconds_bucket{le=\"0.1\"} 0\n"),
            std::string::npos);
}

TEST(MetricsRenderTest, HistogramsAreCumulativeAndEndAtTheirCount) {
  WorkerMetrics w;
  int64_t overheads[] = {5, 10, 11, 2'000, 100'000, 100'001, 9'000'000};
  for (int64_t us : overheads) {
    RequestSample s;
    s.client_protocol = "chat";
    s.provider = "p";
    s.model = "m";
    s.status = 200;
    s.overhead_us = us;
    s.upstream_ttfb_us = us * 10;
    s.upstream_latency_us = us * 100;
    w.RecordRequest(s);
  }
  std::string text = RenderPrometheus(w.table());
  PromText t = ParsePrometheusText(text);
  ASSERT_TRUE(t.ok()) << t.ErrorText() << text;
  auto bucket = [&](const char* le) {
    return t.Sum("bitrouter_router_overhead_seconds_bucket", {{"le", le}});
  };
  EXPECT_EQ(bucket("0.00001"), 2) << "le is inclusive";
  EXPECT_EQ(bucket("0.000025"), 3);
  EXPECT_EQ(bucket("0.0025"), 4);
  EXPECT_EQ(bucket("0.1"), 5);
  EXPECT_EQ(bucket("+Inf"), 7);
  EXPECT_EQ(t.Sum("bitrouter_router_overhead_seconds_count"), 7);
  EXPECT_DOUBLE_EQ(t.Sum("bitrouter_router_overhead_seconds_sum"), 9.202027);
  EXPECT_EQ(t.Sum("bitrouter_upstream_ttfb_seconds_bucket", {{"provider", "p"}, {"le", "+Inf"}}),
            7);
  EXPECT_EQ(t.Sum("bitrouter_upstream_latency_seconds_bucket", {{"provider", "p"}, {"le", "300"}}),
            6)
      << "900 s is beyond the last bound";
}

TEST(MetricsRenderTest, LabelValuesAreEscapedAndDefaultsNamed) {
  WorkerMetrics w;
  RequestSample s;
  s.client_protocol = "responses";
  s.route = "quote\"back\\slash\nline";
  s.status = 429;
  s.streamed = true;
  const AttemptSample attempts[] = {{"", ""}};
  s.attempts = attempts;
  w.RecordRequest(s);
  RequestSample unknown_cost;
  unknown_cost.client_protocol = "gemini";
  unknown_cost.provider = "google";
  unknown_cost.status = 200;
  unknown_cost.prompt_tokens = 3;
  w.RecordRequest(unknown_cost);
  RequestSample priced = unknown_cost;
  priced.model = "gemini-2.5-pro";
  priced.cost_micro_usd = 1'234'567;
  w.RecordRequest(priced);

  std::string text = RenderPrometheus(w.table());
  PromText t = ParsePrometheusText(text);
  ASSERT_TRUE(t.ok()) << t.ErrorText() << text;
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"route", "quote\"back\\slash\nline"},
                                               {"provider", "none"},
                                               {"status", "429"},
                                               {"streamed", "true"}}),
            1);
  EXPECT_NE(text.find("route=\"quote\\\"back\\\\slash\\nline\""), std::string::npos) << text;
  EXPECT_EQ(
      t.Sum("bitrouter_upstream_attempts_total", {{"provider", "none"}, {"outcome", "unknown"}}),
      1);
  EXPECT_EQ(
      t.Sum("bitrouter_requests_cost_unknown_total", {{"provider", "google"}, {"model", "none"}}),
      1);
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"route", "direct"}}), 2);
  EXPECT_NE(text.find("bitrouter_cost_usd_total{provider=\"google\",model=\"gemini-2.5-pro\"} "
                      "1.234567\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(t.Count("bitrouter_tokens_total", {{"provider", "google"}}), 10u)
      << "five kinds for each provider and model";
}

TEST(MetricsRenderTest, BreakersFromTheSnapshotOncePerEndpoint) {
  auto table = MetricsTable::Private(1, 32);
  RenderContext context;
  context.breakers = {{"openai/gpt-4o", "openai", "gpt-4o", BreakerState::kOpen},
                      {"anthropic/claude#1", "anthropic", "claude", BreakerState::kHalfOpen},
                      {"openai/gpt-4o", "openai", "gpt-4o", BreakerState::kOpen}};
  PromText t = ParsePrometheusText(RenderPrometheus(*table, context));
  ASSERT_TRUE(t.ok()) << t.ErrorText();
  EXPECT_EQ(t.Count("bitrouter_circuit_breaker_state"), 2u);
  EXPECT_EQ(t.Sum("bitrouter_circuit_breaker_state", {{"endpoint", "openai/gpt-4o"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_circuit_breaker_state", {{"model", "claude"}}), 2);
}

// The checker itself catches what it is there for.
TEST(MetricsRenderTest, TheTextCheckerRejectsBrokenExpositions) {
  EXPECT_FALSE(ParsePrometheusText("x 1\n").ok()) << "no TYPE";
  EXPECT_FALSE(ParsePrometheusText("# HELP x h\n# TYPE x counter\nx{a=\"1} 1\n").ok());
  EXPECT_FALSE(ParsePrometheusText("# HELP x h\n# TYPE x counter\nx 1\nx 2\n").ok());
  EXPECT_FALSE(ParsePrometheusText("# HELP h h\n# TYPE h histogram\n"
                                   "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                                   "h_sum 1\nh_count 1\n")
                   .ok())
      << "not cumulative";
  EXPECT_FALSE(ParsePrometheusText("# HELP h h\n# TYPE h histogram\n"
                                   "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                                   "h_sum 1\nh_count 3\n")
                   .ok())
      << "+Inf != _count";
  EXPECT_TRUE(ParsePrometheusText("# HELP h h\n# TYPE h histogram\n"
                                  "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                                  "h_sum 1\nh_count 2\n")
                  .ok());
}

}  // namespace
}  // namespace bitrouter::node
