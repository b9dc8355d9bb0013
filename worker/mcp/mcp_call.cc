#include "worker/mcp/mcp_call.h"

#include "shared/mcp/jsonrpc.h"
#include "worker/http/server.h"
#include "worker/loop/timer.h"

namespace bitrouter::worker {

constexpr std::string_view kJson = "application/json";

McpContext McpContextOf(HttpConnection* conn) {
  McpContext ctx;
  ctx.loop = conn->server()->loop();
  ctx.pool = &conn->server()->pool();
  if (conn->snapshot() != nullptr) ctx.tls = conn->snapshot()->tls;
  return ctx;
}

McpCall::McpCall(HttpConnection* conn, std::string id, std::string server, bool may_stream,
                 uint32_t keepalive_ms)
    : conn_(conn),
      id_(std::move(id)),
      server_(std::move(server)),
      may_stream_(may_stream),
      keepalive_ms_(keepalive_ms) {
  if (may_stream_) ArmTimer(kSseAfterMs);
}

McpCall::~McpCall() {
  if (timer_ != nullptr) timer_->Cancel();
  if (inflight_ != nullptr) inflight_->Cancel("the client disconnected");
}

void McpCall::OnClientGone() {
  conn_ = nullptr;
  alive_.reset();
  if (inflight_ != nullptr) inflight_->Cancel("the client disconnected");
  inflight_.reset();
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
  Detach();
  if (conn == nullptr) return;
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
  conn_ = nullptr;
  alive_.reset();
  inflight_.reset();
  if (timer_ != nullptr) timer_->Cancel();
  timer_ = nullptr;
}

void McpCall::Answer(const McpReply& reply) {
  if (!reply.result.empty()) return AnswerResult(reply.result);
  if (!reply.rpc_error.empty()) {
    HttpConnection* conn = conn_;
    if (conn == nullptr) return;
    const std::string body =
        "{\"jsonrpc\":\"2.0\",\"id\":" + id_ + ",\"error\":" + reply.rpc_error + "}";
    if (streaming_) {
      Send(body);
      Detach();
      conn->EndResponse();
    } else {
      Detach();
      conn->SendResponse(200, kJson, body);
    }
    return;
  }
  AnswerError(reply.timed_out ? mcp::kRequestTimeout : mcp::kInternalError,
              "MCP server '" + server_ + "' failed: " + reply.failure);
}

void McpCall::AnswerResult(const std::string& result_json) {
  HttpConnection* conn = conn_;
  if (conn == nullptr) return;
  const std::string body = mcp::ResultBody(id_, result_json);
  if (streaming_) {
    Send(body);
    Detach();
    conn->EndResponse();
  } else {
    Detach();
    conn->SendResponse(200, kJson, body);
  }
}

void McpCall::AnswerError(int code, const std::string& message) {
  HttpConnection* conn = conn_;
  if (conn == nullptr) return;
  const std::string body = mcp::ErrorBody(id_, code, message);
  if (streaming_) {
    Send(body);
    Detach();
    conn->EndResponse();
  } else {
    Detach();
    conn->SendResponse(200, kJson, body);
  }
}

}  // namespace bitrouter::worker
