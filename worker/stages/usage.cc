#include "worker/stages/usage.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"
#include "shared/common/wall_clock.h"
#include "worker/stages/actual_cost.h"
#include "worker/stages/classify/classify_stage.h"
#include "worker/usage/outbox.h"

namespace bitrouter::worker {
namespace {

const char* FailureName(routing::Attempt::Kind k) {
  using Kind = routing::Attempt::Kind;
  switch (k) {
    case Kind::kStatus:
      return "";
    case Kind::kTimeout:
      return "timeout";
    case Kind::kConnect:
      return "connect";
    case Kind::kTls:
      return "tls";
    case Kind::kReset:
      return "reset";
    case Kind::kInvalidBody:
      return "invalid_body";
    case Kind::kSkipped:
      return "skipped";
  }
  return "";
}

// The name as asked, bounded: a refused name can be as long as a body.
constexpr size_t kMaxModelName = 256;
std::string BoundedModel(const std::string& model) {
  return model.size() <= kMaxModelName ? model : model.substr(0, kMaxModelName);
}

// The attempt's outcome as a metrics label (a fixed set).
std::string_view AttemptOutcome(const routing::Attempt& a) {
  if (a.kind == routing::Attempt::Kind::kStatus) {
    if (a.status == 429) return "rate_limited";
    if (a.status == 400 && a.detail == "context length exceeded") return "context_length";
    return a.status >= 500 ? "status_5xx" : "status_4xx";
  }
  return FailureName(a.kind);
}

// A catalog (or priced) model of the provider: a name from the snapshot.
bool KnownModel(const WorkerSnapshot& snapshot, std::string_view provider,
                std::string_view model_id) {
  const ProviderRuntime* p = snapshot.FindProvider(provider);
  return p != nullptr &&
         (p->pricing.find(model_id) != p->pricing.end() ||
          std::find(p->models.begin(), p->models.end(), model_id) != p->models.end());
}

}  // namespace

// A hit's pattern name: a rule's, or "tool_policy"; empty when unknown.
static std::string_view HitName(const WorkerSnapshot& snapshot, const GuardHit& h) {
  if (h.rule == GuardHit::kToolPolicy) return "tool_policy";
  if (snapshot.guard == nullptr || h.rule >= snapshot.guard->rules().size()) return {};
  return snapshot.guard->rules()[h.rule].name;
}

// "pattern:action:direction" for each distinct hit, in order of first match.
static std::string GuardHitsText(const WorkerSnapshot& snapshot, const InboundCall& call) {
  std::string out;
  for (size_t i = 0; i < call.guard_hits.size(); ++i) {
    const GuardHit& h = call.guard_hits[i];
    std::string_view name = HitName(snapshot, h);
    if (name.empty()) continue;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) {
      const GuardHit& p = call.guard_hits[j];
      seen = p.rule == h.rule && p.direction == h.direction && p.action == h.action;
    }
    if (seen) continue;
    absl::StrAppend(&out, out.empty() ? "" : ",", AV(name), ":",
                    AV(guardrails::ActionName(h.action)), ":",
                    AV(guardrails::DirectionName(h.direction)));
  }
  return out;
}

