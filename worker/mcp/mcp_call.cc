#include "worker/mcp/mcp_call.h"

#include "shared/mcp/jsonrpc.h"

namespace bitrouter::worker {

constexpr std::string_view kJson = "application/json";

HttpConnection* McpCall::Take() {
  HttpConnection* conn = conn_;
  conn_ = nullptr;
  alive_.reset();
  return conn;
}

void McpCall::Answer(const McpReply& reply) {
  if (!reply.result.empty()) return AnswerResult(reply.result);
  HttpConnection* conn = Take();
  if (conn == nullptr) return;
  if (!reply.rpc_error.empty()) {
    conn->SendResponse(
        200, kJson, "{\"jsonrpc\":\"2.0\",\"id\":" + id_ + ",\"error\":" + reply.rpc_error + "}");
  } else {
    conn->SendResponse(200, kJson,
                       mcp::ErrorBody(id_, mcp::kInternalError,
                                      "MCP server '" + server_ + "' failed: " + reply.failure));
  }
}

void McpCall::AnswerResult(const std::string& result_json) {
  HttpConnection* conn = Take();
  if (conn != nullptr) conn->SendResponse(200, kJson, mcp::ResultBody(id_, result_json));
}

void McpCall::AnswerError(int code, const std::string& message) {
  HttpConnection* conn = Take();
  if (conn != nullptr) conn->SendResponse(200, kJson, mcp::ErrorBody(id_, code, message));
}

}  // namespace bitrouter::worker
