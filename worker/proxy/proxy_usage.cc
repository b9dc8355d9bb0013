// ProxyCall: usage on the side of every path (passthrough JSON from the
// validating parse, passthrough streams through the tap, translated answers
// from the canonical form), and the CallReport the response side gets once
// the request ends.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "shared/protocol/json_budget.h"
#include "shared/protocol/stream_splice.h"
#include "shared/usage/estimate.h"
#include "worker/proxy/proxy_call.h"

namespace bitrouter::worker {
namespace {

std::optional<int64_t> UsSince(uint64_t from_ns, uint64_t to_ns) {
  if (from_ns == 0 || to_ns < from_ns) return std::nullopt;
  return static_cast<int64_t>((to_ns - from_ns) / 1000);
}

}  // namespace

std::optional<protocol::Usage> ProxyCall::AttemptUsage() const {
  if (translator_ != nullptr) return translator_->usage();
  if (json_usage_) return json_usage_;
  return usage_tap_.usage();
}

int64_t ProxyCall::AttemptOutputBytes() const {
  return translator_ != nullptr ? translator_->output_bytes() : usage_tap_.output_bytes();
}

int64_t ProxyCall::EstimatePromptTokens() {
  if (canonical_) return usage::EstimateTokens(*canonical_);
  // Only here (no usage arrived) is a passthrough request parsed at all.
  const std::string& body = request_->body;
  if (protocol::CheckJsonObjectBudget(body).ok()) {
    auto parsed = protocol::AdapterFor(in_.client).parse_request(body);
    if (parsed.ok()) return usage::EstimateTokens(*parsed);
  }
  return static_cast<int64_t>(body.size() + 3) / 4;
}

protocol::Usage ProxyCall::CutShortUsage(const std::optional<protocol::Usage>& u) {
  protocol::Usage est;
  est.prompt_tokens = u && u->prompt_tokens > 0 ? u->prompt_tokens : EstimatePromptTokens();
  est.completion_tokens =
      std::max(u ? u->completion_tokens : 0, usage::EstimateOutputTokens(AttemptOutputBytes()));
  if (u) {
    est.cache_read_tokens = u->cache_read_tokens;
    est.cache_write_tokens = u->cache_write_tokens;
  }
  return est;
}

void ProxyCall::NoteRescuedUsage() {
  // The broken attempt billed its prompt and what it streamed; usage comes
  // last in every protocol, so at most the input side was reported.
  protocol::Usage est = CutShortUsage(AttemptUsage());
  rescued_estimated_ = true;
  rescued_usage_ = rescued_usage_ ? protocol::AddUsage(*rescued_usage_, est) : est;
}

void ProxyCall::NoteCommit() {
  if (first_byte_ns_ == 0) first_byte_ns_ = uv_hrtime();
  if (!stream_counted_ && (sse_response_ || phase_ == Phase::kTranslateSse) && in_.stream) {
    stream_counted_ = true;
    server_->metrics().StreamStarted();
  }
  if (client_status_ == 0) client_status_ = upstream_head_.status;
  commit_overhead_us_ = OverheadUs();
}

void ProxyCall::FillReport(bool ok) {
  CallReport& r = report_;
  uint64_t now = uv_hrtime();
  r.time_unix_ms = start_unix_ms_;
  r.final_status = client_status_ != 0 ? client_status_ : 499;
  r.streamed = in_.stream;
  r.bytes_in = static_cast<int64_t>(request_->body.size());
  r.bytes_out = bytes_out_;
  r.ttfb_us = UsSince(start_ns_, first_byte_ns_);
  r.total_latency_us = UsSince(start_ns_, now).value_or(0);
  r.overhead_us = commit_overhead_us_ >= 0 ? commit_overhead_us_ : OverheadUs();
  r.route = resolution_.source == "runtime route" || resolution_.source == "virtual model"
                ? std::string_view(resolution_.name)
                : std::string_view();
  r.attempts = &attempts_;
  r.route_model = CurrentRouteModel(committed_ && target_ != nullptr);
  r.served = nullptr;
  r.usage.reset();
  r.usage_estimated = false;
  if (committed_ && target_ != nullptr) {
    r.served = target_;
    r.served_protocol = upstream_;
    r.served_status = upstream_head_.status;
    r.upstream_ttfb_us = UsSince(sent_ns_, head_ns_);
    r.upstream_latency_us = UsSince(sent_ns_, now).value_or(0);
  }
  std::optional<protocol::Usage> u;
  if (r.served != nullptr) u = AttemptUsage();
  bool success = r.served != nullptr && r.served_status >= 200 && r.served_status < 300;
  // A stream cut short (the client left, the upstream broke) may carry only
  // the input side of its usage (Messages' message_start): the rest is ours.
  bool complete = ok || (translator_ != nullptr ? translator_->upstream_done() : saw_terminal_);
  if (success && (!u || !complete)) {
    u = CutShortUsage(u);
    r.usage_estimated = true;
  }
  if (rescued_usage_) {
    u = u ? protocol::AddUsage(*rescued_usage_, *u) : *rescued_usage_;
    r.usage_estimated = r.usage_estimated || rescued_estimated_;
  }
  r.usage = u;
}

}  // namespace bitrouter::worker
