#include "shared/routing/route_table.h"

#include <gtest/gtest.h>

#include <map>

namespace bitrouter::routing {
namespace {

Target Ep(std::string provider, std::string model) {
  Target t;
  t.provider = std::move(provider);
  t.model_id = std::move(model);
  return t;
}

Target Tg(std::string provider, uint32_t weight, int key_index, uint32_t group) {
  Target t = Ep(std::move(provider), "m");
  t.weight = weight;
  t.key_index = key_index;
  t.group = group;
  return t;
}

RouteTable MakeTable() {
  RouteTable t;
  t.AddProvider({"openai", "openai", {"gpt-4o", "gpt-4o-mini"}, 1, true, ""});
  t.AddProvider({"openrouter", "openai", {"gpt-4o", "claude"}, 2, true, ""});
  t.AddProvider(
      {"deepseek", "openai", {"deepseek-chat"}, 1, false, "no API key: set DEEPSEEK_API_KEY"});
  RouteSpec smart{"smart", "priority", {}, false};
  smart.endpoints.push_back(Ep("openai", "gpt-4o"));
  smart.endpoints.push_back(Ep("deepseek", "deepseek-chat"));
  smart.endpoints.push_back(Ep("openrouter", "claude"));
  t.AddRoute(smart);
  return t;
}

TEST(ResolveTest, VirtualModelSkipsInactiveAndExpandsKeyPools) {
  RouteTable t = MakeTable();
  auto r = t.Resolve("smart");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "virtual model");
  ASSERT_EQ(r->targets.size(), 3u);  // openai + openrouter x2 keys
  EXPECT_EQ(r->targets[0].provider, "openai");
  EXPECT_EQ(r->targets[1].provider, "openrouter");
  EXPECT_EQ(r->targets[1].key_index, 0);
  EXPECT_EQ(r->targets[2].key_index, 1);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_NE(r->skipped[0].find("DEEPSEEK_API_KEY"), std::string::npos);
}

TEST(ResolveTest, RuntimeRoutesShadowConfigRoutesWhateverTheOrder) {
  RouteTable t = MakeTable();
  t.AddRoute({"smart", "load_balance", {Ep("openrouter", "x")}, true});
  t.AddRoute({"smart", "priority", {Ep("openai", "y")}, false});  // config comes later
  auto r = t.Resolve("smart");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, "runtime route");
  EXPECT_EQ(r->targets[0].model_id, "x");
}

TEST(ResolveTest, ProviderColonModel) {
  RouteTable t = MakeTable();
  auto r = t.Resolve("openai:o3");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, "provider:model");
  ASSERT_EQ(r->targets.size(), 1u);
  EXPECT_EQ(r->targets[0].model_id, "o3");
  // Model ids may themselves contain ':' after the provider.
  auto ft = t.Resolve("openai:ft:gpt-4o:org:abc");
  ASSERT_TRUE(ft.ok());
  EXPECT_EQ(ft->targets[0].model_id, "ft:gpt-4o:org:abc");
}

