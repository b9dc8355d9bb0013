// Until the stdio transport (bitrouterd's MCP host) is built, a stdio
// server answers every call with a failure naming it.
#include "worker/mcp/mcp_exchange.h"

namespace bitrouter::worker {
namespace {
class Done final : public McpInFlight {
 public:
  void Cancel(const std::string&) override {}
};
}  // namespace

std::shared_ptr<McpInFlight> McpStdioSend(const McpContext&, const McpServerRuntime&,
                                          McpSendArgs args) {
  args.done(McpReply{"", "", "stdio servers are not served yet"});
  return std::make_shared<Done>();
}

}  // namespace bitrouter::worker
