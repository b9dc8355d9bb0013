#include "shared/node/route_stats.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace bitrouter::node {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void AddBuckets(const MetricSeries& e, LatencyBuckets* out) {
  for (size_t i = 0; i < out->size(); ++i) (*out)[i] += e.values[i].load(kRelaxed);
}

}  // namespace

std::map<std::string, RouteStats> CollectRouteStats(const MetricsTable& table) {
  std::map<std::string, RouteStats> out;
  if (!table.valid()) return out;
  for (uint32_t slot = 0; slot < table.slot_count(); ++slot) {
    table.ForEachSeries(slot, [&](const MetricSeries& e) {
      const auto family = static_cast<SeriesFamily>(e.family.load(kRelaxed));
      const bool route_level =
          family == SeriesFamily::kRouteRequests || family == SeriesFamily::kRouteLatency;
      const bool endpoint_level =
          family == SeriesFamily::kEndpointRequests || family == SeriesFamily::kEndpointLatency;
      if (!route_level && !endpoint_level) return;
      const uint32_t len = std::min<uint32_t>(e.key_len.load(kRelaxed), kSeriesKeyBytes);
      std::string_view labels[3];
      if (!DecodeLabelKey(std::string_view(e.key, len), labels, LabelCount(family))) return;
      RouteStats& route = out[std::string(labels[0])];
      if (family == SeriesFamily::kRouteRequests) {
        route.requests += e.values[kRouteCount].load(kRelaxed);
        route.errors += e.values[kRouteErrors].load(kRelaxed);
        route.prompt_tokens += e.values[kRoutePromptTokens].load(kRelaxed);
        route.completion_tokens += e.values[kRouteCompletionTokens].load(kRelaxed);
        route.token_samples += e.values[kRouteTokenSamples].load(kRelaxed);
        route.last_used_unix_s =
            std::max(route.last_used_unix_s, e.values[kRouteLastUsedUnixS].load(kRelaxed));
        return;
      }
      if (family == SeriesFamily::kRouteLatency) return AddBuckets(e, &route.latency);
      EndpointStats& ep =
          route.endpoints[absl::StrCat(std::string(labels[1]), ":", std::string(labels[2]))];
      if (family == SeriesFamily::kEndpointLatency) return AddBuckets(e, &ep.latency);
      ep.requests += e.values[kRouteCount].load(kRelaxed);
      ep.errors += e.values[kRouteErrors].load(kRelaxed);
    });
  }
  return out;
}

std::optional<double> QuantileMs(const LatencyBuckets& buckets, double q) {
  uint64_t total = 0;
  for (uint64_t n : buckets) total += n;
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < kUpstreamBoundsUs.size(); ++i) {
    const uint64_t in = buckets[i];
    if (in > 0 && static_cast<double>(below + in) >= rank) {
      const double lower = i == 0 ? 0.0 : static_cast<double>(kUpstreamBoundsUs[i - 1]);
      const double upper = static_cast<double>(kUpstreamBoundsUs[i]);
      const double into = (rank - static_cast<double>(below)) / static_cast<double>(in);
      return (lower + (upper - lower) * std::clamp(into, 0.0, 1.0)) / 1000.0;
    }
    below += in;
  }
  return static_cast<double>(kUpstreamBoundsUs.back()) / 1000.0;
}

uint64_t NodeStartedUnixMs(const MetricsTable& table) {
  if (!table.valid()) return 0;
  return table.slot(table.daemon_slot()).node_started_unix_ms.load(kRelaxed);
}

}  // namespace bitrouter::node