TEST(ResolveTest, SlashIdPinsAnActiveProviderElseStaysACatalogId) {
  RouteTable t = MakeTable();
  t.AddProvider({"anthropic", "anthropic", {}, 1, false, "no API key"});
  t.AddProvider({"orouter", "openai", {"anthropic/claude-3-haiku"}, 1, true, ""});
  RouteSpec pinned{"openai/pinned", "priority", {Ep("openrouter", "claude")}, false};
  t.AddRoute(pinned);
  auto r = t.Resolve("openai/gpt-4o-mini");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->source, "provider:model");
  ASSERT_EQ(r->targets.size(), 1u);
  EXPECT_EQ(r->targets[0].provider, "openai");
  EXPECT_EQ(r->targets[0].model_id, "gpt-4o-mini");
  // Any model text after a configured provider, like provider:model.
  auto any = t.Resolve("openrouter/meta-llama/llama-3-70b");
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->targets[0].provider, "openrouter");
  EXPECT_EQ(any->targets[0].model_id, "meta-llama/llama-3-70b");
  // An inactive provider's prefix: the whole name is a catalog id.
  auto haiku = t.Resolve("anthropic/claude-3-haiku");
  ASSERT_TRUE(haiku.ok()) << haiku.status();
  EXPECT_EQ(haiku->source, "auto-cascade");
  EXPECT_EQ(haiku->targets[0].provider, "orouter");
  EXPECT_EQ(haiku->targets[0].model_id, "anthropic/claude-3-haiku");
  // A route of that exact name wins.
  auto route = t.Resolve("openai/pinned");
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->source, "virtual model");
  // Unknown prefixes and malformed slashes stay unknown.
  EXPECT_FALSE(t.Resolve("nobody/x").ok());
  EXPECT_FALSE(t.Resolve("openai/").ok());
  EXPECT_FALSE(t.Resolve("/gpt-4o").ok());
}

TEST(ResolveTest, BareIdCascadesInProviderOrder) {
  RouteTable t = MakeTable();
  auto r = t.Resolve("gpt-4o");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source, "auto-cascade");
  ASSERT_EQ(r->targets.size(), 3u);
  EXPECT_EQ(r->targets[0].provider, "openai");
  EXPECT_EQ(r->targets[1].provider, "openrouter");
}

struct NotFoundCase {
  std::string model;
  std::string expect;
};

class ResolveNotFoundTest : public ::testing::TestWithParam<NotFoundCase> {};

TEST_P(ResolveNotFoundTest, NamesWhatWasTried) {
  RouteTable t = MakeTable();
  auto r = t.Resolve(GetParam().model);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(r.status().message()).find(GetParam().expect), std::string::npos)
      << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResolveNotFoundTest,
    ::testing::Values(NotFoundCase{"nosuch:x", "provider 'nosuch' is not configured"},
                      NotFoundCase{"deepseek:x", "DEEPSEEK_API_KEY"},
                      NotFoundCase{"deepseek-chat", "DEEPSEEK_API_KEY"},
                      NotFoundCase{"unknown-model", "no active provider lists it"},
                      NotFoundCase{"openai:", "want provider:model_id"},
                      NotFoundCase{":x", "want provider:model_id"}));

TEST(OrderTest, PriorityKeepsOrderAndRotatesWithinAKeyPool) {
  Resolution r;
  r.strategy = "priority";
  r.targets = {Tg("a", 1, -1, 0), Tg("b", 1, 0, 1), Tg("b", 1, 1, 1), Tg("c", 1, -1, 2)};
  EXPECT_EQ(OrderTargets(r, 0), (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(OrderTargets(r, 1), (std::vector<size_t>{0, 2, 1, 3}));
}

TEST(OrderTest, LoadBalanceHonoursWeightsAndKeepsTheRestAsFailover) {
  Resolution r;
  r.strategy = "load_balance";
  r.targets = {Tg("a", 3, -1, 0), Tg("b", 1, -1, 1)};
  std::map<size_t, int> firsts;
  for (uint64_t c = 0; c < 400; ++c) {
    auto order = OrderTargets(r, c);
    ASSERT_EQ(order.size(), 2u);
    EXPECT_NE(order[0], order[1]);
    firsts[order[0]]++;
  }
  EXPECT_EQ(firsts[0], 300);
  EXPECT_EQ(firsts[1], 100);
}

TEST(TargetIdTest, StableAndFreeOfSecrets) {
  Target t = Ep("openai", "gpt-4o");
  t.api_key = "sk-secret-value";
  std::string id = TargetId(t);
  EXPECT_EQ(id, TargetId(t));
  EXPECT_EQ(id.find("sk-secret"), std::string::npos);
  Target u = t;
  u.api_key = "sk-other";
  EXPECT_NE(TargetId(u), id);
}

}  // namespace
}  // namespace bitrouter::routing
