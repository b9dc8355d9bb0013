#include "worker/mcp/mcp_endpoint.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"
#include "worker/http/server.h"
#include "worker/mcp/mcp_aggregate.h"
#include "worker/mcp/mcp_call.h"
#include "worker/mcp/mcp_policy.h"
#include "worker/mcp/mcp_scope.h"
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

// params.name of a tools/call ("" when absent).
std::string ToolName(std::string_view params) {
  rapidjson::Document doc;
  doc.Parse(params.data(), params.size());
  if (doc.HasParseError() || !doc.IsObject()) return {};
  auto it = doc.FindMember("name");
  if (it == doc.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// Who is asking, for matching a cancellation to its call: the key's id.
std::string Caller(const InboundRequest& req) { return req.key != nullptr ? req.key->id : ""; }

// The client's notifications/cancelled: the call it names, if it runs on
// this worker, is cancelled upstream and gets no response.
void CancelInFlight(const std::string& caller, std::string_view params) {
  rapidjson::Document doc;
  doc.Parse(params.data(), params.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  auto it = doc.FindMember("requestId");
  if (it == doc.MemberEnd() || !(it->value.IsString() || it->value.IsNumber())) return;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  it->value.Accept(writer);
  const std::string id(buffer.GetString(), buffer.GetSize());  // as ParseJsonRpc renders ids
  std::string reason = "cancelled by the client";
  auto r = doc.FindMember("reason");
  if (r != doc.MemberEnd() && r->value.IsString()) reason = r->value.GetString();
  if (McpCall* call = McpCall::Find(caller, id)) call->CancelByClient(reason);
}

// A tools/call may be answered as SSE (progress, keep-alive) when the
// client accepts it.
bool MayStream(const InboundRequest& req, std::string_view method) {
  return method == "tools/call" &&
         req.Header("accept").find("text/event-stream") != std::string_view::npos;
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
    if (server == nullptr || !KeyShowsServer(req.key, server->id)) {
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
    if (msg.kind == mcp::JsonRpcMessage::Kind::kNotification &&
        msg.method == "notifications/cancelled") {
      CancelInFlight(Caller(req), msg.params);
    }
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
    auto* call = new McpCall(conn, msg.id, "aggregate", msg.method, MayStream(req, msg.method),
                             mcp.keepalive_ms);
    conn->SetHandler(call);
    call->Register(Caller(req));
    if (msg.method == "tools/list") {
      AggregateToolsList(McpContextOf(conn), snapshot, call, req.key);
    } else {
      AggregateToolsCall(McpContextOf(conn), snapshot, call, req.key, msg.params);
    }
    return true;
  }
  auto* call = new McpCall(conn, msg.id, server->id, msg.method, MayStream(req, msg.method),
                           mcp.keepalive_ms);
  conn->SetHandler(call);
  call->Register(Caller(req));
  const std::string tool = msg.method == "tools/call" ? ToolName(msg.params) : "";
  call->SetToolCalled(tool);
  if (msg.method == "tools/call" && !KeyShowsTool(req.key, server->id, tool)) {
    AnswerUnknownTool(call, tool);
    return true;
  }
  std::string params = msg.params;
  if (msg.method == "tools/call" &&
      !GateToolCall(call, *snapshot, conn->server()->metrics(), server->id, tool, tool, &params)) {
    return true;
  }
  if (msg.method == "tools/call" && KeyHasMcpScope(req.key)) {
    CheckedToolsCall(McpContextOf(conn), snapshot, call, *server, tool, tool, std::move(params));
    return true;
  }
  call->SetTarget(server->id, tool);
  std::weak_ptr<bool> alive = call->alive();
  const guardrails::ToolProviderPolicy* policy =
      msg.method == "tools/list" ? McpToolPolicy(*snapshot, server->id) : nullptr;
  const KeyPolicy* key = msg.method == "tools/list" && KeyHasMcpScope(req.key) ? req.key : nullptr;
  SnapshotPtr keep = policy != nullptr || key != nullptr ? snapshot : nullptr;  // keeps both alive
  call->Track(McpSend(McpContextOf(conn), *server,
                      McpSendArgs{msg.method, std::move(params), call->Notifier(),
                                  [alive, call, policy, key, server, keep](McpReply reply) {
                                    if (alive.expired()) return;
                                    if (policy != nullptr && !reply.result.empty()) {
                                      std::string changed =
                                          ApplyPolicyToList(*policy, reply.result);
                                      if (!changed.empty()) reply.result = std::move(changed);
                                    }
                                    if (key != nullptr && !reply.result.empty()) {
                                      std::string kept =
                                          FilterToolList(key, server->id, reply.result);
                                      if (!kept.empty()) reply.result = std::move(kept);
                                    }
                                    call->Answer(reply);
                                  }}));
  return true;
}

}  // namespace bitrouter::worker
