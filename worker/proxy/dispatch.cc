#include "worker/proxy/dispatch.h"

#include <openssl/crypto.h>

#include "shared/common/wall_clock.h"
#include "shared/keys/virtual_key.h"
#include "worker/http/inbound.h"
#include "worker/mcp/mcp_endpoint.h"
#include "worker/mcp/mcp_scope.h"
#include "worker/proxy/inference_endpoints.h"
#include "worker/proxy/model_endpoints.h"
#include "worker/proxy/tool_endpoints.h"
#include "worker/stages/auth/auth_stage.h"

namespace bitrouter::worker {

// bitrouterd asking the gateway for `bitrouterctl mcp` (controld/mcp_admin.h):
// its per-process secret opens MCP routes only.
static bool InternalMcpRequest(const InboundRequest& req, const WorkerSnapshot& snapshot) {
  if (snapshot.mcp == nullptr || snapshot.mcp->internal_token_hash.size() != 32) return false;
  if (req.Path().rfind("/mcp/", 0) != 0) return false;
  const std::string_view token = req.Header("x-bitrouter-internal");
  if (token.empty()) return false;
  const std::string hash = keys::HashRaw(token);
  return CRYPTO_memcmp(hash.data(), snapshot.mcp->internal_token_hash.data(), 32) == 0;
}

// GET /v1/tools is one of the plugin endpoints that stay open (like
// /v1/routes): it answers without a BitRouter key (every virtual tool with
// skip_auth, none with keys required: tool_endpoints.cc). A brvk_ key
// presented there is still checked and filters the list by its MCP scope;
// any other credential (a plugin's own token) counts as none.
static bool OpenToolList(const InboundRequest& req) {
  return req.Path() == "/v1/tools" && !ClientCredential(req).starts_with(keys::kSecretPrefix);
}

bool ProxyDispatcher::Dispatch(HttpConnection* conn) {
  // With keys required, nothing past the server's own endpoints (/health,
  // /metrics, the plugin's /v1/routes, /v1/metrics, /v1/agents, /v1/skills)
  // answers without one: model lists and token counts included, and before
  // the body is looked at. Inference requests then meet the chain's "auth"
  // stage, which puts the key on the call. The MCP routes and /v1/tools
  // answer by the key's MCP scope, so a key presented there is checked even
  // with skip_auth (none = anonymous, every tool).
  const SnapshotPtr& snapshot = conn->snapshot();
  if (snapshot != nullptr && !InternalMcpRequest(conn->request(), *snapshot) &&
      !OpenToolList(conn->request()) &&
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
