#include "worker/mcp/mcp_call.h"

#include <iterator>
#include <map>

#include "shared/common/wall_clock.h"
#include "shared/mcp/jsonrpc.h"
#include "shared/node/key_table.h"
#include "worker/http/server.h"
#include "worker/loop/timer.h"

namespace bitrouter::worker {

constexpr std::string_view kJson = "application/json";

namespace {
// In-flight calls by caller and id, for the client's notifications/cancelled.
std::multimap<std::string, McpCall*>& Registry() {
  static auto* registry = new std::multimap<std::string, McpCall*>();
  return *registry;
}
std::string RegistryKey(const std::string& caller, const std::string& id) {
  return caller + "\n" + id;
}
}  // namespace

void McpCall::Register(std::string caller) {
  registered_ = RegistryKey(caller, id_);
  Registry().emplace(registered_, this);
}

McpCall* McpCall::Find(const std::string& caller, const std::string& id) {
  auto [begin, end] = Registry().equal_range(RegistryKey(caller, id));
  if (begin == end || std::next(begin) != end) return nullptr;
  return begin->second;
}

McpContext McpContextOf(HttpConnection* conn) {
  McpContext ctx;
  ctx.loop = conn->server()->loop();
  ctx.pool = &conn->server()->pool();
  ctx.metrics = &conn->server()->metrics();
  if (conn->snapshot() != nullptr) {
    ctx.tls = conn->snapshot()->tls;
    ctx.mcp = conn->snapshot()->mcp;
  }
  return ctx;
}

McpCall::McpCall(HttpConnection* conn, std::string id, std::string server, std::string method,
                 bool may_stream, uint32_t keepalive_ms)
    : conn_(conn),
      id_(std::move(id)),
      server_(std::move(server)),
      may_stream_(may_stream),
      keepalive_ms_(keepalive_ms) {
  const InboundRequest& req = conn->request();
  facts_.request_id = req.request_id;
  facts_.time_unix_ms = UnixMillis();
  facts_.start_us = node::MonotonicMicros();
  facts_.key_id = req.key != nullptr ? req.key->id : "";
  facts_.method = std::move(method);
  facts_.endpoint_server = server_;
  facts_.bytes_in = static_cast<int64_t>(req.body.size());
  try_start_us_ = facts_.start_us;
  if (may_stream_) ArmTimer(kSseAfterMs);
}

McpCall::~McpCall() {
  if (inflight_ != nullptr) inflight_->Cancel("the client disconnected");
  Detach();
}

void McpCall::SetTarget(const std::string& server, const std::string& tool) {
  facts_.tries.push_back({server, tool, "", 0});
  try_start_us_ = node::MonotonicMicros();
}

void McpCall::RecordTry(const McpReply& reply) {
  if (facts_.tries.empty()) facts_.tries.push_back({server_, "", "", 0});
  McpTry& t = facts_.tries.back();
  t.outcome = McpOutcome(reply.result, !reply.rpc_error.empty(), reply.timed_out);
  t.latency_us = static_cast<int64_t>(node::MonotonicMicros() - try_start_us_);
}

void McpCall::OnClientGone() {
  if (inflight_ != nullptr) inflight_->Cancel("the client disconnected");
  if (!reported_ && conn_ != nullptr) {
    reported_ = true;
    ReportMcp(*conn_->server(), conn_->snapshot()->limits.metering, std::move(facts_), "cancelled");
  }
  Detach();
}

void McpCall::Track(std::shared_ptr<McpInFlight> inflight) {
  // McpSend may have answered already (then the call is detached).
  if (conn_ == nullptr) return;
  inflight_ = std::move(inflight);
}

McpNotify McpCall::Notifier() {
  std::weak_ptr<bool> alive = alive_;
  return [alive, this](std::string message) {
    if (alive.expired() || !may_stream_) return;
    if (!streaming_) StartStream();
    Send(message);
  };
}

void McpCall::CancelByClient(const std::string& reason) {
  if (inflight_ != nullptr) inflight_->Cancel(reason);
  inflight_.reset();
  HttpConnection* conn = conn_;
  if (conn == nullptr) return;
  if (!reported_) {
    reported_ = true;
    ReportMcp(*conn->server(), conn->snapshot()->limits.metering, std::move(facts_), "cancelled");
  }
  Detach();
  // No JSON-RPC response for a cancelled request: an empty stream, or 202.
  if (streaming_) {
    conn->EndResponse();
  } else {
    conn->SendResponse(202, kJson, "");
  }
}

void McpCall::StartStream() {
  streaming_ = true;
  conn_->StartResponse(200, "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n", -1);
  ArmTimer(keepalive_ms_);
}

void McpCall::Send(const std::string& message_json) {
  std::string event = "event: message\ndata: ";
  event += message_json;
  event += "\n\n";
  conn_->WriteBody(event.data(), event.size());
}

void McpCall::ArmTimer(uint32_t ms) {
  if (timer_ != nullptr) timer_->Cancel();
  timer_ = OneShotTimer::Start(conn_->server()->loop(), ms, [this] {
    timer_ = nullptr;
    OnTimer();
  });
}

void McpCall::OnTimer() {
  if (conn_ == nullptr) return;
  if (!streaming_) return StartStream();
  static constexpr std::string_view kComment = ": keep-alive\n\n";
  conn_->WriteBody(kComment.data(), kComment.size());
  ArmTimer(keepalive_ms_);
}

void McpCall::Detach() {
  if (!registered_.empty()) {
    auto [begin, end] = Registry().equal_range(registered_);
    for (auto it = begin; it != end; ++it) {
      if (it->second == this) {
        Registry().erase(it);
        break;
      }
    }
    registered_.clear();
  }
  conn_ = nullptr;
  alive_.reset();
  inflight_.reset();
  if (timer_ != nullptr) timer_->Cancel();
  timer_ = nullptr;
}

void McpCall::Answer(const McpReply& reply) {
  if (conn_ == nullptr) return;
  RecordTry(reply);
  const std::string outcome = facts_.tries.back().outcome;
  if (!reply.result.empty()) return Finish(mcp::ResultBody(id_, reply.result), outcome);
  if (!reply.rpc_error.empty()) {
    return Finish("{\"jsonrpc\":\"2.0\",\"id\":" + id_ + ",\"error\":" + reply.rpc_error + "}",
                  outcome);
  }
  Finish(mcp::ErrorBody(id_, reply.timed_out ? mcp::kRequestTimeout : mcp::kInternalError,
                        "MCP server '" + server_ + "' failed: " + reply.failure),
         outcome);
}

void McpCall::AnswerResult(const std::string& result_json) {
  Finish(mcp::ResultBody(id_, result_json), "ok");
}

void McpCall::AnswerError(int code, const std::string& message) {
  Finish(mcp::ErrorBody(id_, code, message), facts_.tries.empty() ? "refused" : "failed");
}

void McpCall::Finish(const std::string& body, const std::string& outcome) {
  HttpConnection* conn = conn_;
  if (conn == nullptr) return;
  if (!reported_) {
    reported_ = true;
    facts_.bytes_out = static_cast<int64_t>(body.size());
    facts_.streamed = streaming_;
    ReportMcp(*conn->server(), conn->snapshot()->limits.metering, std::move(facts_), outcome);
  }
  const bool streaming = streaming_;
  if (streaming) Send(body);
  Detach();  // `this` may be deleted by the connection once the answer is out
  if (streaming) {
    conn->EndResponse();
  } else {
    conn->SendResponse(200, kJson, body);
  }
}

}  // namespace bitrouter::worker
