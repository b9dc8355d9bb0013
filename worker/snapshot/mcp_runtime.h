#pragma once
// The MCP gateway's part of a worker's snapshot: the upstream servers (with
// their request headers pre-rendered), the gateway settings and the virtual
// tools. Immutable; a request keeps the one it started with.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bitrouter/v1/control.pb.h"
#include "shared/common/url.h"

namespace bitrouter::worker {

struct McpServerRuntime {
  std::string id;
  std::string name;
  bool stdio = false;
  Url url;                   // http
  std::string header_lines;  // http: "Name: value\r\n" from config (credentials)
  std::string stdio_socket;  // stdio: the host's socket ("" = none yet)
  bool aggregate = true;
  std::string tool_prefix;
  uint32_t timeout_ms = 60'000;
  std::vector<std::string> allowed_tools, disallowed_tools;
};

struct McpRuntime {
  std::vector<McpServerRuntime> servers;  // in id order
  bool aggregate_enabled = true;
  std::string aggregate_route = "/mcp";
  std::vector<std::string> allowed_origins;  // empty: loopback only
  bool cache_enabled = true;
  uint32_t tools_list_ttl_ms = 60'000;
  uint32_t resources_list_ttl_ms = 60'000;
  uint32_t resources_templates_list_ttl_ms = 300'000;
  uint32_t prompts_list_ttl_ms = 300'000;
  uint32_t cache_max_entries_per_server = 64;
  uint32_t keepalive_ms = 15'000;  // SSE comments on a long tools/call
  uint64_t version = 0;            // the snapshot's: cached lists never outlive it
  std::vector<bitrouter::v1::VirtualTool> tools;

  const McpServerRuntime* Find(std::string_view id) const;
};

// Null when the snapshot has no MCP servers and no virtual tools.
absl::StatusOr<std::shared_ptr<const McpRuntime>> BuildMcpRuntime(
    const bitrouter::v1::McpGateway& proto, uint64_t version = 0);

}  // namespace bitrouter::worker
