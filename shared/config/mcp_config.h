#pragma once
// The MCP part of the configuration model (issue 17): upstream MCP servers
// (`mcp_servers:` and the manual's `api_protocol: mcp` + `bridge: true`
// providers), the gateway settings (`mcp:`) and the manual's virtual tools
// (`tools:`). Built and validated by LoadConfig (shared/config/loader_mcp.cc);
// nothing here is served yet. Header values and environment values are
// secrets: no message, log line or rendering may show them.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bitrouter::config {

enum class McpTransportType { kHttp, kStdio };

// transport: {type: http, url, headers: {..}}
struct McpHttpTransport {
  std::string url;  // http:// or https://, parsed by ParseUrl
  // In file order; names are header tokens, no two equal ignoring case.
  // Values are ${VAR}-substituted and hold credentials.
  std::vector<std::pair<std::string, std::string>> headers;
  bool allow_insecure_http = false;  // http:// to a non-loopback host
  bool operator==(const McpHttpTransport&) const = default;
};

// transport: {type: stdio, command, args: [..], env: {..}, cwd}. Only ever
// from the config file: no RPC, ctl command or request can set these.
struct McpStdioTransport {
  std::string command;  // non-empty; run as given (PATH lookup is the host's business)
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to the child's environment; values are secrets
  std::string cwd;                         // "" = the daemon's working directory
  bool operator==(const McpStdioTransport&) const = default;
};

// One upstream MCP server (mcp_servers.<id>, or a bridged provider).
struct McpServerConfig {
  std::string id;    // [A-Za-z0-9_-]{1,64}, no "__", not "sse"
  std::string name;  // display name (optional; v1's `name`)
  McpTransportType type = McpTransportType::kHttp;
  McpHttpTransport http;    // when type == kHttp
  McpStdioTransport stdio;  // when type == kStdio
  // Member of the aggregate endpoint (POST <mcp.aggregate.route>).
  bool aggregate = true;
  // Effective prefix of its tools on the aggregate endpoint: "<id>__" unless
  // tool_prefix is given ("" allowed). Unique among aggregate servers.
  std::string tool_prefix;
  uint32_t timeout_ms = 60'000;  // per request to this server (timeout:); 1ms..1h
  // Globs ('*') on the server's own (unprefixed) tool names. Empty allow =
  // every tool; a disallowed match always hides the tool.
  std::vector<std::string> allowed_tools, disallowed_tools;
  // True when it came from providers.<id> (api_protocol: mcp, bridge: true).
  bool bridged = false;
  int line = 0;  // line of its key (mcp_servers.<id>: or providers.<id>:)
};

// mcp: — the gateway itself.
struct McpGatewayConfig {
  bool aggregate_enabled = true;         // mcp.aggregate.enabled
  std::string aggregate_route = "/mcp";  // mcp.aggregate.route; starts with '/'
  // mcp.allowed_origins: browser Origins accepted, lowercased
  // "scheme://host[:port]". Empty (the default) = loopback origins only
  // (http(s)://localhost, 127.0.0.0/8, [::1], any port). A request without
  // Origin is not a browser request and is not refused for it.
  std::vector<std::string> allowed_origins;
  // mcp.keepalive: the interval of SSE comments on a long tools/call.
  uint32_t keepalive_ms = 15'000;
  struct Cache {
    bool enabled = true;
    // `ttl:` sets all four; v1's *_ttl_secs keys override one each.
    uint32_t tools_list_ttl_ms = 60'000;
    uint32_t resources_list_ttl_ms = 60'000;
    uint32_t resources_templates_list_ttl_ms = 300'000;
    uint32_t prompts_list_ttl_ms = 300'000;
    uint32_t max_entries_per_server = 64;
  } cache;
  int line = 0;  // line of the mcp: key; 0 = absent
};

// tools.<name>.endpoints[i]: a tool of an MCP server.
struct VirtualToolEndpoint {
  std::string server;      // `provider` (or `server`): an MCP server id
  std::string service_id;  // the tool's name on that server
  int line = 0;
  // Non-empty: the endpoint cannot be served (e.g. the manual's REST tool
  // provider `exa`); routing skips it.
  std::string inactive_reason;
};

// tools.<name>: a tool name clients see, served by one or more endpoints.
struct VirtualTool {
  std::string name;                            // [A-Za-z0-9_.-]{1,128} (MCP tool names)
  std::string strategy = "priority";           // priority | load_balance
  std::vector<VirtualToolEndpoint> endpoints;  // never empty
  std::string description;
  // input_schema as compact JSON text (an object); "" = not given.
  std::string input_schema_json;
  std::string skill;
  // pricing.default in USD per call; negative = not priced.
  double price_per_call = -1;
  std::map<std::string, double> price_overrides;  // pricing.overrides, by service_id
  int line = 0;
};

}  // namespace bitrouter::config
