#pragma once
// GET /v1/tools: the virtual tools (config `tools:`) the caller's key may
// see, with their endpoints and per-call prices (mcp/mcp_virtual.h has the
// shape). Keys are checked as for /v1/models. Loop thread only.

#include "worker/http/http_connection.h"

namespace bitrouter::worker {

// True when the request was for /v1/tools (it is answered).
bool HandleTools(HttpConnection* conn);

}  // namespace bitrouter::worker
