#include "worker/stages/usage.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "shared/usage/cost.h"
#include "worker/usage/outbox.h"

namespace bitrouter::worker {
namespace {

const char* ClientProtocolName(protocol::Protocol p) {
  switch (p) {
    case protocol::Protocol::kChat:
      return "chat";
    case protocol::Protocol::kResponses:
      return "responses";
    case protocol::Protocol::kMessages:
      return "messages";
    case protocol::Protocol::kGemini:
      return "gemini";
  }
  return "chat";
}

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

int64_t UnixMsNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

usage::UsageRecord BuildUsageRecord(const InboundRequest& request, const InboundCall& call,
                                    const WorkerSnapshot& snapshot, const CallReport& report) {
  usage::UsageRecord r;
  r.request_id = request.request_id;
  r.time_unix_ms = report.time_unix_ms;
  r.client_protocol = ClientProtocolName(call.client);
  r.model_requested = BoundedModel(call.model);
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
    r.upstream_protocol = ClientProtocolName(report.served_protocol);
    r.attempts.push_back({absl::StrCat(served->provider, ":", served->model_id),
                          report.served_status, "", report.upstream_latency_us});
  }
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
  config::Pricing price;  // unknown in every bucket
  if (served != nullptr) {
    if (const ProviderRuntime* p = snapshot.FindProvider(served->provider)) {
      if (auto it = p->pricing.find(served->model_id); it != p->pricing.end()) price = it->second;
    }
  }
  r.cost_micro_usd = usage::ComputeCost(u, price).total_micro_usd;
  return r;
}

void UsageStage::OnResponseEnd(StageResponse& resp, bool /*ok*/) {
  if (!resp.snapshot().limits.metering) return;
  UsageOutbox* outbox = resp.server() != nullptr ? resp.server()->usage_outbox() : nullptr;
  if (outbox == nullptr) return;
  outbox->Push(BuildUsageRecord(resp.request(), resp.call(), resp.snapshot(), resp.report()));
}

void RecordUnrouted(Server& server, const InboundRequest& request, const InboundCall& call,
                    int status, int64_t latency_us) {
  UsageOutbox* outbox = server.usage_outbox();
  if (outbox == nullptr || server.snapshot() == nullptr || !server.snapshot()->limits.metering) {
    return;
  }
  usage::UsageRecord r;
  r.request_id = request.request_id;
  r.time_unix_ms = UnixMsNow() - latency_us / 1000;
  r.client_protocol = ClientProtocolName(call.client);
  r.model_requested = BoundedModel(call.model);
  r.final_status = status;
  r.streamed = call.stream;
  r.bytes_in = static_cast<int64_t>(request.body.size());
  r.total_latency_us = latency_us;
  r.router_overhead_us = latency_us;
  r.cost_micro_usd = 0;
  outbox->Push(std::move(r));
}

}  // namespace bitrouter::worker
