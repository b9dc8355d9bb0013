#include "shared/node/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace bitrouter::node {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
// A process without the region keeps its own small table.
constexpr uint32_t kPrivateSeries = 256;

uint64_t NonNegative(int64_t v) { return v > 0 ? static_cast<uint64_t>(v) : 0; }

std::string_view Or(std::string_view v, std::string_view fallback) {
  return v.empty() ? fallback : v;
}

LabelKey Key(std::initializer_list<std::string_view> values) {
  LabelKey key;
  for (std::string_view v : values) key.Add(v);
  return key;
}

}  // namespace

WorkerMetrics::WorkerMetrics()
    : private_(MetricsTable::Private(1, kPrivateSeries)), table_(private_.get()) {
  slot_ = table_->ClaimWorkerSlot(0, getpid(), &slot_shared_);
}

WorkerMetrics::~WorkerMetrics() = default;

bool WorkerMetrics::UseShared(const NodeShm& shm, uint32_t worker_id, pid_t self) {
  auto table = std::make_unique<MetricsTable>(shm);
  if (!table->valid()) return false;
  shared_ = std::move(table);
  table_ = shared_.get();
  private_.reset();
  slot_ = table_->ClaimWorkerSlot(worker_id, self != 0 ? self : getpid(), &slot_shared_);
  return true;
}

void WorkerMetrics::Add(SeriesFamily family, const LabelKey& key, uint32_t value, uint64_t n) {
  table_->Series(slot_, family, key).values[value].fetch_add(n, kRelaxed);
}

void WorkerMetrics::RecordRequest(const RequestSample& s) {
  const std::string_view route = Or(s.route, "direct");
  const std::string_view provider = Or(s.provider, "none");
  char status[16];
  auto [end, ec] = std::to_chars(status, status + sizeof(status), s.status);
  const std::string_view status_text(status, ec == std::errc() ? end - status : 0);

  Add(SeriesFamily::kRequests,
      Key({Or(s.client_protocol, "unknown"), route, provider, Or(s.model, "none"), status_text,
           s.streamed ? "true" : "false"}),
      0, 1);
  for (const AttemptSample& a : s.attempts) {
    Add(SeriesFamily::kAttempts, Key({Or(a.provider, "none"), Or(a.outcome, "unknown")}), 0, 1);
  }
  if (s.failovers > 0) {
    Add(SeriesFamily::kFailovers, Key({route}), 0, static_cast<uint64_t>(s.failovers));
  }
  if (!s.requested.empty()) RecordRoute(s);
  MetricsSlot& slot = slot_state();
  Observe(slot.overhead, kOverheadBoundsUs, NonNegative(s.overhead_us));
  if (s.provider.empty()) return;  // nothing served: no upstream timing, no usage

  const LabelKey by_provider = Key({provider});
  if (s.upstream_ttfb_us) {
    MetricSeries& ttfb = table_->Series(slot_, SeriesFamily::kUpstreamTtfb, by_provider);
    Observe(ttfb.values, ttfb.values[kUpstreamBoundsUs.size() + 1], kUpstreamBoundsUs.data(),
            kUpstreamBoundsUs.size(), NonNegative(*s.upstream_ttfb_us));
  }
  MetricSeries& latency = table_->Series(slot_, SeriesFamily::kUpstreamLatency, by_provider);
  Observe(latency.values, latency.values[kUpstreamBoundsUs.size() + 1], kUpstreamBoundsUs.data(),
          kUpstreamBoundsUs.size(), NonNegative(s.upstream_latency_us));

  MetricSeries& usage =
      table_->Series(slot_, SeriesFamily::kUsage, Key({provider, Or(s.model, "none")}));
  auto add = [&](UsageValue v, int64_t n) {
    if (n > 0) usage.values[v].fetch_add(static_cast<uint64_t>(n), kRelaxed);
  };
  add(kPromptTokens, s.prompt_tokens);
  add(kCompletionTokens, s.completion_tokens);
  add(kReasoningTokens, s.reasoning_tokens);
  add(kCacheReadTokens, s.cache_read_tokens);
  add(kCacheWriteTokens, s.cache_write_tokens);
  if (s.cost_micro_usd) {
    add(kCostMicroUsd, *s.cost_micro_usd);
  } else {
    usage.values[kCostUnknown].fetch_add(1, kRelaxed);
  }
}