usage::UsageRecord BuildUsageRecord(const InboundRequest& request, const InboundCall& call,
                                    const WorkerSnapshot& snapshot, const CallReport& report) {
  usage::UsageRecord r;
  r.request_id = request.request_id;
  r.time_unix_ms = report.time_unix_ms;
  r.client_protocol = std::string(protocol::ProtocolName(call.client));
  r.model_requested = BoundedModel(call.model);
  if (call.key != nullptr) r.key_id = call.key->id;
  if (report.attempts != nullptr) {
    r.attempts.reserve(report.attempts->size() + 1);
    for (const routing::Attempt& a : *report.attempts) {
      r.attempts.push_back({a.endpoint, a.kind == routing::Attempt::Kind::kStatus ? a.status : 0,
                            FailureName(a.kind), a.latency_us});
    }
  }
  const routing::Target* served = report.served;
  if (served != nullptr) {
    r.provider = served->provider;
    r.upstream_model = served->model_id;
    r.upstream_protocol = std::string(protocol::ProtocolName(report.served_protocol));
    r.attempts.push_back({absl::StrCat(served->provider, ":", served->model_id),
                          report.served_status, "", report.upstream_latency_us});
  }
  r.guardrails = GuardHitsText(snapshot, call);
  r.route_category = call.route_category;
  r.route_model = !report.route_model.empty() ? std::string(report.route_model)
                                              : std::string(RouteModel(call, SIZE_MAX));
  r.final_status = report.final_status;
  r.streamed = report.streamed;
  r.bytes_in = report.bytes_in;
  r.bytes_out = report.bytes_out;
  r.time_to_first_byte_us = report.ttfb_us;
  r.total_latency_us = report.total_latency_us;
  r.router_overhead_us = report.overhead_us;
  r.usage_origin =
      report.usage_estimated ? usage::UsageOrigin::kEstimated : usage::UsageOrigin::kProvider;
  if (!report.usage) {
    r.cost_micro_usd = 0;  // nothing was spent
    return r;
  }
  const protocol::Usage& u = *report.usage;
  r.prompt_tokens = u.prompt_tokens;
  r.completion_tokens = u.completion_tokens;
  r.reasoning_tokens = u.reasoning_tokens.value_or(0);
  r.cache_read_tokens = u.cache_read_tokens.value_or(0);
  r.cache_write_tokens = u.cache_write_tokens.value_or(0);
  r.cost_micro_usd = ActualCostMicroUsd(snapshot, report, UnpricedModel::kPriceEachBucket);
  return r;
}

// The record and the metrics of one request, however it ended.
static void Emit(Server& server, const WorkerSnapshot& snapshot, const InboundRequest& request,
                 const InboundCall& call, const CallReport& report) {
  usage::UsageRecord record = BuildUsageRecord(request, call, snapshot, report);
  RecordMetrics(server.metrics(), snapshot, report, record);
  for (const GuardHit& h : call.guard_hits) {
    std::string_view name = HitName(snapshot, h);
    if (name.empty()) continue;
    server.metrics().GuardrailMatch(name, guardrails::DirectionName(h.direction),
                                    guardrails::ActionName(h.action));
  }
  UsageOutbox* outbox = server.usage_outbox();
  if (outbox != nullptr && !outbox->Push(std::move(record)))
    server.metrics().UsageRecordsDropped(1);
}

void UsageStage::OnResponseEnd(StageResponse& resp, bool /*ok*/) {
  if (!resp.snapshot().limits.metering || resp.server() == nullptr) return;
  Emit(*resp.server(), resp.snapshot(), resp.request(), resp.call(), resp.report());
}

