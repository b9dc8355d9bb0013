#include "worker/mcp/mcp_endpoint.h"

#include <rapidjson/document.h>

#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"
#include "worker/mcp/mcp_snapshot.h"

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
  // WIP (issue 17): tools/list and tools/call go upstream next.
  (void)server;
  SendRpcError(conn, 200, msg.id, mcp::kMethodNotFound, "Method not found: " + msg.method);
  return true;
}

}  // namespace bitrouter::worker
