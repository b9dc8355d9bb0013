#pragma once
// One upstream HTTP MCP server as this worker talks to it (Streamable HTTP,
// legacy era): one `initialize` per worker and server, reused by every call;
// the upstream's Mcp-Session-Id kept and sent back, and the session
// re-established once when the upstream answers 404 to it; requests over
// the worker's keep-alive pool; answers as JSON or as an SSE stream whose
// response event carries the request's id.
//
// Loop thread only. Sessions live as long as the worker (keyed by server
// id, url and headers, so a reload that changes them starts a new one).

#include <functional>
#include <memory>
#include <string>

#include "worker/snapshot/mcp_runtime.h"
#include "worker/upstream/upstream.h"

namespace bitrouter::worker {

struct McpReply {
  // One of: the result's JSON text; the upstream's JSON-RPC error object's
  // JSON text; a transport failure (what went wrong, for the client's
  // error message: never upstream internals).
  std::string result;
  std::string rpc_error;
  std::string failure;
};

using McpDone = std::function<void(McpReply)>;

// Sends `method` with `params` (JSON text, may be empty) to `server` and
// calls `done` once, from the loop. Callers that may go away first make
// `done` check a liveness token.
void McpHttpRequest(UpstreamPool* pool, const std::shared_ptr<SSL_CTX>& tls,
                    const McpServerRuntime& server, std::string method, std::string params,
                    McpDone done);

}  // namespace bitrouter::worker
