#pragma once
// One request from the gateway to an upstream MCP server, whatever its
// transport: the seam between the gateway's calls (mcp_call, the aggregate,
// virtual tools) and the transports (mcp_upstream.cc for Streamable HTTP,
// mcp_stdio.cc for stdio servers reached through bitrouterd's MCP host).
//
// McpSend adds what every transport shares: the per-server timeout, which
// each notification about the request resets (the spec's progress rule),
// and which cancels the request upstream and answers `done` with a
// timed-out failure.
//
// Loop thread only.

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "worker/snapshot/mcp_runtime.h"
#include "worker/upstream/upstream.h"

namespace bitrouter::node {
class WorkerMetrics;
}

namespace bitrouter::worker {

struct McpReply {
  // One of: the result's JSON text; the upstream's JSON-RPC error object's
  // JSON text; a transport failure (what went wrong, for the client's
  // error message: never upstream internals).
  std::string result;
  std::string rpc_error;
  std::string failure;
  bool timed_out = false;  // failure was the per-server timeout
};

using McpDone = std::function<void(McpReply)>;
// A notification the server sent about this request while it ran
// (notifications/progress with the caller's own progressToken restored,
// notifications/message): the whole JSON-RPC message as JSON text.
using McpNotify = std::function<void(std::string message_json)>;

struct McpContext {
  // The gateway settings of the request's snapshot (cache); null = none.
  std::shared_ptr<const McpRuntime> mcp;
  uv_loop_t* loop = nullptr;
  UpstreamPool* pool = nullptr;  // http
  std::shared_ptr<SSL_CTX> tls;  // http
  node::WorkerMetrics* metrics = nullptr;
};

struct McpSendArgs {
  std::string method;
  std::string params;  // JSON text of the params object; "" = none
  McpNotify notify;    // may be empty
  McpDone done;        // called at most once, from the loop
};

// A request in flight. Cancel() tells the server (notifications/cancelled
// naming the request as the server knows it, with `reason`) and drops the
// request: `done` and `notify` are never called afterwards. Cancel after
// `done` ran is a no-op. Dropping the handle does not cancel.
class McpInFlight {
 public:
  virtual ~McpInFlight() = default;
  virtual void Cancel(const std::string& reason) = 0;
};

// Transports (same contract as McpSend, without the timeout).
std::shared_ptr<McpInFlight> McpHttpSend(const McpContext& ctx, const McpServerRuntime& server,
                                         McpSendArgs args);
std::shared_ptr<McpInFlight> McpStdioSend(const McpContext& ctx, const McpServerRuntime& server,
                                          McpSendArgs args);

// Sends to `server` by its transport, under its timeout. List methods are
// answered from this worker's cache when fresh (mcp_cache.h), and a
// server's list_changed notification evicts its entries.
std::shared_ptr<McpInFlight> McpSend(const McpContext& ctx, const McpServerRuntime& server,
                                     McpSendArgs args);

}  // namespace bitrouter::worker
