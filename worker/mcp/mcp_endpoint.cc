#include "worker/mcp/mcp_endpoint.h"

#include <rapidjson/document.h>

#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"
#include "worker/http/server.h"
#include "worker/mcp/mcp_aggregate.h"
#include "worker/mcp/mcp_call.h"
#include "worker/snapshot/mcp_runtime.h"

namespace bitrouter::worker {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kGatewayVersion = "0.1.0";

void SendRpcError(HttpConnection* conn, int status, std::string_view id, int code,
                  std::string_view message, std::string_view extra_headers = {}) {
  conn->SendResponse(status, kJson, mcp::ErrorBody(id, code, message), extra_headers);
}

// params.protocolVersion of an initialize ("" when absent).
std::string RequestedVersion(std::string_view params) {
  if (params.empty()) return {};
  rapidjson::Document doc;
  doc.Parse(params.data(), params.size());
  if (doc.HasParseError() || !doc.IsObject()) return {};
  auto it = doc.FindMember("protocolVersion");
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// Methods forwarded to a server; anything else is -32601 (the gateway is
// never a raw JSON-RPC tunnel).
bool Relayed(std::string_view method) {
  for (std::string_view m :
       {"tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "prompts/list", "prompts/get", "completion/complete"}) {
    if (method == m) return true;
  }
  return false;
}

}  // namespace

bool HandleMcp(HttpConnection* conn) {
  const SnapshotPtr& snapshot = conn->snapshot();
  if (snapshot == nullptr || snapshot->mcp == nullptr) return false;
  const McpRuntime& mcp = *snapshot->mcp;
  const InboundRequest& req = conn->request();
  const std::string_view path = req.Path();
  const McpServerRuntime* server = nullptr;
  if (mcp.aggregate_enabled && path == mcp.aggregate_route) {
    // the aggregate: every aggregate server
  } else if (path.rfind("/mcp/", 0) == 0 && path.size() > 5) {
    server = mcp.Find(path.substr(5));
    if (server == nullptr) {
      SendRpcError(conn, 404, "null", mcp::kMethodNotFound, "Unknown MCP server");
      return true;
    }
  } else {
    return false;
  }
  if (req.method != HTTP_POST) {
    SendRpcError(conn, 405, "null", -32000,
                 "Method Not Allowed: this gateway is stateless; POST only", "Allow: POST\r\n");
    return true;
  }
  const std::string_view origin = req.Header("origin");
  if (!mcp::OriginAllowed(origin, !origin.empty(), mcp.allowed_origins)) {
    SendRpcError(conn, 403, "null", -32000, "Forbidden: Origin not allowed");
    return true;
  }
  const std::string_view version = req.Header("mcp-protocol-version");
  if (std::string problem = mcp::CheckVersionHeader(version, !version.empty()); !problem.empty()) {
    SendRpcError(conn, 400, "null", mcp::kInvalidRequest, problem);
    return true;
  }
  auto parsed = mcp::ParseJsonRpc(req.body);
  if (const auto* e = std::get_if<mcp::JsonRpcError>(&parsed)) {
    SendRpcError(conn, 400, e->id, e->code, e->message);
    return true;
  }
  const auto& msg = std::get<mcp::JsonRpcMessage>(parsed);
  if (msg.kind != mcp::JsonRpcMessage::Kind::kRequest) {
    conn->SendResponse(202, kJson, "");
    return true;
  }
  if (msg.method == "initialize") {
    const std::string requested = RequestedVersion(msg.params);
    conn->SendResponse(
        200, kJson,
        mcp::ResultBody(
            msg.id, mcp::InitializeResult(mcp::NegotiateVersion(requested), kGatewayVersion, "")));
    return true;
  }
  if (msg.method == "ping") {
    conn->SendResponse(200, kJson, mcp::ResultBody(msg.id, "{}"));
    return true;
  }
  if (!Relayed(msg.method)) {
    SendRpcError(conn, 200, msg.id, mcp::kMethodNotFound, "Method not found: " + msg.method);
    return true;
  }
  if (server == nullptr) {
    if (msg.method != "tools/list" && msg.method != "tools/call") {
      SendRpcError(
          conn, 200, msg.id, mcp::kMethodNotFound,
          "Method not found on the aggregate endpoint: " + msg.method + " (use /mcp/{id})");
      return true;
    }
    auto* call = new McpCall(conn, msg.id, "aggregate");
    conn->SetHandler(call);
    if (msg.method == "tools/list") {
      AggregateToolsList(McpContextOf(conn), snapshot, call);
    } else {
      AggregateToolsCall(McpContextOf(conn), snapshot, call, msg.params);
    }
    return true;
  }
  auto* call = new McpCall(conn, msg.id, server->id);
  conn->SetHandler(call);
  std::weak_ptr<bool> alive = call->alive();
  call->Track(McpSend(McpContextOf(conn), *server,
                      McpSendArgs{msg.method, msg.params, nullptr, [alive, call](McpReply reply) {
                                    if (alive.expired()) return;
                                    call->Answer(reply);
                                  }}));
  return true;
}

}  // namespace bitrouter::worker
