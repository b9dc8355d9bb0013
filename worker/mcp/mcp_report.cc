#include "worker/mcp/mcp_report.h"

#include <rapidjson/document.h>

#include "absl/strings/str_cat.h"
#include "shared/node/key_table.h"
#include "shared/usage/usage_record.h"
#include "worker/http/server.h"
#include "worker/usage/outbox.h"

namespace bitrouter::worker {

std::string McpOutcome(const std::string& result, bool rpc_error, bool timed_out) {
  if (timed_out) return "timeout";
  if (rpc_error) return "rpc_error";
  if (result.empty()) return "failed";
  // Only a result that mentions isError is parsed (tool results can be large).
  if (result.find("\"isError\"") == std::string::npos) return "ok";
  rapidjson::Document d;
  d.Parse(result.data(), result.size());
  if (d.HasParseError() || !d.IsObject()) return "ok";
  auto it = d.FindMember("isError");
  return it != d.MemberEnd() && it->value.IsBool() && it->value.GetBool() ? "tool_error" : "ok";
}

void ReportMcp(Server& server, bool metering, McpFacts facts, const std::string& final_outcome) {
  const int64_t latency_us = static_cast<int64_t>(node::MonotonicMicros() - facts.start_us);
  const std::string& metric_server =
      facts.tries.empty() ? facts.endpoint_server : facts.tries.back().server;
  server.metrics().McpRequest(metric_server, facts.method, final_outcome, latency_us);
  if (!metering || facts.method != "tools/call") return;
  usage::UsageRecord r;
  r.request_id = std::move(facts.request_id);
  r.time_unix_ms = facts.time_unix_ms;
  r.key_id = std::move(facts.key_id);
  r.client_protocol = "mcp";
  r.model_requested = std::move(facts.tool_called);
  if (!facts.tries.empty()) {
    r.provider = facts.tries.back().server;
    r.upstream_model = facts.tries.back().tool;
    r.upstream_protocol = "mcp";
  }
  for (const McpTry& t : facts.tries) {
    r.attempts.push_back({absl::StrCat(t.server, ":", t.tool),
                          t.outcome == "failed" || t.outcome == "timeout" ? 0 : 200,
                          t.outcome == "ok" ? "" : t.outcome, t.latency_us});
  }
  r.final_status = 200;  // MCP call-level outcomes are HTTP 200 (the attempts say how it went)
  r.streamed = facts.streamed;
  r.bytes_in = facts.bytes_in;
  r.bytes_out = facts.bytes_out;
  r.total_latency_us = latency_us;
  int64_t upstream_us = 0;
  for (const McpTry& t : facts.tries) upstream_us += t.latency_us;
  r.router_overhead_us = std::max<int64_t>(0, latency_us - upstream_us);
  // A tool without a price costs nothing here; a priced virtual tool is
  // charged only when a tool answered.
  r.cost_micro_usd = final_outcome == "ok" || final_outcome == "tool_error"
                         ? facts.price_micro_usd.value_or(0)
                         : 0;
  UsageOutbox* outbox = server.usage_outbox();
  if (outbox != nullptr && !outbox->Push(std::move(r))) server.metrics().UsageRecordsDropped(1);
}

}  // namespace bitrouter::worker
