#include "shared/keys/mcp_scope.h"

#include "absl/strings/str_cat.h"
#include "shared/keys/virtual_key.h"

namespace bitrouter::keys {
namespace {

bool AllFrom(std::string_view s, std::string_view extra) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

struct Split {
  std::string_view server;
  std::string_view tool;  // "" = every tool
};

Split SplitPattern(std::string_view p) {
  size_t colon = p.find(':');
  if (colon == std::string_view::npos) return {p, {}};
  return {p.substr(0, colon), p.substr(colon + 1)};
}

}  // namespace

absl::Status ValidateMcpPatterns(const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    const Split s = SplitPattern(p);
    const bool has_colon = p.find(':') != std::string::npos;
    std::string problem;
    if (p.find(':') != p.rfind(':')) {
      problem = "at most one ':' (server:tool)";
    } else if (s.server.empty() || s.server.size() > 64 || !AllFrom(s.server, "_-*")) {
      problem = "the server part is 1..64 characters from A-Z a-z 0-9 _ - and '*'";
    } else if (has_colon && (s.tool.empty() || s.tool.size() > 128 || !AllFrom(s.tool, "_.-*"))) {
      problem = "the tool part is 1..128 characters from A-Z a-z 0-9 _ . - and '*'";
    }
    if (!problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "MCP pattern '", p, "': ", problem,
          "; expected server, server:tool-glob or virtual:tool-glob (comma-separated)"));
    }
  }
  return absl::OkStatus();
}

bool McpScopeShowsServer(const std::vector<std::string>& patterns, std::string_view server) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    const Split s = SplitPattern(p);
    if (s.server != kVirtualToolsScope && GlobMatch(s.server, server)) return true;
  }
  return false;
}

bool McpScopeShowsTool(const std::vector<std::string>& patterns, std::string_view server,
                       std::string_view tool) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    const Split s = SplitPattern(p);
    if (s.server == kVirtualToolsScope || !GlobMatch(s.server, server)) continue;
    if (s.tool.empty() || GlobMatch(s.tool, tool)) return true;
  }
  return false;
}

bool McpScopeShowsVirtual(const std::vector<std::string>& patterns, std::string_view name) {
  if (patterns.empty()) return true;
  for (const std::string& p : patterns) {
    const Split s = SplitPattern(p);
    if (s.server != kVirtualToolsScope) continue;
    if (s.tool.empty() || GlobMatch(s.tool, name)) return true;
  }
  return false;
}

}  // namespace bitrouter::keys
