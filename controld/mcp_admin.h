#pragma once
// bitrouterctl mcp servers|tools, answered by bitrouterd: the configured MCP
// servers of the current snapshot, each asked for its tools through the
// gateway itself (a loopback POST /mcp/{id} tools/list on the listen
// address), so what it shows is what clients get: filters and the tool
// policy applied, the worker's cache used, upstream errors as the gateway
// words them. Runs on a gRPC handler thread, never on a worker's loop.
//
// With keys required, the request carries bitrouterd's per-process secret
// (InternalToken): the workers let it reach MCP routes, and nothing else.

#include <string>

#include "bitrouter/v1/control.pb.h"

namespace bitrouter::controld {

// 32 random bytes, base64url, made once per process; never stored or logged.
const std::string& InternalToken();

// Fills `out` for `req` from the snapshot's MCP part, asking the gateway at
// `listen` (host:port).
void ListMcp(const bitrouter::v1::McpGateway& gateway, const std::string& listen,
             const bitrouter::v1::ListMcpRequest& req, bitrouter::v1::ListMcpResponse* out);

}  // namespace bitrouter::controld
