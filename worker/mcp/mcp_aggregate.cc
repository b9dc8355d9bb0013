#include "worker/mcp/mcp_aggregate.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "shared/common/wall_clock.h"
#include "shared/keys/virtual_key.h"
#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/names.h"
#include "worker/mcp/mcp_cache.h"
#include "worker/mcp/mcp_policy.h"
#include "worker/mcp/mcp_scope.h"
#include "worker/mcp/mcp_virtual.h"

namespace bitrouter::worker {
namespace {

constexpr int kMaxPages = 100;

// The aggregate servers the key may see.
std::vector<const McpServerRuntime*> Members(const McpRuntime& mcp, const KeyPolicy* key) {
  std::vector<const McpServerRuntime*> out;
  for (const McpServerRuntime& s : mcp.servers) {
    if (s.aggregate && KeyShowsServer(key, s.id)) out.push_back(&s);
  }
  return out;
}

struct ListState {
  SnapshotPtr snapshot;  // keeps the servers alive
  std::weak_ptr<bool> alive;
  McpCall* call = nullptr;
  const KeyPolicy* key = nullptr;  // in `snapshot`
  size_t pending = 0;
  ToolSchemas schemas;  // endpoint tools of virtual tools without input_schema
  std::vector<std::pair<std::string, std::string>> tools;   // prefixed name, tool JSON
  std::vector<std::pair<std::string, std::string>> errors;  // server id, message
};

void Finish(const std::shared_ptr<ListState>& st) {
  if (st->alive.expired()) return;
  for (auto& v : ListedVirtualTools(*st->snapshot->mcp, st->key, st->schemas)) {
    st->tools.push_back(std::move(v));
  }
  std::sort(st->tools.begin(), st->tools.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{\"tools\":[";
  for (size_t i = 0; i < st->tools.size(); ++i) {
    if (i > 0) out += ",";
    out += st->tools[i].second;
  }
  out += "]";
  if (!st->errors.empty()) {
    out += ",\"_bitrouterErrors\":[";
    for (size_t i = 0; i < st->errors.size(); ++i) {
      if (i > 0) out += ",";
      out += "{\"server\":" + mcp::JsonString(st->errors[i].first) +
             ",\"error\":" + mcp::JsonString(st->errors[i].second) + "}";
    }
    out += "]";
  }
  out += "}";
  if (st->errors.empty() && st->snapshot->mcp != nullptr) {
    const McpRuntime& mcp = *st->snapshot->mcp;
    McpListCache::PutAggregate(st->call->key_id(), out, mcp.version,
                               McpListCache::TtlFor(mcp, "tools/list"),
                               static_cast<uint64_t>(UnixMillis()));
  }
  st->call->AnswerResult(out);
}

// The message of an upstream JSON-RPC error object.
std::string ErrorMessage(const std::string& error_json) {
  rapidjson::Document d;
  d.Parse(error_json.data(), error_json.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("message") && d["message"].IsString()) {
    return d["message"].GetString();
  }
  return "the server answered an error";
}

std::string CursorParams(const std::string& cursor) {
  return cursor.empty() ? "" : "{\"cursor\":" + mcp::JsonString(cursor) + "}";
}

// Adds one page of a member's tools/list result to the list; returns its
// nextCursor ("" = last page). `listed`: the server's tools are listed (else
// it is read only for the schemas of virtual tools, and its failure is not
// reported).
std::string AddPage(ListState& st, const McpServerRuntime& server, bool listed,
                    const std::string& cursor, McpReply r) {
  if (r.result.empty() && !listed) return {};
  if (r.result.empty()) {
    std::string error = r.rpc_error.empty() ? r.failure : ErrorMessage(r.rpc_error);
    // Degraded: the member's last good page stands in (the next list asks
    // it again); the error still says so.
    const std::string params = CursorParams(cursor);
    std::optional<std::string> stale =
        st.snapshot->mcp != nullptr
            ? McpListCache::GetStale(server.id, "tools/list", params, st.snapshot->mcp->version)
            : std::nullopt;
    if (!stale) {
      st.errors.emplace_back(server.id, std::move(error));
      return {};
    }
    st.errors.emplace_back(server.id, "degraded (its last good list is shown): " + error);
    r.result = std::move(*stale);
  }
  rapidjson::Document d;
  d.Parse(r.result.data(), r.result.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("tools") || !d["tools"].IsArray()) {
    if (listed) st.errors.emplace_back(server.id, "the server's tool list is malformed");
    return {};
  }
  const guardrails::ToolProviderPolicy* policy = McpToolPolicy(*st.snapshot, server.id);
  for (auto& t : d["tools"].GetArray()) {
    if (!t.IsObject() || !t.HasMember("name") || !t["name"].IsString()) continue;
    std::string name = t["name"].GetString();
    if (auto w = st.schemas.find(VirtualSchemaKey(server.id, name));
        w != st.schemas.end() && w->second.empty() && t.HasMember("inputSchema")) {
      w->second = mcp::JsonText(t["inputSchema"]);
    }
    if (!listed || !ServerShowsTool(server, name) || !PolicyShowsTool(policy, name) ||
        !KeyShowsTool(st.key, server.id, name)) {
      continue;
    }
    if (policy != nullptr) RestrictListedTool(*policy, t, d.GetAllocator());
    std::string prefixed = mcp::AggregateName(server.tool_prefix, name);
    t["name"].SetString(prefixed.data(), static_cast<rapidjson::SizeType>(prefixed.size()),
                        d.GetAllocator());
    st.tools.emplace_back(std::move(prefixed), mcp::JsonText(t));
  }
  if (d.HasMember("nextCursor") && d["nextCursor"].IsString()) return d["nextCursor"].GetString();
  return {};
}

void FetchPage(const McpContext& ctx, const std::shared_ptr<ListState>& st,
               const McpServerRuntime* server, bool listed, const std::string& cursor, int page) {
  const std::string params = CursorParams(cursor);
  McpSend(ctx, *server,
          McpSendArgs{
              "tools/list", params, nullptr, [ctx, st, server, listed, page, cursor](McpReply r) {
                const std::string next = AddPage(*st, *server, listed, cursor, std::move(r));
                if (!next.empty()) {
                  if (page + 1 < kMaxPages)
                    return FetchPage(ctx, st, server, listed, next, page + 1);
                  if (listed) {
                    st->errors.emplace_back(server->id, "more than 100 pages of tools");
                  }
                }
                if (--st->pending == 0) Finish(st);
              }});
}

}  // namespace

bool ServerShowsTool(const McpServerRuntime& server, std::string_view tool) {
  for (const std::string& g : server.disallowed_tools) {
    if (keys::GlobMatch(g, tool)) return false;
  }
  if (server.allowed_tools.empty()) return true;
  for (const std::string& g : server.allowed_tools) {
    if (keys::GlobMatch(g, tool)) return true;
  }
  return false;
}

void AggregateToolsList(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                        const KeyPolicy* key) {
  auto st = std::make_shared<ListState>();
  st->snapshot = snapshot;
  st->alive = call->alive();
  st->call = call;
  st->key = key;
  if (McpListCache::TtlFor(*snapshot->mcp, "tools/list") > 0) {
    if (auto hit = McpListCache::GetAggregate(call->key_id(), snapshot->mcp->version,
                                              static_cast<uint64_t>(UnixMillis()))) {
      return call->AnswerResult(*hit);
    }
  }
  st->schemas = VirtualSchemasWanted(*snapshot->mcp, key);
  std::vector<const McpServerRuntime*> members = Members(*snapshot->mcp, key);
  // Servers read only for virtual tools' schemas.
  std::vector<const McpServerRuntime*> extra;
  for (const std::string& id : VirtualSchemaServers(*snapshot->mcp, key)) {
    const McpServerRuntime* s = snapshot->mcp->Find(id);
    if (std::find(members.begin(), members.end(), s) == members.end()) extra.push_back(s);
  }
  st->pending = members.size() + extra.size();
  if (st->pending == 0) return Finish(st);
  for (const McpServerRuntime* s : members) FetchPage(ctx, st, s, true, "", 0);
  for (const McpServerRuntime* s : extra) FetchPage(ctx, st, s, false, "", 0);
}

void AggregateToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                        const KeyPolicy* key, const std::string& params) {
  rapidjson::Document d;
  d.Parse(params.data(), params.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("name") || !d["name"].IsString()) {
    return call->AnswerError(mcp::kInvalidParams, "Invalid params: tools/call needs a name");
  }
  const std::string name = d["name"].GetString();
  if (const auto* vt = FindVirtualTool(*snapshot->mcp, key, name)) {
    return VirtualToolsCall(ctx, snapshot, call, *vt, params);
  }
  std::vector<const McpServerRuntime*> members = Members(*snapshot->mcp, key);
  std::vector<std::string> prefixes;
  for (const McpServerRuntime* s : members) prefixes.push_back(s->tool_prefix);
  auto routed = mcp::RouteAggregateName(name, prefixes);
  const McpServerRuntime* server = routed ? members[routed->server] : nullptr;
  if (server == nullptr || !ServerShowsTool(*server, routed->tool) ||
      !KeyShowsTool(key, server->id, routed->tool)) {
    call->SetToolCalled(name);
    return AnswerUnknownTool(call, name);
  }
  const std::string tool(routed->tool);
  call->SetToolCalled(name);
  d["name"].SetString(tool.data(), static_cast<rapidjson::SizeType>(tool.size()), d.GetAllocator());
  std::string upstream_params = mcp::JsonText(d);
  if (!GateToolCall(call, *snapshot, *ctx.metrics, server->id, tool, name, &upstream_params)) {
    return;
  }
  if (KeyHasMcpScope(key)) {
    return CheckedToolsCall(ctx, snapshot, call, *server, tool, name, std::move(upstream_params));
  }
  call->SetTarget(server->id, tool);
  std::weak_ptr<bool> alive = call->alive();
  SnapshotPtr keep = snapshot;
  call->Track(McpSend(ctx, *server,
                      McpSendArgs{"tools/call", std::move(upstream_params), call->Notifier(),
                                  [alive, call, keep](McpReply reply) {
                                    if (alive.expired()) return;
                                    call->Answer(reply);
                                  }}));
}

}  // namespace bitrouter::worker