void WorkerMetrics::RecordRoute(const RequestSample& s) {
  constexpr size_t kHistogramSum = kUpstreamBoundsUs.size() + 1;
  MetricSeries& route = table_->Series(slot_, SeriesFamily::kRouteRequests, Key({s.requested}));
  route.values[kRouteCount].fetch_add(1, kRelaxed);
  if (s.status >= 400) route.values[kRouteErrors].fetch_add(1, kRelaxed);
  if (s.tokens_counted) {
    route.values[kRoutePromptTokens].fetch_add(NonNegative(s.prompt_tokens), kRelaxed);
    route.values[kRouteCompletionTokens].fetch_add(NonNegative(s.completion_tokens), kRelaxed);
    route.values[kRouteTokenSamples].fetch_add(1, kRelaxed);
  }
  // A max, not a sum: every slot holds its own latest, the reader takes the largest.
  std::atomic<uint64_t>& last = route.values[kRouteLastUsedUnixS];
  const uint64_t now = NonNegative(s.finished_unix_s);
  uint64_t seen = last.load(kRelaxed);
  while (seen < now && !last.compare_exchange_weak(seen, now, kRelaxed)) {
  }
  MetricSeries& latency = table_->Series(slot_, SeriesFamily::kRouteLatency, Key({s.requested}));
  Observe(latency.values, latency.values[kHistogramSum], kUpstreamBoundsUs.data(),
          kUpstreamBoundsUs.size(), NonNegative(s.total_latency_us));
  for (const EndpointSample& e : s.endpoints) {
    const LabelKey key = Key({s.requested, Or(e.provider, "none"), Or(e.model, "none")});
    MetricSeries& ep = table_->Series(slot_, SeriesFamily::kEndpointRequests, key);
    ep.values[kRouteCount].fetch_add(1, kRelaxed);
    if (e.error) ep.values[kRouteErrors].fetch_add(1, kRelaxed);
    MetricSeries& ep_latency = table_->Series(slot_, SeriesFamily::kEndpointLatency, key);
    Observe(ep_latency.values, ep_latency.values[kHistogramSum], kUpstreamBoundsUs.data(),
            kUpstreamBoundsUs.size(), NonNegative(e.latency_us));
  }
}

void WorkerMetrics::ConnectionOpened() { slot_state().active_connections.fetch_add(1, kRelaxed); }
void WorkerMetrics::ConnectionClosed() { slot_state().active_connections.fetch_sub(1, kRelaxed); }
void WorkerMetrics::StreamStarted() { slot_state().active_streams.fetch_add(1, kRelaxed); }
void WorkerMetrics::StreamEnded() { slot_state().active_streams.fetch_sub(1, kRelaxed); }

void WorkerMetrics::SetSnapshotVersion(uint64_t version) {
  slot_state().snapshot_version.store(version, kRelaxed);
}

void WorkerMetrics::GuardrailMatch(std::string_view pattern, std::string_view direction,
                                   std::string_view action) {
  Add(SeriesFamily::kGuardrails, Key({pattern, direction, action}), 0, 1);
}

void WorkerMetrics::McpRequest(std::string_view server, std::string_view method,
                               std::string_view outcome, int64_t latency_us) {
  Add(SeriesFamily::kMcpRequests, Key({server, method, outcome}), 0, 1);
  MetricSeries& latency = table_->Series(slot_, SeriesFamily::kMcpLatency, Key({server, method}));
  Observe(latency.values, latency.values[kUpstreamBoundsUs.size() + 1], kUpstreamBoundsUs.data(),
          kUpstreamBoundsUs.size(), NonNegative(latency_us));
}

void WorkerMetrics::UsageRecordsDropped(uint64_t n) {
  slot_state().usage_records_dropped.fetch_add(n, kRelaxed);
}

DaemonMetrics::DaemonMetrics(const NodeShm* shm) {
  if (shm != nullptr) {
    auto table = std::make_unique<MetricsTable>(*shm);
    if (table->valid()) shared_ = std::move(table);
  }
  if (shared_ == nullptr) private_ = MetricsTable::Private(1, 2 * kSeriesFamilies);
  table_ = shared_ != nullptr ? shared_.get() : private_.get();
}

DaemonMetrics::~DaemonMetrics() = default;

void DaemonMetrics::StoreHealth(bool up, uint64_t queued_records) {
  MetricsSlot& slot = table_->slot(table_->daemon_slot());
  slot.store_down.store(up ? 0 : 1, kRelaxed);
  slot.store_queued_records.store(queued_records, kRelaxed);
}

void DaemonMetrics::StoreWrite(bool ok, int64_t rows, int64_t latency_us) {
  MetricsSlot& slot = table_->slot(table_->daemon_slot());
  Observe(slot.store_write, kStoreWriteBoundsUs, NonNegative(latency_us));
  if (ok) {
    slot.store_rows_written.fetch_add(NonNegative(rows), kRelaxed);
  } else {
    slot.store_write_errors.fetch_add(1, kRelaxed);
  }
}

}  // namespace bitrouter::node
