#include "shared/keys/mcp_scope.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bitrouter::keys {
namespace {

using V = std::vector<std::string>;

TEST(McpScopeTest, EmptyScopeShowsEverything) {
  EXPECT_TRUE(McpScopeShowsServer({}, "github"));
  EXPECT_TRUE(McpScopeShowsTool({}, "github", "create_issue"));
  EXPECT_TRUE(McpScopeShowsVirtual({}, "search"));
}

TEST(McpScopeTest, ServerAndToolGlobs) {
  const V scope = {"github", "fs:read_*"};
  EXPECT_TRUE(McpScopeShowsServer(scope, "github"));
  EXPECT_TRUE(McpScopeShowsServer(scope, "fs"));
  EXPECT_FALSE(McpScopeShowsServer(scope, "docs"));
  EXPECT_TRUE(McpScopeShowsTool(scope, "github", "anything"));
  EXPECT_TRUE(McpScopeShowsTool(scope, "fs", "read_file"));
  EXPECT_FALSE(McpScopeShowsTool(scope, "fs", "write_file"));
  EXPECT_FALSE(McpScopeShowsTool(scope, "docs", "read_file"));
  EXPECT_FALSE(McpScopeShowsVirtual(scope, "search"));  // virtual tools need virtual:...
}

TEST(McpScopeTest, VirtualToolsByName) {
  const V scope = {"virtual:web_*"};
  EXPECT_TRUE(McpScopeShowsVirtual(scope, "web_search"));
  EXPECT_FALSE(McpScopeShowsVirtual(scope, "fetch"));
  EXPECT_FALSE(McpScopeShowsServer(scope, "virtual"));
  EXPECT_FALSE(McpScopeShowsTool(scope, "virtual", "web_search"));
  EXPECT_TRUE(McpScopeShowsVirtual({"virtual"}, "fetch"));
  EXPECT_TRUE(McpScopeShowsTool({"*:get_*"}, "any", "get_x"));
}

TEST(McpScopeTest, Validation) {
  EXPECT_TRUE(ValidateMcpPatterns({"github", "fs:read_*", "virtual:*", "a-b_c:x.y"}).ok());
  for (const char* bad : {"", "a:b:c", "fs:", ":x", "a b", "fs:read file", "x/y", "fs:a,b"}) {
    absl::Status s = ValidateMcpPatterns({bad});
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("MCP pattern"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace bitrouter::keys
