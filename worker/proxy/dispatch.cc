#include "worker/proxy/dispatch.h"

#include "shared/common/wall_clock.h"
#include "worker/mcp/mcp_endpoint.h"
#include "worker/mcp/mcp_scope.h"
#include "worker/proxy/inference_endpoints.h"
#include "worker/proxy/model_endpoints.h"
#include "worker/proxy/tool_endpoints.h"
#include "worker/stages/auth/auth_stage.h"

namespace bitrouter::worker {

bool ProxyDispatcher::Dispatch(HttpConnection* conn) {
  // With keys required, nothing past the server's own endpoints (/health,
  // /metrics) answers without one: model lists and token counts included,
  // and before the body is looked at. Inference requests then meet the
  // chain's "auth" stage, which puts the key on the call. The MCP routes
  // and /v1/tools answer by the key's MCP scope, so a key presented there
  // is checked even with skip_auth (none = anonymous, every tool).
  const SnapshotPtr& snapshot = conn->snapshot();
  if (snapshot != nullptr &&
      (snapshot->require_key || McpKeyedPath(*snapshot, conn->request().Path()))) {
    Identity who = Identify(conn->request(), *snapshot, UnixMillis());
    if (!who.ok()) {
      conn->SendError(AuthError(who), kAuthChallenge);
      return true;
    }
    conn->mutable_request().key_checked = true;
    conn->mutable_request().key = who.key;
  }
  return HandleMcp(conn) || HandleModels(conn) || HandleTools(conn) || HandleInference(conn);
}

}  // namespace bitrouter::worker
