#include "shared/node/metrics_render.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace bitrouter::node {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
using Values = std::array<uint64_t, kSeriesValues>;
using Merged = std::map<std::string, Values>;  // encoded label key -> summed values

struct FamilyText {
  const char* name;
  const char* type;
  const char* help;
};

void Header(std::string* out, const FamilyText& f) {
  absl::StrAppend(out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " ", f.type, "\n");
}

// `names` and `values` pair up; extra is appended as is (e.g. le="0.5").
std::string Labels(std::initializer_list<const char*> names, const std::string_view* values,
                   std::string_view extra = {}) {
  std::string out;
  size_t i = 0;
  for (const char* name : names) {
    absl::StrAppend(&out, out.empty() ? "{" : ",", name, "=\"", EscapeLabelValue(values[i++]),
                    "\"");
  }
  if (!extra.empty()) {
    absl::StrAppend(&out, out.empty() ? "{" : ",", absl::string_view(extra.data(), extra.size()));
  }
  if (!out.empty()) out.push_back('}');
  return out;
}

void Sample(std::string* out, std::string_view name, std::string_view labels,
            std::string_view value) {
  absl::StrAppend(out, absl::string_view(name.data(), name.size()),
                  absl::string_view(labels.data(), labels.size()), " ",
                  absl::string_view(value.data(), value.size()), "\n");
}

// One histogram's samples from non-cumulative `buckets` (bound_count + 1).
void Histogram(std::string* out, std::string_view name, std::initializer_list<const char*> names,
               const std::string_view* values, const uint64_t* buckets, const uint64_t* bounds,
               size_t bound_count, uint64_t sum_us) {
  const std::string n(name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bound_count; ++i) {
    cumulative += buckets[i];
    std::string le = i < bound_count ? FormatMicros(bounds[i]) : "+Inf";
    Sample(out, n + "_bucket", Labels(names, values, absl::StrCat("le=\"", le, "\"")),
           absl::StrCat(cumulative));
  }
  Sample(out, n + "_sum", Labels(names, values), FormatMicros(sum_us));
  Sample(out, n + "_count", Labels(names, values), absl::StrCat(cumulative));
}

template <size_t kBounds>
void SumCells(const HistogramCells<kBounds>& cells, uint64_t* buckets, uint64_t* sum_us) {
  for (size_t i = 0; i <= kBounds; ++i) buckets[i] += cells.buckets[i].load(kRelaxed);
  *sum_us += cells.sum_us.load(kRelaxed);
}

// Calls fn(values, summed) for each merged series whose key decodes.
template <size_t kCount, typename Fn>
void ForEachMerged(const Merged& merged, Fn fn) {
  std::string_view values[kCount];
  for (const auto& [key, summed] : merged) {
    if (DecodeLabelKey(key, values, kCount)) fn(values, summed);
  }
}

void LabeledCounter(std::string* out, const FamilyText& f, const Merged& merged,
                    std::initializer_list<const char*> names) {
  Header(out, f);
  std::string_view values[8];
  for (const auto& [key, summed] : merged) {
    if (!DecodeLabelKey(key, values, static_cast<uint32_t>(names.size()))) continue;
    Sample(out, f.name, Labels(names, values), absl::StrCat(summed[0]));
  }
}

// A counter from one value cell of each merged series (LabeledCounter: cell 0).
void LabeledCell(std::string* out, const FamilyText& f, const Merged& merged,
                 std::initializer_list<const char*> names, size_t cell) {
  Header(out, f);
  std::string_view values[8];
  for (const auto& [key, summed] : merged) {
    if (!DecodeLabelKey(key, values, static_cast<uint32_t>(names.size()))) continue;
    Sample(out, f.name, Labels(names, values), absl::StrCat(summed[cell]));
  }
}

// A histogram over kUpstreamBoundsUs per merged series (its buckets, then
// the sum in microseconds).
template <size_t kLabels>
void UpstreamHistogram(std::string* out, const FamilyText& f, const Merged& merged,
                       std::initializer_list<const char*> names) {
  Header(out, f);
  ForEachMerged<kLabels>(merged, [&](const std::string_view* values, const Values& v) {
    Histogram(out, f.name, names, values, v.data(), kUpstreamBoundsUs.data(),
              kUpstreamBoundsUs.size(), v[kUpstreamBoundsUs.size() + 1]);
  });
}

