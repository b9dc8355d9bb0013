#pragma once
// A virtual key's MCP scope in the gateway (issue 17; patterns in
// shared/keys/mcp_scope.h). One rule everywhere: a tool outside the
// caller's scope is indistinguishable from a tool that does not exist.
//
//   tools/list    drops the tools the key may not see (/mcp and /mcp/{id}).
//   tools/call    of a hidden tool answers -32602 "Unknown tool: <name>"
//                 without reaching the server. For a key with a scope, a
//                 visible name is first looked up in the server's tool list
//                 (pages drained): a name the server does not list gets the
//                 very same answer, byte for byte, so a scoped key cannot
//                 tell hidden from absent. (A key without MCP patterns sees
//                 every tool; its calls are forwarded as they are.)
//   /mcp/{id}     of a server outside the scope is the unknown-server 404.
//
// A null key (anonymous, skip_auth) has no scope. Loop thread only.

#include <string>
#include <string_view>

#include "worker/mcp/mcp_call.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

bool KeyHasMcpScope(const KeyPolicy* key);
bool KeyShowsServer(const KeyPolicy* key, std::string_view server);
// `tool` is the server's own (unprefixed) name.
bool KeyShowsTool(const KeyPolicy* key, std::string_view server, std::string_view tool);
bool KeyShowsVirtual(const KeyPolicy* key, std::string_view name);

// Paths whose answer depends on the caller's key (the MCP routes and
// GET /v1/tools): a presented brvk_ key is checked there even with
// server.skip_auth, as on the inference routes.
bool McpKeyedPath(const WorkerSnapshot& snapshot, std::string_view path);

// The one answer for a hidden or unknown tool: -32602 "Unknown tool: <name>".
void AnswerUnknownTool(McpCall* call, std::string_view name);

// A tools/list result (JSON text) without the tools of `server` the key may
// not see: "" when nothing changed (or it is not a tool list).
std::string FilterToolList(const KeyPolicy* key, std::string_view server,
                           const std::string& result);

// A tools/call of `tool` (the server's own name, in the key's scope, past
// the tool policy): sent (SetTarget, Track, Answer) once the server's tool
// list (McpSend's list cache applies) shows the name, else
// AnswerUnknownTool with `client_name` (the name the client called).
// `params` is the call's params with the server's own name. If the list
// cannot be read the call is sent anyway (the tool is in scope; the server
// answers for itself).
void CheckedToolsCall(const McpContext& ctx, const SnapshotPtr& snapshot, McpCall* call,
                      const McpServerRuntime& server, std::string tool, std::string client_name,
                      std::string params);

}  // namespace bitrouter::worker
