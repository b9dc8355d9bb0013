#pragma once
// A virtual key's MCP scope (issue 17): which MCP servers, tools and
// virtual tools the key may see and call. Shared by bitrouterd and
// bitrouterctl (validation) and the workers (enforcement).
//
// Patterns, comma-separated on the command line:
//   "server"             every tool of that MCP server
//   "server:tool-glob"   the server's tools whose own (unprefixed) names match
//   "virtual:tool-glob"  the virtual tools (config `tools:`) whose names match;
//                        "virtual" alone = every virtual tool
// '*' matches any run of characters in either part. An empty list = every
// MCP server, tool and virtual tool (the same rule as model scopes). A
// virtual tool is scoped as a whole by its own name: the servers behind it
// need not be in the key's scope.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace bitrouter::keys {

// The server part that names virtual tools (no MCP server may use this id).
inline constexpr std::string_view kVirtualToolsScope = "virtual";

// An error naming the first bad pattern.
absl::Status ValidateMcpPatterns(const std::vector<std::string>& patterns);

// Whether some pattern admits any tool of `server` (for /mcp/{id}).
bool McpScopeShowsServer(const std::vector<std::string>& patterns, std::string_view server);
// Whether the server's tool `tool` (its own name) is in scope.
bool McpScopeShowsTool(const std::vector<std::string>& patterns, std::string_view server,
                       std::string_view tool);
// Whether the virtual tool `name` is in scope.
bool McpScopeShowsVirtual(const std::vector<std::string>& patterns, std::string_view name);

}  // namespace bitrouter::keys