void RecordMetrics(node::WorkerMetrics& metrics, const WorkerSnapshot& snapshot,
                   const CallReport& report, const usage::UsageRecord& record) {
  // Labels come from the snapshot only (provider names, catalog model ids,
  // configured route names), never from what a client typed.
  constexpr size_t kMaxSamples = 16;
  std::array<node::AttemptSample, kMaxSamples> samples;
  size_t n = 0;
  int tried = 0;
  if (report.attempts != nullptr) {
    for (const routing::Attempt& a : *report.attempts) {
      if (a.kind != routing::Attempt::Kind::kSkipped) ++tried;
      if (n == kMaxSamples) continue;
      std::string_view ep = a.endpoint;
      samples[n++] = {ep.substr(0, ep.find(':')), AttemptOutcome(a)};
    }
  }
  // Endpoints tried, for the per-route view (/v1/metrics).
  std::array<node::EndpointSample, kMaxSamples> endpoints;
  size_t tried_n = 0;
  bool catalog_model = false;  // some endpoint's model is a catalog id
  // A configured route's endpoints are names from the configuration; so is a
  // classified request's trigger (the name it is counted under).
  const bool configured_route = !report.route.empty() || !record.route_category.empty();
  // A direct name (`gpt-4o`, `openai:gpt-4o`, `openai/gpt-4o`) is counted
  // under its endpoint's canonical `provider:model_id`, so spellings cannot
  // multiply the series.
  std::string canonical;
  auto endpoint = [&](std::string_view provider, std::string_view model_id, bool error,
                      int64_t latency_us) {
    const bool known = configured_route || KnownModel(snapshot, provider, model_id);
    if (known && !configured_route && canonical.empty()) {
      canonical = absl::StrCat(std::string(provider), ":", std::string(model_id));
    }
    catalog_model = catalog_model || known;
    if (tried_n < kMaxSamples) {
      endpoints[tried_n++] = {provider, known ? model_id : std::string_view("other"), error,
                              latency_us};
    }
    return known;
  };
  if (report.attempts != nullptr) {
    for (const routing::Attempt& a : *report.attempts) {
      std::string_view ep = a.endpoint;
      size_t colon = ep.find(':');
      if (a.kind == routing::Attempt::Kind::kSkipped || colon == std::string_view::npos) continue;
      // A pooled key's attempt is named "provider:model (key N)": one endpoint.
      std::string_view model_id = ep.substr(colon + 1);
      if (size_t key = model_id.rfind(" (key "); key != std::string_view::npos) {
        model_id = model_id.substr(0, key);
      }
      endpoint(ep.substr(0, colon), model_id, true, a.latency_us);
    }
  }
  std::string_view model;
  if (report.served != nullptr) {
    ++tried;
    if (n < kMaxSamples) samples[n++] = {report.served->provider, "ok"};
    const bool known = endpoint(report.served->provider, report.served->model_id,
                                report.served_status >= 400, report.upstream_latency_us);
    model = known ? std::string_view(report.served->model_id) : std::string_view("other");
  }
  node::RequestSample s;
  s.client_protocol = record.client_protocol;
  s.route = report.route;
  s.provider = record.provider;
  s.model = model;
  s.status = record.final_status;
  s.streamed = record.streamed;
  s.attempts = std::span<const node::AttemptSample>(samples.data(), n);
  s.failovers = tried > 1 ? tried - 1 : 0;
  s.upstream_ttfb_us = report.upstream_ttfb_us;
  s.upstream_latency_us = report.upstream_latency_us;
  s.overhead_us = record.router_overhead_us;
  s.prompt_tokens = record.prompt_tokens;
  s.completion_tokens = record.completion_tokens;
  s.reasoning_tokens = record.reasoning_tokens;
  s.cache_read_tokens = record.cache_read_tokens;
  s.cache_write_tokens = record.cache_write_tokens;
  s.cost_micro_usd = record.cost_micro_usd;
  // The name as requested keys the per-route view only when the snapshot
  // bounds it: a configured route, or a name that reached a catalog model
  // (any direct `p:model-text` would otherwise claim a series per spelling).
  const bool routed = report.served != nullptr || tried_n > 0 ||
                      (report.attempts != nullptr && !report.attempts->empty());
  if (routed) {
    s.requested = configured_route ? std::string_view(record.model_requested)
                  : catalog_model  ? std::string_view(canonical)
                                   : std::string_view("other");
  }
  s.endpoints = std::span<const node::EndpointSample>(endpoints.data(), tried_n);
  s.total_latency_us = report.total_latency_us;
  s.tokens_counted = report.usage.has_value();
  s.finished_unix_s = (report.time_unix_ms + report.total_latency_us / 1000) / 1000;
  metrics.RecordRequest(s);
}

void RecordUnrouted(Server& server, const InboundRequest& request, const InboundCall& call,
                    int status, int64_t latency_us) {
  if (server.usage_outbox() == nullptr || server.snapshot() == nullptr ||
      !server.snapshot()->limits.metering) {
    return;
  }
  CallReport report;  // nothing routed: no attempts, no tokens
  report.time_unix_ms = UnixMillis() - latency_us / 1000;
  report.final_status = status;
  report.streamed = call.stream;
  report.bytes_in = static_cast<int64_t>(request.body.size());
  report.total_latency_us = latency_us;
  report.overhead_us = latency_us;
  Emit(server, *server.snapshot(), request, call, report);
}

}  // namespace bitrouter::worker
