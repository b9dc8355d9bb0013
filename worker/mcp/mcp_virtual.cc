#include "worker/mcp/mcp_virtual.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "shared/mcp/jsonrpc.h"
#include "worker/mcp/mcp_policy.h"
#include "worker/mcp/mcp_scope.h"

namespace bitrouter::worker {
namespace {

using bitrouter::v1::VirtualTool;

// A price as JSON: null when unpriced.
std::string Price(double usd) { return usd < 0 ? "null" : absl::StrCat(usd); }

// One endpoint to try: its server, its tool there, the call's params for
// it, and its price (micro-USD per call; nullopt = unpriced).
struct Try {
  const McpServerRuntime* server;
  std::string tool;
  std::string params;
  std::optional<int64_t> price;
};

// One call of a virtual tool: its endpoints in the order they are tried.
struct Attempts {
  SnapshotPtr snapshot;  // keeps the servers alive
  McpCall* call = nullptr;
  std::weak_ptr<bool> alive;
  std::string name;
  std::vector<Try> tries;
  size_t next = 0;
};

std::optional<int64_t> MicroUsd(double usd) {
  if (usd < 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

void TryNext(const McpContext& ctx, const std::shared_ptr<Attempts>& at) {
  if (at->next >= at->tries.size()) {
    return at->call->AnswerError(mcp::kInternalError,
                                 "Virtual tool '" + at->name + "' failed: no endpoint answered");
  }
  const Try& t = at->tries[at->next++];
  const size_t mine = at->next;
  at->call->SetTarget(t.server->id, t.tool);
  at->call->SetPrice(t.price);
  auto inflight =
      McpSend(ctx, *t.server,
              McpSendArgs{"tools/call", t.params, at->call->Notifier(), [ctx, at](McpReply reply) {
                            if (at->alive.expired()) return;
                            // A result is the tool's answer, isError included.
                            if (!reply.result.empty()) return at->call->Answer(reply);
                            at->call->RecordTry(reply);
                            TryNext(ctx, at);
                          }});
  // A transport may answer at once (stdio): then a later attempt is the one
  // in flight, and it tracked itself.
  if (at->next == mine) at->call->Track(std::move(inflight));
}

// Per worker: where the next load_balance call of each tool starts.
std::map<std::string, size_t, std::less<>>& Cursors() {
  static auto* cursors = new std::map<std::string, size_t, std::less<>>();
  return *cursors;
}

}  // namespace

const VirtualTool* FindVirtualTool(const McpRuntime& mcp, const KeyPolicy* key,
                                   std::string_view name) {
  for (const VirtualTool& t : mcp.tools) {
    if (t.name() == name) return KeyShowsVirtual(key, name) ? &t : nullptr;
  }
  return nullptr;
}

std::string VirtualSchemaKey(std::string_view server, std::string_view tool) {
  std::string key(server);
  key += '\n';
  key += tool;
  return key;
}

ToolSchemas VirtualSchemasWanted(const McpRuntime& mcp, const KeyPolicy* key) {
  ToolSchemas out;
  for (const VirtualTool& t : mcp.tools) {
    if (!t.input_schema_json().empty() || !KeyShowsVirtual(key, t.name())) continue;
    for (const auto& e : t.endpoints()) out[VirtualSchemaKey(e.server(), e.service_id())];
  }
  return out;
}

std::vector<std::string> VirtualSchemaServers(const McpRuntime& mcp, const KeyPolicy* key) {
  std::set<std::string> ids;
  for (const VirtualTool& t : mcp.tools) {
    if (!t.input_schema_json().empty() || !KeyShowsVirtual(key, t.name())) continue;
    for (const auto& e : t.endpoints()) {
      if (mcp.Find(e.server()) != nullptr) ids.insert(e.server());
    }
  }
  return {ids.begin(), ids.end()};
}

std::vector<std::pair<std::string, std::string>> ListedVirtualTools(const McpRuntime& mcp,
                                                                    const KeyPolicy* key,
                                                                    const ToolSchemas& schemas) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const VirtualTool& t : mcp.tools) {
    if (!KeyShowsVirtual(key, t.name())) continue;
    std::string schema = t.input_schema_json();
    for (int i = 0; schema.empty() && i < t.endpoints_size(); ++i) {
      auto it =
          schemas.find(VirtualSchemaKey(t.endpoints(i).server(), t.endpoints(i).service_id()));
      if (it != schemas.end()) schema = it->second;
    }
    if (schema.empty()) schema = "{\"type\":\"object\"}";
    std::string json = "{\"name\":" + mcp::JsonString(t.name());
    if (!t.description().empty()) json += ",\"description\":" + mcp::JsonString(t.description());
    json += ",\"inputSchema\":" + schema + "}";
    out.emplace_back(t.name(), std::move(json));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void VirtualToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                      const VirtualTool& tool, const std::string& params) {
  rapidjson::Document d;
  d.Parse(params.data(), params.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("name")) {
    return call->AnswerError(mcp::kInvalidParams, "Invalid params: tools/call needs a name");
  }
  call->SetToolCalled(tool.name());
  auto at = std::make_shared<Attempts>();
  at->snapshot = snapshot;
  at->call = call;
  at->alive = call->alive();
  at->name = tool.name();
  const size_t n = static_cast<size_t>(tool.endpoints_size());
  size_t start = 0;
  if (tool.strategy() == "load_balance" && n > 0) {
    size_t& cursor = Cursors()[tool.name()];
    start = cursor % n;
    cursor = (cursor + 1) % n;
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& e = tool.endpoints(static_cast<int>((start + i) % n));
    const McpServerRuntime* server = snapshot->mcp->Find(e.server());
    if (server == nullptr) continue;
    d["name"].SetString(e.service_id().data(),
                        static_cast<rapidjson::SizeType>(e.service_id().size()), d.GetAllocator());
    std::string endpoint_params = mcp::JsonText(d);
    // The guardrails tool policy of the endpoint's server: a denied tool or
    // a blocked argument skips the endpoint; stripped arguments go as such.
    if (const auto* policy = McpToolPolicy(*snapshot, server->id)) {
      if (!PolicyShowsTool(policy, e.service_id())) continue;
      McpCallVerdict v = CheckMcpToolCall(*policy, server->id, e.service_id(), endpoint_params);
      if (!v.blocked.empty()) continue;
      if (!v.params.empty()) endpoint_params = std::move(v.params);
    }
    auto price = tool.price_overrides().find(e.service_id());
    at->tries.push_back(
        {server, e.service_id(), std::move(endpoint_params),
         MicroUsd(price != tool.price_overrides().end() ? price->second : tool.price_per_call())});
  }
  TryNext(ctx, at);
}

std::string VirtualToolsCatalog(const WorkerSnapshot& snapshot, const KeyPolicy* key) {
  std::vector<const VirtualTool*> tools;
  if (snapshot.mcp != nullptr) {
    for (const VirtualTool& t : snapshot.mcp->tools) {
      if (KeyShowsVirtual(key, t.name())) tools.push_back(&t);
    }
  }
  std::sort(tools.begin(), tools.end(),
            [](const VirtualTool* a, const VirtualTool* b) { return a->name() < b->name(); });
  std::string out = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < tools.size(); ++i) {
    const VirtualTool& t = *tools[i];
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"name\":", mcp::JsonString(t.name()),
                    ",\"description\":", mcp::JsonString(t.description()), ",\"input_schema\":",
                    t.input_schema_json().empty() ? "null" : t.input_schema_json(),
                    ",\"strategy\":", mcp::JsonString(t.strategy()), ",\"endpoints\":[");
    for (int j = 0; j < t.endpoints_size(); ++j) {
      absl::StrAppend(&out, j > 0 ? "," : "",
                      "{\"server\":", mcp::JsonString(t.endpoints(j).server()),
                      ",\"tool\":", mcp::JsonString(t.endpoints(j).service_id()), "}");
    }
    absl::StrAppend(&out, "],\"pricing\":{\"per_call_usd\":", Price(t.price_per_call()));
    if (!t.price_overrides().empty()) {
      std::map<std::string, double> sorted;
      for (const auto& [id, usd] : t.price_overrides()) sorted[id] = usd;
      out += ",\"overrides\":{";
      bool first = true;
      for (const auto& [id, usd] : sorted) {
        absl::StrAppend(&out, first ? "" : ",", mcp::JsonString(id), ":", Price(usd));
        first = false;
      }
      out += "}";
    }
    out += "}}";
  }
  // The same tools in the OpenClaw plugin's shape ({"tools":[{id, name,
  // provider, description?, input_schema?}]}): `id` is what tools/call on
  // the aggregate MCP route takes.
  out += "],\"tools\":[";
  for (size_t i = 0; i < tools.size(); ++i) {
    const VirtualTool& t = *tools[i];
    absl::StrAppend(&out, i > 0 ? "," : "", "{\"id\":", mcp::JsonString(t.name()),
                    ",\"name\":", mcp::JsonString(t.name()), ",\"provider\":\"virtual\"");
    if (!t.description().empty()) {
      absl::StrAppend(&out, ",\"description\":", mcp::JsonString(t.description()));
    }
    if (!t.input_schema_json().empty()) {
      absl::StrAppend(&out, ",\"input_schema\":", t.input_schema_json());
    }
    out += "}";
  }
  out += "]}";
  return out;
}

}  // namespace bitrouter::worker