void ProviderHistogram(std::string* out, const FamilyText& f, const Merged& merged) {
  UpstreamHistogram<1>(out, f, merged, {"provider"});
}

void McpHistogram(std::string* out, const FamilyText& f, const Merged& merged) {
  UpstreamHistogram<2>(out, f, merged, {"server", "method"});
}

// The per-model view that GET /v1/metrics reads (route_stats.h): routed
// requests by the model name as asked ("other" for names the configuration
// does not bound), and by the endpoints they tried. Its last-used time is a
// per-slot maximum, not a counter, so it is left to /v1/metrics.
void ModelFamilies(std::string* out, const Merged& requests, const Merged& latency,
                   const Merged& endpoint_requests, const Merged& endpoint_latency) {
  LabeledCell(out,
              {"bitrouter_model_requests_total", "counter",
               "Routed requests by the model name as requested (a configured route or a "
               "catalog model, else \"other\")."},
              requests, {"model"}, kRouteCount);
  LabeledCell(out,
              {"bitrouter_model_errors_total", "counter",
               "Routed requests answered with a status >= 400, by the model name as requested."},
              requests, {"model"}, kRouteErrors);
  UpstreamHistogram<1>(out,
                       {"bitrouter_model_request_duration_seconds", "histogram",
                        "Routed requests, received to answered, by the model name as requested."},
                       latency, {"model"});
  LabeledCell(out,
              {"bitrouter_model_endpoint_attempts_total", "counter",
               "Endpoints tried for routed requests, by the model name as requested."},
              endpoint_requests, {"model", "provider", "upstream_model"}, kRouteCount);
  LabeledCell(out,
              {"bitrouter_model_endpoint_errors_total", "counter",
               "Endpoint attempts that failed, by the model name as requested."},
              endpoint_requests, {"model", "provider", "upstream_model"}, kRouteErrors);
  UpstreamHistogram<3>(out,
                       {"bitrouter_model_endpoint_duration_seconds", "histogram",
                        "Endpoint attempts, sent to outcome, by the model name as requested."},
                       endpoint_latency, {"model", "provider", "upstream_model"});
}

void UsageFamilies(std::string* out, const Merged& merged) {
  static constexpr std::pair<UsageValue, const char*> kKinds[] = {
      {kPromptTokens, "prompt"},
      {kCompletionTokens, "completion"},
      {kReasoningTokens, "reasoning"},
      {kCacheReadTokens, "cache_read"},
      {kCacheWriteTokens, "cache_write"}};
  Header(out, {"bitrouter_tokens_total", "counter",
               "Tokens of served requests by provider, upstream model and kind (prompt, "
               "completion, reasoning, cache_read, cache_write)."});
  ForEachMerged<2>(merged, [&](const std::string_view* values, const Values& v) {
    for (const auto& [cell, kind] : kKinds) {
      Sample(out, "bitrouter_tokens_total",
             Labels({"provider", "model"}, values, absl::StrCat("kind=\"", kind, "\"")),
             absl::StrCat(v[cell]));
    }
  });
  Header(out, {"bitrouter_cost_usd_total", "counter",
               "Cost of served requests whose price is known, in USD (summed exactly in "
               "micro-USD)."});
  ForEachMerged<2>(merged, [&](const std::string_view* values, const Values& v) {
    Sample(out, "bitrouter_cost_usd_total", Labels({"provider", "model"}, values),
           FormatMicros(v[kCostMicroUsd]));
  });
  Header(out, {"bitrouter_requests_cost_unknown_total", "counter",
               "Served requests whose cost is unknown (a price missing for a non-zero bucket)."});
  ForEachMerged<2>(merged, [&](const std::string_view* values, const Values& v) {
    Sample(out, "bitrouter_requests_cost_unknown_total", Labels({"provider", "model"}, values),
           absl::StrCat(v[kCostUnknown]));
  });
}

