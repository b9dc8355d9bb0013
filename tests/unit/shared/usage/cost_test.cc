// Cost of one answer: real wire usage from each provider family goes through
// its protocol's real parse_response, then is priced against the built-in
// catalog (or a pricing given inline for the edge cases). Every expected
// figure is worked out by hand next to its row.

#include "shared/usage/cost.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "shared/config/loader.h"
#include "shared/protocol/adapters.h"

namespace bitrouter::usage {
namespace {

using protocol::Protocol;

std::string Join(std::string_view head, std::string_view usage, std::string_view tail) {
  std::string out(head);
  out.append(usage).append(tail);
  return out;
}

// Minimal valid answers around a usage object.
std::string ChatBody(std::string_view usage) {
  return Join(R"({"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,)"
              R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":)",
              usage, "}");
}
std::string MessagesBody(std::string_view usage) {
  return Join(R"({"id":"msg_1","type":"message","role":"assistant","model":"m",)"
              R"("content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":)",
              usage, "}");
}
std::string GeminiBody(std::string_view usage) {
  return Join(R"({"responseId":"r1","modelVersion":"m","candidates":[{"content":{"role":"model",)"
              R"("parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":)",
              usage, "}");
}
std::string ResponsesBody(std::string_view usage) {
  return Join(R"({"id":"resp_1","object":"response","status":"completed","model":"m",)"
              R"("output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed",)"
              R"("content":[{"type":"output_text","text":"hi","annotations":[]}]}],"usage":)",
              usage, "}");
}

std::string Body(Protocol p, std::string_view usage) {
  switch (p) {
    case Protocol::kChat:
      return ChatBody(usage);
    case Protocol::kMessages:
      return MessagesBody(usage);
    case Protocol::kGemini:
      return GeminiBody(usage);
    case Protocol::kResponses:
      return ResponsesBody(usage);
  }
  return "";
}

const config::Config& Catalog() {
  static const config::Config* cfg = [] {
    auto parsed = config::ParseConfig("", "builtin", {});
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return new config::Config(parsed.ok() ? *parsed : config::Config{});
  }();
  return *cfg;
}

std::optional<config::Pricing> CatalogPricing(const config::Config& cfg,
                                              const std::string& provider,
                                              const std::string& model) {
  auto it = cfg.providers.find(provider);
  if (it == cfg.providers.end()) return std::nullopt;
  for (const config::CatalogModel& m : it->second.catalog) {
    if (m.id == model) return m.pricing;
  }
  return std::nullopt;
}

config::Pricing Inline(double in, double read, double write, double out, double reasoning) {
  config::Pricing p;
  p.input_no_cache = in, p.cache_read = read, p.cache_write = write;
  p.output_text = out, p.reasoning = reasoning;
  return p;
}

struct Case {
  std::string name;
  Protocol protocol;
  std::string usage;  // the wire usage object
  // Catalog entry to price against; empty provider = use `pricing`.
  std::string provider, model;
  config::Pricing pricing;
  // Expected buckets: uncached, cache read, cache write, output text, reasoning.
  int64_t uncached, read, write, text, reasoning;
  std::optional<int64_t> micro_usd;
  bool clamped = false;
};

class CostTableTest : public testing::TestWithParam<Case> {};

TEST_P(CostTableTest, PricesParsedUsage) {
  const Case& c = GetParam();
  auto resp = protocol::AdapterFor(c.protocol).parse_response(Body(c.protocol, c.usage));
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_TRUE(resp->usage.has_value()) << "the parser dropped the usage";
  config::Pricing pricing = c.pricing;
  if (!c.provider.empty()) {
    std::optional<config::Pricing> p = CatalogPricing(Catalog(), c.provider, c.model);
    ASSERT_TRUE(p.has_value()) << "not in the built-in catalog: " << c.provider << "/" << c.model;
    pricing = *p;
  }
  CostBreakdown got = ComputeCost(*resp->usage, pricing);
  EXPECT_EQ(got.input_uncached_tokens, c.uncached);
  EXPECT_EQ(got.cache_read_tokens, c.read);
  EXPECT_EQ(got.cache_write_tokens, c.write);
  EXPECT_EQ(got.output_text_tokens, c.text);
  EXPECT_EQ(got.reasoning_tokens, c.reasoning);
  EXPECT_EQ(got.total_micro_usd, c.micro_usd);
  EXPECT_EQ(got.clamped, c.clamped);
}

constexpr double kU = -1;  // unknown price

INSTANTIATE_TEST_SUITE_P(
    ProviderFamilies, CostTableTest,
    testing::Values(
        // OpenAI Chat: cached tokens inside prompt_tokens, reasoning inside
        // completion_tokens. gpt-5: 1.25 / 0.125 / - / 10 / 10 USD per Mtok.
        // 500x1.25 + 1500x0.125 + 300x10 + 500x10
        //   = 625 + 187.5 + 3000 + 5000 = 8812.5 -> 8813 (rounded once, half up).
        Case{"ChatCachedAndReasoning",
             Protocol::kChat,
             R"({"prompt_tokens":2000,"completion_tokens":800,"total_tokens":2800,
                 "prompt_tokens_details":{"cached_tokens":1500},
                 "completion_tokens_details":{"reasoning_tokens":500}})",
             "openai",
             "gpt-5",
             {},
             500,
             1500,
             0,
             300,
             500,
             8813},
        // OpenRouter Chat reports cache writes inside prompt_tokens too.
        // anthropic/claude-sonnet-4.6 there: 3 / 0.3 / 3.75 / 15 / (none: 15).
        // 1000x3 + 6000x0.3 + 3000x3.75 + 150x15 + 50x15
        //   = 3000 + 1800 + 11250 + 2250 + 750 = 19050.
        Case{"ChatOpenRouterCacheWrite",
             Protocol::kChat,
             R"({"prompt_tokens":10000,"completion_tokens":200,"total_tokens":10200,
                 "prompt_tokens_details":{"cached_tokens":6000,"cache_write_tokens":3000},
                 "completion_tokens_details":{"reasoning_tokens":50},"cost":0.02})",
             "openrouter",
             "anthropic/claude-sonnet-4.6",
             {},
             1000,
             6000,
             3000,
             150,
             50,
             19050},
        // DeepSeek Chat: cache hits only as prompt_cache_hit_tokens.
        // deepseek-chat: 0.56 / 0.07 / - / 1.68. 200x0.56 + 800x0.07 + 100x1.68
        //   = 112 + 56 + 168 = 336.
        Case{"ChatDeepSeekCacheHit",
             Protocol::kChat,
             R"({"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,
                 "prompt_cache_hit_tokens":800,"prompt_cache_miss_tokens":200})",
             "deepseek",
             "deepseek-chat",
             {},
             200,
             800,
             0,
             100,
             0,
             336},
        // Anthropic Messages: cache read and creation are OUTSIDE input_tokens.
        // claude-sonnet-4-5: 3 / 0.3 / 3.75 / 15 / 15.
        // 100x3 + 20000x0.3 + 5000x3.75 + 400x15 = 300 + 6000 + 18750 + 6000 = 31050.
        Case{"MessagesCacheOutsideInput",
             Protocol::kMessages,
             R"({"input_tokens":100,"cache_read_input_tokens":20000,
                 "cache_creation_input_tokens":5000,"output_tokens":400})",
             "anthropic",
             "claude-sonnet-4-5",
             {},
             100,
             20000,
             5000,
             400,
             0,
             31050},
        // Gemini: cachedContentTokenCount inside promptTokenCount,
        // thoughtsTokenCount outside candidatesTokenCount.
        // gemini-2.5-flash: 0.30 / 0.03 / - / 2.50 / 2.50.
        // 4000x0.3 + 8000x0.03 + 300x2.5 + 1200x2.5 = 1200 + 240 + 750 + 3000 = 5190.
        Case{"GeminiCachedAndThoughts",
             Protocol::kGemini,
             R"({"promptTokenCount":12000,"cachedContentTokenCount":8000,
                 "candidatesTokenCount":300,"thoughtsTokenCount":1200,
                 "totalTokenCount":13500})",
             "google",
             "gemini-2.5-flash",
             {},
             4000,
             8000,
             0,
             300,
             1200,
             5190},
        // Responses: cached inside input_tokens, reasoning inside output_tokens.
        // gpt-5-mini: 0.25 / 0.025 / - / 2 / 2.
        // 2000x0.25 + 1000x0.025 + 100x2 + 600x2 = 500 + 25 + 200 + 1200 = 1925.
        Case{"ResponsesCachedAndReasoning",
             Protocol::kResponses,
             R"({"input_tokens":3000,"input_tokens_details":{"cached_tokens":1000},
                 "output_tokens":700,"output_tokens_details":{"reasoning_tokens":600},
                 "total_tokens":3700})",
             "openai",
             "gpt-5-mini",
             {},
             2000,
             1000,
             0,
             100,
             600,
             1925},
        // No reasoning rate: reasoning at the output rate. grok-4: 3 / 0.75 / - / 15.
        // 1000x3 + 100x15 + 400x15 = 3000 + 1500 + 6000 = 10500.
        Case{"ReasoningAtOutputRateWhenUnpriced",
             Protocol::kChat,
             R"({"prompt_tokens":1000,"completion_tokens":500,
                 "completion_tokens_details":{"reasoning_tokens":400}})",
             "xai",
             "grok-4",
             {},
             1000,
             0,
             0,
             100,
             400,
             10500},
        // Reasoning has its own rate when one is given: 1000x1 + 100x10 + 400x2 = 2800.
        Case{"ReasoningAtItsOwnRate", Protocol::kResponses,
             R"({"input_tokens":1000,"output_tokens":500,
                 "output_tokens_details":{"reasoning_tokens":400}})",
             "", "", Inline(1, kU, kU, 10, 2), 1000, 0, 0, 100, 400, 2800},
        // openai/gpt-5.5 on OpenRouter has no cache-write price: unknown, not $0.
        Case{"UnknownCacheWritePriceIsUnknownCost",
             Protocol::kChat,
             R"({"prompt_tokens":5000,"completion_tokens":10,
                 "prompt_tokens_details":{"cached_tokens":0,"cache_write_tokens":2000}})",
             "openrouter",
             "openai/gpt-5.5",
             {},
             3000,
             0,
             2000,
             10,
             0,
             std::nullopt},
        // openai/gpt-4o on OpenRouter has no cache-read price.
        Case{"UnknownCacheReadPriceIsUnknownCost",
             Protocol::kChat,
             R"({"prompt_tokens":1000,"completion_tokens":100,
                 "prompt_tokens_details":{"cached_tokens":500}})",
             "openrouter",
             "openai/gpt-4o",
             {},
             500,
             500,
             0,
             100,
             0,
             std::nullopt},
        // ...but zero tokens in that bucket need no price: 1000x2.5 + 100x10 = 3500.
        Case{"ZeroTokensAtUnknownPriceIsKnown",
             Protocol::kChat,
             R"({"prompt_tokens":1000,"completion_tokens":100,
                 "prompt_tokens_details":{"cached_tokens":0}})",
             "openrouter",
             "openai/gpt-4o",
             {},
             1000,
             0,
             0,
             100,
             0,
             3500},
        // Neither a reasoning nor an output rate: reasoning makes it unknown.
        Case{"ReasoningWithNoRateIsUnknown", Protocol::kGemini,
             R"({"promptTokenCount":10,"candidatesTokenCount":0,"thoughtsTokenCount":5})", "", "",
             Inline(1, kU, kU, kU, kU), 10, 0, 0, 0, 5, std::nullopt},
        // A catalog entry without any price (groq llama-3.3-70b-versatile).
        Case{"UnpricedModelIsUnknown",
             Protocol::kMessages,
             R"({"input_tokens":10,"output_tokens":1})",
             "groq",
             "llama-3.3-70b-versatile",
             {},
             10,
             0,
             0,
             1,
             0,
             std::nullopt},
        Case{"UnpricedModelWithNoTokensCostsZero",
             Protocol::kMessages,
             R"({"input_tokens":0,"output_tokens":0})",
             "groq",
             "llama-3.3-70b-versatile",
             {},
             0,
             0,
             0,
             0,
             0,
             0},
        // Cached above the prompt: uncached clamps to 0, the cache is priced as
        // reported. gpt-5: 150x0.125 + 10x10 = 18.75 + 100 = 118.75 -> 119.
        Case{"CacheAbovePromptIsClamped",
             Protocol::kChat,
             R"({"prompt_tokens":100,"completion_tokens":10,
                 "prompt_tokens_details":{"cached_tokens":150}})",
             "openai",
             "gpt-5",
             {},
             0,
             150,
             0,
             10,
             0,
             119,
             /*clamped=*/true},
        // Under half a micro-USD rounds to 0; gpt-5-mini: 1x0.25 = 0.25 -> 0.
        Case{"SubMicroRoundsDown",
             Protocol::kResponses,
             R"({"input_tokens":1,"output_tokens":0})",
             "openai",
             "gpt-5-mini",
             {},
             1,
             0,
             0,
             0,
             0,
             0}),
    [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

// The user's providers.X.models.Y.pricing overrides the built-in field by field.
TEST(CostTest, UserPricingOverridesCatalog) {
  auto cfg = config::ParseConfig(R"(
providers:
  openai:
    models:
      gpt-5:
        pricing:
          input_tokens: {cache_write: 1.5}
          output_tokens: {reasoning: 20}
)",
                                 "cfg.yaml", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  std::optional<config::Pricing> p = CatalogPricing(*cfg, "openai", "gpt-5");
  ASSERT_TRUE(p.has_value());
  protocol::Usage u;
  u.prompt_tokens = 3000;
  u.cache_read_tokens = 1000;
  u.cache_write_tokens = 1000;
  u.completion_tokens = 300;
  u.reasoning_tokens = 100;
  // 1000x1.25 + 1000x0.125 + 1000x1.5 + 200x10 + 100x20
  //   = 1250 + 125 + 1500 + 2000 + 2000 = 6875.
  EXPECT_EQ(ComputeCost(u, *p).total_micro_usd, 6875);
}

TEST(CostTest, NegativeCountsAreClampedAndNotBilled) {
  protocol::Usage u;
  u.prompt_tokens = -5;
  u.completion_tokens = 10;
  u.reasoning_tokens = -1;
  CostBreakdown c = ComputeCost(u, Inline(1, 1, 1, 1, 1));
  EXPECT_TRUE(c.clamped);
  EXPECT_EQ(c.input_uncached_tokens, 0);
  EXPECT_EQ(c.reasoning_tokens, 0);
  EXPECT_EQ(c.output_text_tokens, 10);
  EXPECT_EQ(c.total_micro_usd, 10);
}

TEST(CostTest, OverflowIsUnknownNotWrapped) {
  protocol::Usage u;
  u.prompt_tokens = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_EQ(ComputeCost(u, Inline(1000, kU, kU, kU, kU)).total_micro_usd, std::nullopt);
  u.cache_read_tokens = std::numeric_limits<int64_t>::max();
  u.cache_write_tokens = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(ComputeCost(u, Inline(1, 1, 1, 1, 1)).total_micro_usd, std::nullopt);
}

TEST(CostTest, NonFinitePriceIsUnknown) {
  protocol::Usage u;
  u.prompt_tokens = 1;
  EXPECT_EQ(ComputeCost(u, Inline(std::numeric_limits<double>::quiet_NaN(), kU, kU, kU, kU))
                .total_micro_usd,
            std::nullopt);
  EXPECT_EQ(ComputeCost(u, Inline(std::numeric_limits<double>::infinity(), kU, kU, kU, kU))
                .total_micro_usd,
            std::nullopt);
}

// Chat usage parsing (golden-free): where OpenRouter's cache writes and
// DeepSeek's cache hits land, and which cache-read count wins.
TEST(ChatUsageParseTest, CacheFieldsOfOpenAICompatibleUpstreams) {
  const protocol::Adapter& chat = protocol::AdapterFor(Protocol::kChat);
  auto both = chat.parse_response(
      ChatBody(R"({"prompt_tokens":10,"completion_tokens":1,"prompt_cache_hit_tokens":7,
                   "prompt_tokens_details":{"cached_tokens":4,"cache_write_tokens":3}})"));
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_TRUE(both->usage);
  EXPECT_EQ(both->usage->cache_read_tokens, 4) << "the OpenAI field wins";
  EXPECT_EQ(both->usage->cache_write_tokens, 3);
  auto none = chat.parse_response(ChatBody(R"({"prompt_tokens":10,"completion_tokens":1})"));
  ASSERT_TRUE(none.ok()) << none.status();
  ASSERT_TRUE(none->usage);
  EXPECT_EQ(none->usage->cache_read_tokens, std::nullopt);
  EXPECT_EQ(none->usage->cache_write_tokens, std::nullopt);
  auto bad = chat.parse_response(
      ChatBody(R"({"prompt_tokens":10,"prompt_tokens_details":{"cache_write_tokens":"x"}})"));
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace bitrouter::usage
