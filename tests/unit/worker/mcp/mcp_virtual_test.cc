// Virtual tools and key scopes as the aggregate lists them and GET /v1/tools
// shows them (the pure parts of worker/mcp/mcp_virtual and mcp_scope).
#include "worker/mcp/mcp_virtual.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "worker/mcp/mcp_scope.h"

namespace bitrouter::worker {
namespace {

std::shared_ptr<McpRuntime> Runtime() {
  auto mcp = std::make_shared<McpRuntime>();
  for (const char* id : {"fs", "gh"}) {
    McpServerRuntime s;
    s.id = id;
    mcp->servers.push_back(s);
  }
  bitrouter::v1::VirtualTool search;
  search.set_name("search");
  search.set_strategy("priority");
  search.set_description("Find things");
  auto* e = search.add_endpoints();
  e->set_server("gh");
  e->set_service_id("find");
  e = search.add_endpoints();
  e->set_server("fs");
  e->set_service_id("grep");
  search.set_price_per_call(0.5);
  (*search.mutable_price_overrides())["grep"] = 0.25;
  bitrouter::v1::VirtualTool fetch;
  fetch.set_name("fetch");
  fetch.set_strategy("load_balance");
  fetch.set_input_schema_json("{\"type\":\"object\",\"required\":[\"url\"]}");
  e = fetch.add_endpoints();
  e->set_server("fs");
  e->set_service_id("get");
  fetch.set_price_per_call(-1);
  mcp->tools = {search, fetch};
  return mcp;
}

TEST(McpVirtualTest, ListedWithTheirOwnOrAnEndpointsSchema) {
  auto mcp = Runtime();
  ToolSchemas wanted = VirtualSchemasWanted(*mcp, nullptr);
  ASSERT_EQ(wanted.size(), 2u);  // search's endpoints; fetch has its own schema
  EXPECT_EQ(VirtualSchemaServers(*mcp, nullptr), (std::vector<std::string>{"fs", "gh"}));
  // gh did not answer; fs did: the first endpoint whose server listed the tool.
  wanted[VirtualSchemaKey("fs", "grep")] = "{\"type\":\"object\",\"x\":1}";
  auto listed = ListedVirtualTools(*mcp, nullptr, wanted);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].first, "fetch");
  EXPECT_EQ(listed[0].second,
            "{\"name\":\"fetch\",\"inputSchema\":{\"type\":\"object\",\"required\":[\"url\"]}}");
  EXPECT_EQ(listed[1].second,
            "{\"name\":\"search\",\"description\":\"Find things\",\"inputSchema\":{\"type\":"
            "\"object\",\"x\":1}}");
  // Nothing known: {"type":"object"}.
  listed = ListedVirtualTools(*mcp, nullptr, {});
  EXPECT_NE(listed[1].second.find("\"inputSchema\":{\"type\":\"object\"}}"), std::string::npos);
}

TEST(McpVirtualTest, KeyScopeByVirtualName) {
  auto mcp = Runtime();
  KeyPolicy key;
  key.mcp_tools = {"gh", "virtual:se*"};
  EXPECT_NE(FindVirtualTool(*mcp, &key, "search"), nullptr);
  EXPECT_EQ(FindVirtualTool(*mcp, &key, "fetch"), nullptr);
  EXPECT_NE(FindVirtualTool(*mcp, nullptr, "fetch"), nullptr);
  EXPECT_EQ(FindVirtualTool(*mcp, nullptr, "nope"), nullptr);
  auto listed = ListedVirtualTools(*mcp, &key, {});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].first, "search");
  EXPECT_TRUE(KeyShowsTool(&key, "gh", "anything"));
  EXPECT_FALSE(KeyShowsServer(&key, "fs"));
  KeyPolicy none;
  EXPECT_TRUE(KeyShowsServer(&none, "fs"));
  EXPECT_FALSE(KeyHasMcpScope(&none));
}

TEST(McpVirtualTest, Catalog) {
  WorkerSnapshot snap;
  snap.mcp = Runtime();
  EXPECT_EQ(VirtualToolsCatalog(snap, nullptr),
            "{\"object\":\"list\",\"data\":["
            "{\"name\":\"fetch\",\"description\":\"\",\"input_schema\":{\"type\":\"object\","
            "\"required\":[\"url\"]},\"strategy\":\"load_balance\",\"endpoints\":[{\"server\":"
            "\"fs\",\"tool\":\"get\"}],\"pricing\":{\"per_call_usd\":null}},"
            "{\"name\":\"search\",\"description\":\"Find things\",\"input_schema\":null,"
            "\"strategy\":\"priority\",\"endpoints\":[{\"server\":\"gh\",\"tool\":\"find\"},"
            "{\"server\":\"fs\",\"tool\":\"grep\"}],\"pricing\":{\"per_call_usd\":0.5,"
            "\"overrides\":{\"grep\":0.25}}}],\"tools\":["
            "{\"id\":\"fetch\",\"name\":\"fetch\",\"provider\":\"virtual\",\"input_schema\":"
            "{\"type\":\"object\",\"required\":[\"url\"]}},"
            "{\"id\":\"search\",\"name\":\"search\",\"provider\":\"virtual\","
            "\"description\":\"Find things\"}]}");
  KeyPolicy key;
  key.mcp_tools = {"fs"};
  EXPECT_EQ(VirtualToolsCatalog(snap, &key), "{\"object\":\"list\",\"data\":[],\"tools\":[]}");
  WorkerSnapshot empty;
  EXPECT_EQ(VirtualToolsCatalog(empty, nullptr), "{\"object\":\"list\",\"data\":[],\"tools\":[]}");
}

}  // namespace
}  // namespace bitrouter::worker
