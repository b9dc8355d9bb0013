// The MCP gateway's pure protocol pieces: JSON-RPC envelopes, version
// negotiation, the Origin check and aggregate tool names.
#include <gtest/gtest.h>

#include "shared/mcp/jsonrpc.h"
#include "shared/mcp/lifecycle.h"
#include "shared/mcp/names.h"

namespace bitrouter::mcp {
namespace {

JsonRpcMessage Ok(std::string_view body) {
  auto r = ParseJsonRpc(body);
  EXPECT_TRUE(std::holds_alternative<JsonRpcMessage>(r)) << body;
  return std::holds_alternative<JsonRpcMessage>(r) ? std::get<JsonRpcMessage>(r) : JsonRpcMessage{};
}

JsonRpcError Err(std::string_view body) {
  auto r = ParseJsonRpc(body);
  EXPECT_TRUE(std::holds_alternative<JsonRpcError>(r)) << body;
  return std::holds_alternative<JsonRpcError>(r) ? std::get<JsonRpcError>(r) : JsonRpcError{};
}

TEST(JsonRpcTest, RequestsNotificationsAndResponses) {
  JsonRpcMessage r = Ok(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}})");
  EXPECT_EQ(r.kind, JsonRpcMessage::Kind::kRequest);
  EXPECT_EQ(r.id, "7");
  EXPECT_EQ(r.method, "tools/call");
  EXPECT_EQ(r.params, R"({"name":"x"})");
  r = Ok(R"({"jsonrpc":"2.0","id":"a-1","method":"ping"})");
  EXPECT_EQ(r.id, R"("a-1")");
  EXPECT_TRUE(r.params.empty());
  r = Ok(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(r.kind, JsonRpcMessage::Kind::kNotification);
  r = Ok(R"({"jsonrpc":"2.0","id":3,"result":{}})");
  EXPECT_EQ(r.kind, JsonRpcMessage::Kind::kResponse);
  EXPECT_EQ(r.result, "{}");
  r = Ok(R"({"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}})");
  EXPECT_EQ(r.kind, JsonRpcMessage::Kind::kResponse);
}

TEST(JsonRpcTest, TheSpecsErrorCodes) {
  EXPECT_EQ(Err("{nope").code, kParseError);
  EXPECT_EQ(Err("").code, kParseError);
  EXPECT_EQ(Err(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])").code, kInvalidRequest);
  EXPECT_EQ(Err(R"("ping")").code, kInvalidRequest);
  JsonRpcError e = Err(R"({"jsonrpc":"1.0","id":4,"method":"ping"})");
  EXPECT_EQ(e.code, kInvalidRequest);
  EXPECT_EQ(e.id, "4") << "the id is echoed when it could be read";
  EXPECT_EQ(Err(R"({"id":1,"method":"ping"})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":null,"method":"ping"})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":{},"method":"ping"})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":1,"method":""})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":1,"method":"x","params":3})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","id":1})").code, kInvalidRequest);
  EXPECT_EQ(Err(R"({"jsonrpc":"2.0","result":{}})").code, kInvalidRequest);
}

TEST(JsonRpcTest, BodiesAreJsonRpc) {
  EXPECT_EQ(ResultBody("1", "{}"), R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(
      ErrorBody("", kMethodNotFound, "Method \"x\" not found"),
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32601,"message":"Method \"x\" not found"}})");
  EXPECT_EQ(
      ErrorBody(R"("a")", -32000, "m", R"({"server":"s"})"),
      R"({"jsonrpc":"2.0","id":"a","error":{"code":-32000,"message":"m","data":{"server":"s"}}})");
  EXPECT_EQ(NotificationBody("notifications/cancelled", R"({"requestId":1})"),
            R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}})");
  EXPECT_EQ(RequestBody("9", "tools/list", ""),
            R"({"jsonrpc":"2.0","id":9,"method":"tools/list"})");
}

TEST(LifecycleTest, VersionsAndTheInitializeResult) {
  EXPECT_EQ(NegotiateVersion("2025-06-18"), "2025-06-18");
  EXPECT_EQ(NegotiateVersion("2031-01-01"), kLatestVersion);
  EXPECT_TRUE(CheckVersionHeader("", false).empty());
  EXPECT_TRUE(CheckVersionHeader("2025-03-26", true).empty());
  std::string bad = CheckVersionHeader("1999-01-01", true);
  EXPECT_NE(bad.find("2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05"), std::string::npos) << bad;
  EXPECT_EQ(
      InitializeResult("2025-06-18", "1.2.3", ""),
      R"({"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":false}},"serverInfo":{"name":"bitrouter","version":"1.2.3"}})");
}

TEST(LifecycleTest, Origins) {
  const std::vector<std::string> loopback;
  EXPECT_TRUE(OriginAllowed("", false, loopback)) << "no Origin: not a browser";
  for (const char* o : {"http://localhost", "http://localhost:3000", "https://127.0.0.1:8080",
                        "http://[::1]:9", "HTTP://LOCALHOST"}) {
    EXPECT_TRUE(OriginAllowed(o, true, loopback)) << o;
  }
  for (const char* o : {"http://evil.example", "null", "http://localhost.evil.example",
                        "http://127.0.0.1.evil.example", "file://localhost", ""}) {
    EXPECT_FALSE(OriginAllowed(o, true, loopback)) << o;
  }
  const std::vector<std::string> listed = {"https://app.example.com", "null"};
  EXPECT_TRUE(OriginAllowed("https://App.Example.com", true, listed));
  EXPECT_TRUE(OriginAllowed("null", true, listed));
  EXPECT_FALSE(OriginAllowed("http://localhost", true, listed)) << "a list replaces loopback";
}

TEST(NamesTest, TheLongestPrefixWins) {
  const std::vector<std::string> prefixes = {"git__", "github__", "gh_"};
  EXPECT_EQ(AggregateName("git__", "log"), "git__log");
  auto r = RouteAggregateName("github__create_issue", prefixes);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->server, 1u);
  EXPECT_EQ(r->tool, "create_issue");
  r = RouteAggregateName("git__log", prefixes);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->server, 0u);
  EXPECT_FALSE(RouteAggregateName("git__", prefixes).has_value()) << "nothing left";
  EXPECT_FALSE(RouteAggregateName("other", prefixes).has_value());
}

}  // namespace
}  // namespace bitrouter::mcp
