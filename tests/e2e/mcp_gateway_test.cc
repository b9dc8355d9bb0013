// Issue 17 through the real binaries: the MCP gateway's transport layer.
// Stateless (no Mcp-Session-Id ever), POST only, Origin and
// MCP-Protocol-Version checked, JSON-RPC envelopes validated with the
// spec's codes, initialize and ping answered locally, notifications 202,
// unknown servers 404.
#include <string>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kInit[] =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

class McpGatewayTest : public RouterTest {
 protected:
  void SetUp() override {
    StartAll(
        "mcp_servers:\n  fix:\n    transport: {type: http, url: \"http://127.0.0.1:9/mcp\"}\n");
  }
  HttpResponse Post(const std::string& path, const std::string& body,
                    const HeaderList& headers = {}) {
    HeaderList h = {{"Content-Type", "application/json"},
                    {"Accept", "application/json, text/event-stream"}};
    h.insert(h.end(), headers.begin(), headers.end());
    return Fetch(router_->port(), "POST", path, body, h);
  }
};

TEST_F(McpGatewayTest, InitializeAndPingAreLocalAndStateless) {
  for (const char* path : {"/mcp", "/mcp/fix"}) {
    HttpResponse r = Post(path, kInit);
    EXPECT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_NE(r.body.find(R"("protocolVersion":"2025-06-18")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("serverInfo":{"name":"bitrouter")"), std::string::npos) << r.body;
    EXPECT_EQ(r.Header("mcp-session-id"), "") << "never a session";
    r = Post(path, R"({"jsonrpc":"2.0","id":"p","method":"ping"})",
             {{"MCP-Protocol-Version", "2025-06-18"}});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"jsonrpc":"2.0","id":"p","result":{}})");
    r = Post(path, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body, "");
  }
  // An unknown version is answered with the latest.
  HttpResponse r = Post(
      "/mcp",
      R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2031-01-01"}})");
  EXPECT_NE(r.body.find(R"("protocolVersion":"2025-11-25")"), std::string::npos) << r.body;
}

TEST_F(McpGatewayTest, TransportChecks) {
  HttpResponse r = Fetch(router_->port(), "GET", "/mcp");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
  EXPECT_EQ(Fetch(router_->port(), "DELETE", "/mcp/fix").status, 405);
  r = Post("/mcp", kInit, {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Post("/mcp", kInit, {{"Origin", "http://localhost:5173"}}).status, 200);
  r = Post("/mcp", kInit, {{"MCP-Protocol-Version", "1999-01-01"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("2025-11-25, 2025-06-18"), std::string::npos) << r.body;
  r = Post("/mcp", "{nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("-32700"), std::string::npos) << r.body;
  r = Post("/mcp", R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("-32600"), std::string::npos) << r.body;
  r = Post("/mcp/nope", kInit);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("-32601"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace bitrouter::testing
