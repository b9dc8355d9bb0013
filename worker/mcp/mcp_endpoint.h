#pragma once
// The MCP gateway's HTTP face (Streamable HTTP, stateless toward clients):
//
//   POST <mcp.aggregate.route>  (default /mcp)  every aggregate server's tools
//   POST /mcp/{id}                                one server, original names
//
// Every POST passes, in order: the Origin check (403), the
// MCP-Protocol-Version check (400 naming the supported versions) and the
// JSON-RPC envelope (400 with -32700 / -32600). GET and DELETE get 405 with
// `Allow: POST`; no Mcp-Session-Id is ever issued, so any worker serves any
// request and a reload, a worker crash or a daemon restart never strands a
// client. initialize and ping are answered here; notifications and
// responses get 202. Keys are checked before (worker/proxy/dispatch.cc).

#include "worker/http/http_connection.h"

namespace bitrouter::worker {

// True when the request was for an MCP route (it is answered or in
// progress); false to let the caller go on.
bool HandleMcp(HttpConnection* conn);

}  // namespace bitrouter::worker
