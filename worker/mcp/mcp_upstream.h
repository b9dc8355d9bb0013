#pragma once
// Upstream Streamable HTTP MCP servers as this worker talks to them (the
// McpHttpSend transport of mcp_exchange.h): one `initialize` per worker and
// server, reused by every call; the upstream's Mcp-Session-Id kept and sent
// back, and the session re-established once when the upstream answers 404
// to it; requests over the worker's keep-alive pool; answers as JSON or as
// an SSE stream, read as it arrives so that the server's notifications
// about the request (progress) reach the caller while it runs. Cancelling
// drops the exchange and posts notifications/cancelled in the same session.
//
// Loop thread only. Sessions live as long as the worker (keyed by server
// id, url and headers, so a reload that changes them starts a new one).

#include "worker/mcp/mcp_exchange.h"
