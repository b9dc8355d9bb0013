#include "worker/mcp/mcp_scope.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <set>
#include <utility>

#include "shared/keys/mcp_scope.h"
#include "shared/mcp/jsonrpc.h"

namespace bitrouter::worker {
namespace {

constexpr int kMaxPages = 100;

// Sends the call itself (the server's answer goes to the client as it is).
void SendCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
              const McpServerRuntime& server, const std::string& tool, const std::string& params) {
  call->SetTarget(server.id, tool);
  std::weak_ptr<bool> alive = call->alive();
  call->Track(McpSend(
      ctx, server,
      McpSendArgs{"tools/call", params, call->Notifier(), [alive, call, snapshot](McpReply reply) {
                    if (alive.expired()) return;
                    call->Answer(reply);
                  }}));
}

// The lookup of one name in a server's tool list, page by page.
struct Lookup {
  SnapshotPtr snapshot;  // keeps `server` alive
  const McpServerRuntime* server = nullptr;
  McpCall* call = nullptr;
  std::weak_ptr<bool> alive;
  std::string tool, client_name, params;
  int sent = 0;  // requests started; a transport may answer at once (stdio)
};

void LookupPage(const McpContext& ctx, const std::shared_ptr<Lookup>& lk, const std::string& cursor,
                int page) {
  const std::string list_params =
      cursor.empty() ? "" : "{\"cursor\":" + mcp::JsonString(cursor) + "}";
  const int mine = ++lk->sent;
  auto inflight = McpSend(
      ctx, *lk->server,
      McpSendArgs{
          "tools/list", list_params, nullptr, [ctx, lk, page](McpReply r) {
            if (lk->alive.expired()) return;
            rapidjson::Document d;
            if (!r.result.empty()) d.Parse(r.result.data(), r.result.size());
            if (r.result.empty() || d.HasParseError() || !d.IsObject() || !d.HasMember("tools") ||
                !d["tools"].IsArray()) {
              // Unreadable: the server answers for itself.
              ++lk->sent;
              return SendCall(ctx, lk->snapshot, lk->call, *lk->server, lk->tool, lk->params);
            }
            for (const auto& t : d["tools"].GetArray()) {
              if (t.IsObject() && t.HasMember("name") && t["name"].IsString() &&
                  lk->tool == t["name"].GetString()) {
                ++lk->sent;
                return SendCall(ctx, lk->snapshot, lk->call, *lk->server, lk->tool, lk->params);
              }
            }
            if (d.HasMember("nextCursor") && d["nextCursor"].IsString() && page + 1 < kMaxPages) {
              return LookupPage(ctx, lk, d["nextCursor"].GetString(), page + 1);
            }
            AnswerUnknownTool(lk->call, lk->client_name);
          }});
  if (lk->sent == mine) lk->call->Track(std::move(inflight));
}

}  // namespace

bool KeyHasMcpScope(const KeyPolicy* key) { return key != nullptr && !key->mcp_tools.empty(); }

bool KeyShowsServer(const KeyPolicy* key, std::string_view server) {
  return key == nullptr || keys::McpScopeShowsServer(key->mcp_tools, server);
}

bool KeyShowsTool(const KeyPolicy* key, std::string_view server, std::string_view tool) {
  return key == nullptr || keys::McpScopeShowsTool(key->mcp_tools, server, tool);
}

bool KeyShowsVirtual(const KeyPolicy* key, std::string_view name) {
  return key == nullptr || keys::McpScopeShowsVirtual(key->mcp_tools, name);
}

bool McpKeyedPath(const WorkerSnapshot& snapshot, std::string_view path) {
  if (path == "/v1/tools") return true;
  if (snapshot.mcp == nullptr) return false;
  if (snapshot.mcp->aggregate_enabled && path == snapshot.mcp->aggregate_route) return true;
  return path.rfind("/mcp/", 0) == 0;
}

void AnswerUnknownTool(McpCall* call, std::string_view name) {
  call->AnswerError(mcp::kInvalidParams, "Unknown tool: " + std::string(name));
}

std::string FilterToolList(const KeyPolicy* key, std::string_view server,
                           const std::string& result) {
  rapidjson::Document d;
  d.Parse(result.data(), result.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("tools") || !d["tools"].IsArray()) {
    return {};
  }
  auto& tools = d["tools"];
  bool changed = false;
  for (auto it = tools.Begin(); it != tools.End();) {
    const bool shown = it->IsObject() && it->HasMember("name") && (*it)["name"].IsString() &&
                       KeyShowsTool(key, server, (*it)["name"].GetString());
    if (shown) {
      ++it;
    } else {
      it = tools.Erase(it);
      changed = true;
    }
  }
  return changed ? mcp::JsonText(d) : std::string();
}

void CheckedToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                      const McpServerRuntime& server, std::string tool, std::string client_name,
                      std::string params) {
  auto lk = std::make_shared<Lookup>();
  lk->snapshot = snapshot;
  lk->server = &server;
  lk->call = call;
  lk->alive = call->alive();
  lk->tool = std::move(tool);
  lk->client_name = std::move(client_name);
  lk->params = std::move(params);
  LookupPage(ctx, lk, "", 0);
}

}  // namespace bitrouter::worker
