#pragma once
// Virtual tools (config `tools:`, issue 17): one tool name on the aggregate
// endpoint served by one or more MCP servers' tools.
//
//   listed      under its own name (no prefix), with its description and
//               input_schema; without input_schema, the inputSchema of its
//               first endpoint whose server listed that tool, else
//               {"type":"object"}. Merged into the aggregate's sorted list.
//   called      on its endpoints under their service_id: `priority` in
//               order, `load_balance` from a start that rotates per call
//               (per worker). A transport failure, a timeout or a JSON-RPC
//               error moves on to the next endpoint; a result, even one with
//               isError: true, is the answer. When every endpoint failed the
//               answer is -32603 naming the virtual tool only.
//   scoped      as a whole by its name: a key sees it when it has no MCP
//               patterns or one `virtual[:glob]` pattern matches the name;
//               the servers behind it need not be in the key's scope.
//
// Loop thread only.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "worker/mcp/mcp_call.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

// The virtual tool `name` if the key may see it, else null.
const bitrouter::v1::VirtualTool* FindVirtualTool(const McpRuntime& mcp, const KeyPolicy* key,
                                                  std::string_view name);

// Endpoint tool schemas (inputSchema JSON text, "" = not seen yet), by
// VirtualSchemaKey.
using ToolSchemas = std::map<std::string, std::string>;
std::string VirtualSchemaKey(std::string_view server, std::string_view tool);
// The endpoint tools whose schemas the key's virtual tools need (those
// without input_schema), each "" until a tools/list answer fills it.
ToolSchemas VirtualSchemasWanted(const McpRuntime& mcp, const KeyPolicy* key);
// The servers whose tool lists hold schemas the key's virtual tools need
// (those without input_schema), in id order.
std::vector<std::string> VirtualSchemaServers(const McpRuntime& mcp, const KeyPolicy* key);
// The key's virtual tools as tools/list entries: (name, tool JSON), by name.
std::vector<std::pair<std::string, std::string>> ListedVirtualTools(const McpRuntime& mcp,
                                                                    const KeyPolicy* key,
                                                                    const ToolSchemas& schemas);

// Answers a tools/call of `tool` on `call`; `params` is the call's params
// JSON text (the name is replaced by each endpoint's service_id).
void VirtualToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                      const bitrouter::v1::VirtualTool& tool, const std::string& params);

// GET /v1/tools: {"object":"list","data":[{name, description, input_schema
// (null when not configured), endpoints:[{server, tool}], pricing:
// {per_call_usd (null when unpriced)[, overrides:{tool: usd}]}}],
// "tools":[{id, name, provider:"virtual", description?, input_schema?}]} of
// the virtual tools the key may see, by name ("tools" is the same list in
// the OpenClaw plugin's shape).
std::string VirtualToolsCatalog(const WorkerSnapshot& snapshot, const KeyPolicy* key);

}  // namespace bitrouter::worker
