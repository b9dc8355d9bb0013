#include "worker/proxy/tool_endpoints.h"

#include "shared/protocol/errors.h"
#include "worker/mcp/mcp_virtual.h"

namespace bitrouter::worker {

bool HandleTools(HttpConnection* conn) {
  const InboundRequest& req = conn->request();
  if (req.Path() != "/v1/tools") return false;
  if (req.method != HTTP_GET && req.method != HTTP_HEAD) {
    conn->SendResponse(405, "application/json",
                       protocol::RenderError(protocol::Protocol::kChat,
                                             {405, "invalid_request_error", "method_not_allowed",
                                              "use GET /v1/tools"}),
                       "Allow: GET\r\n");
    return true;
  }
  // Reachable without a key (the OpenClaw plugin's probe), but with keys
  // required an anonymous caller may call no tool, so it is listed none:
  // names, descriptions and schemas are not given away.
  if (conn->snapshot()->require_key && !req.key_checked) {
    conn->SendResponse(200, "application/json", R"({"object":"list","data":[],"tools":[]})");
    return true;
  }
  conn->SendResponse(200, "application/json", VirtualToolsCatalog(*conn->snapshot(), req.key));
  return true;
}

}  // namespace bitrouter::worker