void Unlabeled(std::string* out, const FamilyText& f, std::string_view value) {
  Header(out, f);
  Sample(out, f.name, "", value);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatMicros(uint64_t us) {
  std::string out = absl::StrCat(us / 1'000'000);
  uint64_t frac = us % 1'000'000;
  if (frac == 0) return out;
  std::string digits = absl::StrCat(absl::Dec(frac, absl::kZeroPad6));
  digits.erase(digits.find_last_not_of('0') + 1);
  return absl::StrCat(out, ".", digits);
}

std::string RenderPrometheus(const MetricsTable& table, const RenderContext& context) {
  std::string out;
  if (!table.valid()) return out;
  Merged merged[kSeriesFamilies + 1];
  uint64_t overhead[kOverheadBoundsUs.size() + 1] = {}, overhead_sum = 0;
  int64_t connections = 0, streams = 0;
  uint64_t dropped = 0, overflowed = 0, workers = 0;
  std::map<uint64_t, uint64_t> versions;  // worker id -> snapshot version
  for (uint32_t i = 0; i < table.slot_count(); ++i) {
    table.ForEachSeries(i, [&](const MetricSeries& e) {
      uint32_t f = e.family.load(kRelaxed);
      if (f == 0 || f > kSeriesFamilies) return;
      uint32_t len = std::min<uint32_t>(e.key_len.load(kRelaxed), kSeriesKeyBytes);
      Values& v = merged[f][std::string(e.key, len)];
      for (size_t j = 0; j < kSeriesValues; ++j) v[j] += e.values[j].load(kRelaxed);
    });
    const MetricsSlot& s = table.slot(i);
    SumCells(s.overhead, overhead, &overhead_sum);
    dropped += s.usage_records_dropped.load(kRelaxed);
    overflowed += s.series_overflowed.load(kRelaxed);
    if (i == table.daemon_slot() || s.owner_pid.load(kRelaxed) == 0) continue;
    ++workers;
    connections += std::max<int64_t>(0, s.active_connections.load(kRelaxed));
    streams += std::max<int64_t>(0, s.active_streams.load(kRelaxed));
    uint64_t& version = versions[s.worker_id.load(kRelaxed)];
    version = std::max(version, s.snapshot_version.load(kRelaxed));
  }
  out.reserve(4096);

  LabeledCounter(&out,
                 {"bitrouter_requests_total", "counter",
                  "Requests answered, by client protocol, route (\"direct\" when the model named "
                  "no route), serving provider and upstream model (\"none\" when none served), "
                  "HTTP status and whether the answer was streamed."},
                 merged[static_cast<uint32_t>(SeriesFamily::kRequests)],
                 {"client_protocol", "route", "provider", "model", "status", "streamed"});
  LabeledCounter(&out,
                 {"bitrouter_upstream_attempts_total", "counter",
                  "Upstream attempts by provider and outcome."},
                 merged[static_cast<uint32_t>(SeriesFamily::kAttempts)], {"provider", "outcome"});
  LabeledCounter(
      &out,
      {"bitrouter_failovers_total", "counter", "Attempts beyond a request's first, by route."},
      merged[static_cast<uint32_t>(SeriesFamily::kFailovers)], {"route"});
  LabeledCounter(&out,
                 {"bitrouter_guardrail_matches_total", "counter",
                  "Guardrail matches by pattern, direction and action (never the matched text)."},
                 merged[static_cast<uint32_t>(SeriesFamily::kGuardrails)],
                 {"pattern", "direction", "action"});
  LabeledCounter(&out,
                 {"bitrouter_mcp_requests_total", "counter",
                  "MCP requests relayed by the gateway, by server, method and outcome (ok, "
                  "tool_error, rpc_error, timeout, failed, cancelled)."},
                 merged[static_cast<uint32_t>(SeriesFamily::kMcpRequests)],
                 {"server", "method", "outcome"});
  McpHistogram(&out,
               {"bitrouter_mcp_request_duration_seconds", "histogram",
                "MCP requests relayed by the gateway: received to answered, by server and method."},
               merged[static_cast<uint32_t>(SeriesFamily::kMcpLatency)]);
  ProviderHistogram(&out,
                    {"bitrouter_upstream_ttfb_seconds", "histogram",
                     "Serving attempt: request sent to the first byte of the answer."},
                    merged[static_cast<uint32_t>(SeriesFamily::kUpstreamTtfb)]);
  ProviderHistogram(&out,
                    {"bitrouter_upstream_latency_seconds", "histogram",
                     "Serving attempt: request sent to the end of the answer."},
                    merged[static_cast<uint32_t>(SeriesFamily::kUpstreamLatency)]);
  Header(&out, {"bitrouter_router_overhead_seconds", "histogram",
                "Time a request spent in the router itself, upstream waits excluded."});
  Histogram(&out, "bitrouter_router_overhead_seconds", {}, nullptr, overhead,
            kOverheadBoundsUs.data(), kOverheadBoundsUs.size(), overhead_sum);
  UsageFamilies(&out, merged[static_cast<uint32_t>(SeriesFamily::kUsage)]);
  ModelFamilies(&out, merged[static_cast<uint32_t>(SeriesFamily::kRouteRequests)],
                merged[static_cast<uint32_t>(SeriesFamily::kRouteLatency)],
                merged[static_cast<uint32_t>(SeriesFamily::kEndpointRequests)],
                merged[static_cast<uint32_t>(SeriesFamily::kEndpointLatency)]);

  Unlabeled(&out, {"bitrouter_active_connections", "gauge", "Open client connections."},
            absl::StrCat(connections));
  Unlabeled(&out, {"bitrouter_active_streams", "gauge", "Streamed answers in progress."},
            absl::StrCat(streams));
  Header(&out, {"bitrouter_circuit_breaker_state", "gauge",
                "Circuit breaker of each configured endpoint: 0 closed, 1 open, 2 half-open."});
  std::map<std::string_view, const BreakerSample*> breakers;
  for (const BreakerSample& b : context.breakers) breakers.emplace(b.endpoint, &b);
  for (const auto& [id, b] : breakers) {
    const std::string_view values[] = {b->endpoint, b->provider, b->model};
    Sample(&out, "bitrouter_circuit_breaker_state",
           Labels({"endpoint", "provider", "model"}, values),
           absl::StrCat(static_cast<uint32_t>(b->state)));
  }
  Header(&out, {"bitrouter_snapshot_version", "gauge",
                "Configuration snapshot version each live worker serves."});
  for (const auto& [worker, version] : versions) {
    const std::string id = absl::StrCat(worker);
    const std::string_view values[] = {id};
    Sample(&out, "bitrouter_snapshot_version", Labels({"worker"}, values), absl::StrCat(version));
  }
  Unlabeled(&out, {"bitrouter_workers", "gauge", "Live worker processes."}, absl::StrCat(workers));
  Unlabeled(&out,
            {"bitrouter_usage_records_dropped_total", "counter",
             "Usage records dropped because a worker's queue to bitrouterd was full."},
            absl::StrCat(dropped));
  Unlabeled(&out,
            {"bitrouter_metrics_series_overflow_total", "counter",
             "Samples counted under labels \"other\" because a worker's series table was full."},
            absl::StrCat(overflowed));

  const MetricsSlot& daemon = table.slot(table.daemon_slot());
  uint64_t store[kStoreWriteBoundsUs.size() + 1] = {}, store_sum = 0;
  SumCells(daemon.store_write, store, &store_sum);
  Header(&out, {"bitrouter_store_write_seconds", "histogram",
                "Usage store write transactions (batches) by duration."});
  Histogram(&out, "bitrouter_store_write_seconds", {}, nullptr, store, kStoreWriteBoundsUs.data(),
            kStoreWriteBoundsUs.size(), store_sum);
  Unlabeled(&out, {"bitrouter_store_write_errors_total", "counter", "Failed store writes."},
            absl::StrCat(daemon.store_write_errors.load(kRelaxed)));
  Unlabeled(&out,
            {"bitrouter_store_rows_written_total", "counter", "Usage rows written to the store."},
            absl::StrCat(daemon.store_rows_written.load(kRelaxed)));
  Unlabeled(&out,
            {"bitrouter_store_up", "gauge",
             "1 while the store answers; 0 during an outage (requests are still served)."},
            daemon.store_down.load(kRelaxed) != 0 ? "0" : "1");
  Unlabeled(&out,
            {"bitrouter_store_queued_records", "gauge",
             "Usage records bitrouterd holds for the store (bounded; kept through an outage)."},
            absl::StrCat(daemon.store_queued_records.load(kRelaxed)));
  return out;
}

}  // namespace bitrouter::node
