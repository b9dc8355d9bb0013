#pragma once
// The aggregate endpoint's tools: every `aggregate: true` server's tools
// under `<prefix><name>`, and calls routed back by the longest prefix.
//
//   tools/list  fans out to every member (upstream pages drained, at most
//               100 per member), applies each server's allowed_tools /
//               disallowed_tools, sorts by name; a member that fails adds
//               {server, error} to `_bitrouterErrors` instead of failing
//               the list. Virtual tools are merged in under their own names.
//   tools/call  the member whose prefix is the longest match, with the
//               upstream's own name (a virtual tool's name goes to its
//               endpoints); an unknown or hidden tool is -32602 "Unknown
//               tool" either way.
//
// Loop thread only.

#include <string>

#include "worker/mcp/mcp_call.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

// `key`: the caller's (null = anonymous): its MCP scope filters the list
// and the calls (mcp_scope.h); virtual tools (mcp_virtual.h) join both.
void AggregateToolsList(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                        const KeyPolicy* key);
void AggregateToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                        const KeyPolicy* key, const std::string& params);

// Whether a server shows the tool (its allowed_tools / disallowed_tools).
bool ServerShowsTool(const McpServerRuntime& server, std::string_view tool);

}  // namespace bitrouter::worker
