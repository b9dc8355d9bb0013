// Loader tests for provider details: model catalogs and pricing, the
// built-in catalog data, key pools, per-provider timeouts, the plain-http
// rule and the keyless local provider (ollama).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "shared/common/url.h"
#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml, const EnvMap& env = {}) {
  return ParseConfig(yaml, "cfg.yaml", env);
}

const Provider& Get(const Config& cfg, const std::string& name) {
  static const Provider kMissing;
  auto it = cfg.providers.find(name);
  EXPECT_NE(it, cfg.providers.end()) << "no provider " << name;
  return it == cfg.providers.end() ? kMissing : it->second;
}

const CatalogModel* Find(const Provider& p, const std::string& id) {
  for (const CatalogModel& m : p.catalog) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::vector<std::string> Ids(const Provider& p) {
  std::vector<std::string> ids;
  for (const CatalogModel& m : p.catalog) ids.push_back(m.id);
  return ids;
}

std::string Error(std::string_view yaml, const EnvMap& env = {}) {
  auto cfg = Parse(yaml, env);
  if (cfg.ok()) return "(loaded)";
  return std::string(cfg.status().message());
}

// ---------------------------------------------------------------------------
// Catalog

TEST(LoaderCatalogTest, FullEntryWithPricing) {
  auto cfg = Parse(R"(
providers:
  mine:
    api_base: https://llm.example.com/v1
    models:
      big:
        name: Big
        description: the big one
        max_input_tokens: 200000
        max_output_tokens: 8192
        input_modalities: [text, image]
        output_modalities: [text]
        pricing:
          input_tokens: {no_cache: 3, cache_read: 0.3, cache_write: 3.75}
          output_tokens: {text: 15, reasoning: "${REASONING_PRICE:-15}"}
      small: {pricing: {input_tokens: {no_cache: 0}}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "mine");
  ASSERT_EQ(Ids(p), (std::vector<std::string>{"big", "small"}));
  const CatalogModel& big = p.catalog[0];
  EXPECT_EQ(big.name, "Big");
  EXPECT_EQ(big.description, "the big one");
  EXPECT_EQ(big.max_input_tokens, 200000u);
  EXPECT_EQ(big.max_output_tokens, 8192u);
  EXPECT_EQ(big.input_modalities, (std::vector<std::string>{"text", "image"}));
  EXPECT_DOUBLE_EQ(big.pricing.input_no_cache, 3);
  EXPECT_DOUBLE_EQ(big.pricing.cache_read, 0.3);
  EXPECT_DOUBLE_EQ(big.pricing.cache_write, 3.75);
  EXPECT_DOUBLE_EQ(big.pricing.output_text, 15);
  EXPECT_DOUBLE_EQ(big.pricing.reasoning, 15);
  const CatalogModel& small = p.catalog[1];
  EXPECT_DOUBLE_EQ(small.pricing.input_no_cache, 0) << "an explicit 0 is a price";
  EXPECT_LT(small.pricing.output_text, 0) << "a price not given stays unknown, never 0";
  EXPECT_LT(small.pricing.cache_read, 0);
  EXPECT_EQ(small.max_input_tokens, 0u);
}

TEST(LoaderCatalogTest, ShortFormAndNullEntries) {
  auto cfg = Parse(R"(
providers:
  a:
    api_base: https://a.example.com
    models: [x, y, x]
  b:
    api_base: https://b.example.com
    models:
      p:
      q: {}
  c:
    api_base: https://c.example.com
    models:
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Ids(Get(*cfg, "a")), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Ids(Get(*cfg, "b")), (std::vector<std::string>{"p", "q"}));
  EXPECT_TRUE(Get(*cfg, "c").catalog.empty());
}

TEST(LoaderCatalogTest, UserEntriesOverrideBuiltinsById) {
  auto cfg = Parse(R"(
providers:
  openai:
    models:
      gpt-4o:
        pricing:
          output_tokens: {text: 9.5}
      my-finetune:
        max_input_tokens: 1000
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  const CatalogModel* gpt4o = Find(p, "gpt-4o");
  ASSERT_NE(gpt4o, nullptr);
  EXPECT_DOUBLE_EQ(gpt4o->pricing.output_text, 9.5) << "the field given changes";
  EXPECT_DOUBLE_EQ(gpt4o->pricing.input_no_cache, 2.50) << "the others keep the built-in value";
  EXPECT_EQ(gpt4o->max_input_tokens, 128000u);
  const std::vector<std::string> ids = Ids(p);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "gpt-4o"), 1);
  ASSERT_NE(Find(p, "my-finetune"), nullptr);
  EXPECT_EQ(ids.back(), "my-finetune");
  EXPECT_EQ(ids.front(), "gpt-5.5") << "built-in order is kept";
}

TEST(LoaderCatalogTest, DerivesCopiesTheCatalogAndAddsItsOwn) {
  auto cfg = Parse(R"(
providers:
  proxy:
    derives: anthropic
    api_base: https://proxy.example.com/v1
    models:
      house-model: {name: House}
      claude-haiku-4-5: {pricing: {input_tokens: {no_cache: 0.9}}}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& proxy = Get(*cfg, "proxy");
  const Provider& anthropic = Get(*cfg, "anthropic");
  EXPECT_EQ(proxy.catalog.size(), anthropic.catalog.size() + 1);
  ASSERT_NE(Find(proxy, "house-model"), nullptr);
  EXPECT_DOUBLE_EQ(Find(proxy, "claude-haiku-4-5")->pricing.input_no_cache, 0.9);
  EXPECT_DOUBLE_EQ(Find(anthropic, "claude-haiku-4-5")->pricing.input_no_cache, 1.00)
      << "the parent is not changed";
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string want;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class LoaderCatalogErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderCatalogErrorTest, MessageNamesFileLineAndField) {
  EXPECT_EQ(Error(GetParam().yaml), GetParam().want);
}

const char kBase[] = "providers:\n  m:\n    api_base: https://h\n    models:\n";

INSTANTIATE_TEST_SUITE_P(
    Table, LoaderCatalogErrorTest,
    testing::Values(
        ErrorCase{"UnknownModelKey", std::string(kBase) + "      x: {context: 5}\n",
                  "cfg.yaml:5: providers.m.models.x.context: unknown key"},
        ErrorCase{"UnknownPricingKey",
                  std::string(kBase) + "      x:\n        pricing: {input: 1}\n",
                  "cfg.yaml:6: providers.m.models.x.pricing.input: unknown key"},
        ErrorCase{"UnknownInputPriceKey",
                  std::string(kBase) + "      x:\n        pricing:\n          input_tokens: "
                                       "{cached: 1}\n",
                  "cfg.yaml:7: providers.m.models.x.pricing.input_tokens.cached: unknown key"},
        ErrorCase{"UnknownOutputPriceKey",
                  std::string(kBase) + "      x:\n        pricing:\n          output_tokens: "
                                       "{image: 1}\n",
                  "cfg.yaml:7: providers.m.models.x.pricing.output_tokens.image: unknown key"},
        ErrorCase{"NegativePrice",
                  std::string(kBase) + "      x:\n        pricing:\n          input_tokens: "
                                       "{no_cache: -1}\n",
                  "cfg.yaml:7: providers.m.models.x.pricing.input_tokens.no_cache: expected a "
                  "price >= 0 in USD per million tokens, got '-1'"},
        ErrorCase{"WordPrice",
                  std::string(kBase) + "      x:\n        pricing:\n          output_tokens: "
                                       "{text: cheap}\n",
                  "cfg.yaml:7: providers.m.models.x.pricing.output_tokens.text: expected a "
                  "price >= 0 in USD per million tokens, got 'cheap'"},
        ErrorCase{"NanPrice",
                  std::string(kBase) + "      x:\n        pricing:\n          output_tokens: "
                                       "{text: nan}\n",
                  "cfg.yaml:7: providers.m.models.x.pricing.output_tokens.text: expected a "
                  "price >= 0 in USD per million tokens, got 'nan'"},
        ErrorCase{"PricingList", std::string(kBase) + "      x:\n        pricing: [1]\n",
                  "cfg.yaml:6: providers.m.models.x.pricing: expected a mapping"},
        ErrorCase{"TokensWord", std::string(kBase) + "      x: {max_input_tokens: lots}\n",
                  "cfg.yaml:5: providers.m.models.x.max_input_tokens: expected an integer "
                  "0..1000000000, got 'lots'"},
        ErrorCase{"ModalitiesScalar", std::string(kBase) + "      x: {input_modalities: text}\n",
                  "cfg.yaml:5: providers.m.models.x.input_modalities: expected a list"},
        ErrorCase{"ModelEntryScalar", std::string(kBase) + "      x: 5\n",
                  "cfg.yaml:5: providers.m.models.x: expected a mapping"},
        ErrorCase{"ShortFormNested", std::string(kBase) + "      - [a]\n",
                  "cfg.yaml:5: providers.m.models[0]: expected a model id"},
        ErrorCase{"ShortFormEmpty", std::string(kBase) + "      - \"\"\n",
                  "cfg.yaml:5: providers.m.models[0]: model ids must be non-empty"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// The built-in catalog data

TEST(LoaderBuiltinCatalogTest, EveryBuiltinIsWellFormed) {
  auto cfg = Parse("");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::set<std::string> expected = {
      "openai",   "anthropic", "google",   "openrouter", "deepseek", "mistral", "groq",  "xai",
      "together", "fireworks", "moonshot", "zai",        "qwen",     "minimax", "ollama"};
  std::set<std::string> names;
  for (const auto& [name, p] : cfg->providers) names.insert(name);
  EXPECT_EQ(names, expected);
  for (const auto& [name, p] : cfg->providers) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(p.builtin);
    EXPECT_FALSE(p.active) << "nothing is active in an empty environment: " << p.reason;
    EXPECT_TRUE(ParseUrl(p.api_base).ok()) << p.api_base;
    EXPECT_FALSE(p.env_prefix.empty());
    EXPECT_TRUE(p.api_protocol == "openai" || p.api_protocol == "anthropic" ||
                p.api_protocol == "google");
    if (name == "ollama") {
      EXPECT_FALSE(p.requires_key);
      EXPECT_TRUE(p.catalog.empty()) << "a local catalog is what the user pulled";
      continue;
    }
    EXPECT_TRUE(p.requires_key);
    EXPECT_GE(p.catalog.size(), 2u);
    EXPECT_LE(p.catalog.size(), 8u);
    std::set<std::string> ids;
    for (const CatalogModel& m : p.catalog) {
      SCOPED_TRACE(m.id);
      EXPECT_TRUE(ids.insert(m.id).second) << "duplicate id";
      EXPECT_FALSE(m.name.empty());
      for (double price : {m.pricing.input_no_cache, m.pricing.cache_read, m.pricing.cache_write,
                           m.pricing.output_text, m.pricing.reasoning}) {
        EXPECT_TRUE(price == -1 || (price >= 0 && price < 1000)) << price;
      }
      if (m.max_output_tokens && m.max_input_tokens) {
        EXPECT_LE(m.max_output_tokens, m.max_input_tokens);
      }
      // A cache read never costs more than a fresh input token.
      if (m.pricing.cache_read >= 0 && m.pricing.input_no_cache >= 0) {
        EXPECT_LE(m.pricing.cache_read, m.pricing.input_no_cache);
      }
    }
  }
}

TEST(LoaderBuiltinCatalogTest, SpotChecks) {
  auto cfg = Parse("");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const CatalogModel* sonnet = Find(Get(*cfg, "anthropic"), "claude-sonnet-4-5");
  ASSERT_NE(sonnet, nullptr);
  EXPECT_DOUBLE_EQ(sonnet->pricing.input_no_cache, 3.00);
  EXPECT_DOUBLE_EQ(sonnet->pricing.cache_read, 0.30);
  EXPECT_DOUBLE_EQ(sonnet->pricing.cache_write, 3.75);
  EXPECT_DOUBLE_EQ(sonnet->pricing.output_text, 15.00);
  EXPECT_EQ(sonnet->max_input_tokens, 200000u);
  const CatalogModel* pro = Find(Get(*cfg, "google"), "gemini-2.5-pro");
  ASSERT_NE(pro, nullptr);
  EXPECT_DOUBLE_EQ(pro->pricing.output_text, 10.00);
  EXPECT_LT(pro->pricing.cache_write, 0) << "not published: unknown";
  const CatalogModel* chat = Find(Get(*cfg, "deepseek"), "deepseek-chat");
  ASSERT_NE(chat, nullptr);
  EXPECT_LT(chat->pricing.reasoning, 0);
  EXPECT_EQ(Get(*cfg, "ollama").api_base, "http://127.0.0.1:11434/v1");
}

TEST(LoaderBuiltinCatalogTest, ParsedOnceSoLoadingIsFast) {
  // The built-in YAML is parsed once per process; a load of an empty config
  // is then a copy. Generous bound: a regression shows up as ~100x slower.
  ASSERT_TRUE(Parse("").ok());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(Parse("").ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(LoaderBuiltinCatalogTest, ConcurrentFirstUseIsSafe) {
  std::vector<std::thread> threads;
  std::vector<size_t> sizes(8);
  for (size_t i = 0; i < sizes.size(); ++i) {
    threads.emplace_back([&sizes, i] {
      auto cfg = ParseConfig("", "t.yaml", {});
      sizes[i] = cfg.ok() ? cfg->providers.size() : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t s : sizes) EXPECT_EQ(s, 15u);
}

// ---------------------------------------------------------------------------
// Key pools

TEST(ProviderKeyPoolTest, PoolWithoutMainKeyIsActive) {
  auto cfg = Parse(R"(
providers:
  openai:
    api_keys: ["${K1}", "${K_UNSET}", "${K2}", "${K1}"]
)",
                   {{"K1", "sk-one"}, {"K2", "sk-two"}, {"OPENAI_API_KEY", "sk-env"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_key, "sk-one") << "the first pool key is the main key";
  EXPECT_EQ(p.api_keys, (std::vector<std::string>{"sk-two"})) << "empties and duplicates dropped";
  EXPECT_EQ(p.reason, "key from api_keys in bitrouter.yaml");
  EXPECT_EQ(p.key_env, "") << "an explicit pool is not mixed with OPENAI_API_KEY";
}

TEST(ProviderKeyPoolTest, MainKeyPlusPool) {
  auto cfg = Parse(R"(
providers:
  openai:
    api_key: sk-main
    api_keys: [sk-main, sk-b, sk-c]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_EQ(p.api_key, "sk-main");
  EXPECT_EQ(p.api_keys, (std::vector<std::string>{"sk-b", "sk-c"}));
  EXPECT_EQ(p.reason, "key from api_key in bitrouter.yaml");
}

TEST(ProviderKeyPoolTest, EnvKeyPlusNothing) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk-env"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "openai").key_env, "OPENAI_API_KEY");
  EXPECT_TRUE(Get(*cfg, "openai").api_keys.empty());
}

TEST(ProviderKeyPoolTest, AllEmptyPoolIsInactiveWithReason) {
  auto cfg = Parse("providers:\n  openai:\n    api_keys: [\"${A}\", \"${B}\"]\n",
                   {{"OPENAI_API_KEY", "sk-env"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.reason, "api_keys in bitrouter.yaml are all empty after substitution");
  EXPECT_EQ(p.api_key, "") << "never a silent fallback to another key";
}

TEST(ProviderKeyPoolTest, DerivedProviderDoesNotInheritThePool) {
  auto cfg = Parse(R"(
providers:
  openai:
    api_keys: [sk-a, sk-b]
  other:
    derives: openai
    api_base: https://other.example.com/v1
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "other").api_keys.empty());
  EXPECT_EQ(Get(*cfg, "other").api_key, "");
  EXPECT_FALSE(Get(*cfg, "other").active);
}

TEST(ProviderKeyPoolTest, Errors) {
  EXPECT_EQ(Error("providers:\n  openai:\n    api_keys: sk\n"),
            "cfg.yaml:3: providers.openai.api_keys: expected a list");
  EXPECT_EQ(Error("providers:\n  openai:\n    api_keys: [[a]]\n"),
            "cfg.yaml:3: providers.openai.api_keys[0]: expected a string");
}

// ---------------------------------------------------------------------------
// Per-provider timeouts

TEST(ProviderTimeoutsTest, StartFromUpstreamAndOverrideGivenFields) {
  // providers comes before upstream in the file: order does not matter.
  auto cfg = Parse(R"(
providers:
  openai:
    timeouts: {first_byte: 20m, total: 1h}
upstream:
  timeouts: {connect: 2s, idle: 45s}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  ASSERT_TRUE(p.timeouts.has_value());
  EXPECT_EQ(p.timeouts->connect_ms, 2'000u);
  EXPECT_EQ(p.timeouts->first_byte_ms, 1'200'000u);
  EXPECT_EQ(p.timeouts->idle_ms, 45'000u);
  EXPECT_EQ(p.timeouts->total_ms, 3'600'000u);
  EXPECT_FALSE(Get(*cfg, "anthropic").timeouts.has_value()) << "unset = use upstream.timeouts";
}

TEST(ProviderTimeoutsTest, DerivedProviderKeepsParentOverrides) {
  auto cfg = Parse(R"(
providers:
  a:
    api_base: https://a.example.com
    timeouts: {connect: 1s}
  b:
    derives: a
    timeouts: {idle: 2s}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& b = Get(*cfg, "b");
  ASSERT_TRUE(b.timeouts.has_value());
  EXPECT_EQ(b.timeouts->connect_ms, 1'000u);
  EXPECT_EQ(b.timeouts->idle_ms, 2'000u);
  EXPECT_EQ(b.timeouts->first_byte_ms, 600'000u);
}

TEST(ProviderTimeoutsTest, Errors) {
  EXPECT_EQ(Error("providers:\n  openai:\n    timeouts: {conect: 1s}\n"),
            "cfg.yaml:3: providers.openai.timeouts.conect: unknown key");
  EXPECT_EQ(Error("providers:\n  openai:\n    timeouts: {idle: soon}\n"),
            "cfg.yaml:3: providers.openai.timeouts.idle: expected a duration like 500ms, 10s, "
            "5m, got 'soon'");
  EXPECT_EQ(Error("providers:\n  openai:\n    timeouts: 5s\n"),
            "cfg.yaml:3: providers.openai.timeouts: expected a mapping");
}

// ---------------------------------------------------------------------------
// Plain http

TEST(ProviderHttpTest, LoopbackHttpIsFine) {
  for (const char* base : {"http://127.0.0.1:8000/v1", "http://127.9.9.9/v1", "http://[::1]:8/v1",
                           "http://localhost:1234", "http://LOCALHOST/v1", "https://example.com"}) {
    auto cfg = Parse(std::string("providers:\n  p:\n    api_key: k\n    api_base: ") + base + "\n");
    ASSERT_TRUE(cfg.ok()) << base << ": " << cfg.status();
    EXPECT_TRUE(Get(*cfg, "p").active) << base << ": " << Get(*cfg, "p").reason;
  }
}

TEST(ProviderHttpTest, NonLoopbackHttpIsInactiveUnlessAllowed) {
  for (const char* base : {"http://10.0.0.5:8000/v1", "http://128.0.0.1/v1", "http://llm.lan/v1",
                           "http://localhost.example.com/v1", "http://[::2]/v1"}) {
    auto cfg = Parse(std::string("providers:\n  p:\n    api_key: k\n    api_base: ") + base + "\n");
    ASSERT_TRUE(cfg.ok()) << base << ": " << cfg.status();
    const Provider& p = Get(*cfg, "p");
    EXPECT_FALSE(p.active) << base;
    EXPECT_NE(p.reason.find("http:// to non-loopback host "), std::string::npos) << p.reason;
    EXPECT_NE(p.reason.find(": set allow_insecure_http: true on the provider to allow it"),
              std::string::npos)
        << p.reason;
  }
  auto cfg = Parse("providers:\n  p:\n    api_key: k\n    api_base: http://10.0.0.5:8000/v1\n");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(Get(*cfg, "p").reason,
            "http:// to non-loopback host 10.0.0.5: set allow_insecure_http: true on the provider "
            "to allow it");
  cfg = Parse(
      "providers:\n  p:\n    api_key: k\n    api_base: http://10.0.0.5:8000/v1\n"
      "    allow_insecure_http: true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "p").active) << Get(*cfg, "p").reason;
}

TEST(ProviderHttpTest, RuleAppliesToBaseUrlFromTheEnvironment) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://mock.internal/v1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(Get(*cfg, "openai").active);
  cfg = Parse("providers:\n  openai:\n    allow_insecure_http: true\n",
              {{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://mock.internal/v1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "openai").active) << Get(*cfg, "openai").reason;
}

TEST(ProviderHttpTest, TrustIsNotInherited) {
  auto cfg = Parse(R"(
providers:
  a:
    api_base: http://10.1.1.1/v1
    api_key: k
    allow_insecure_http: true
  b:
    derives: a
    api_key: k
    api_base: http://10.2.2.2/v1
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "a").active);
  EXPECT_FALSE(Get(*cfg, "b").active) << Get(*cfg, "b").reason;
}

// ---------------------------------------------------------------------------
// Keyless local provider

TEST(ProviderOllamaTest, NeverEnabledSilently) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "ollama");
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.reason,
            "local provider, not enabled: name it under providers: in bitrouter.yaml or set "
            "OLLAMA_BASE_URL");
}

TEST(ProviderOllamaTest, EnabledByMentionInProviders) {
  for (const char* yaml : {"providers:\n  ollama: {}\n", "providers:\n  ollama:\n"}) {
    auto cfg = Parse(yaml);
    ASSERT_TRUE(cfg.ok()) << yaml << cfg.status();
    const Provider& p = Get(*cfg, "ollama");
    EXPECT_TRUE(p.active) << p.reason;
    EXPECT_EQ(p.api_key, "");
    EXPECT_EQ(p.reason, "no key needed; enabled in bitrouter.yaml");
  }
}

TEST(ProviderOllamaTest, EnabledByBaseUrl) {
  auto cfg = Parse("", {{"OLLAMA_BASE_URL", "http://127.0.0.1:9/v1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "ollama");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_base, "http://127.0.0.1:9/v1");
  EXPECT_EQ(p.reason, "no key needed; enabled by OLLAMA_BASE_URL");
}

TEST(ProviderOllamaTest, EnabledByAnEndpointThatNamesIt) {
  auto cfg = Parse(R"(
models:
  local:
    endpoints:
      - {provider: ollama, model_id: "llama3.2:3b"}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "ollama").active) << Get(*cfg, "ollama").reason;
}

TEST(ProviderOllamaTest, RemoteOllamaNeedsExplicitTrust) {
  auto cfg = Parse("providers:\n  ollama:\n    api_base: http://gpu-box:11434/v1\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(Get(*cfg, "ollama").active);
  cfg = Parse(
      "providers:\n  ollama:\n    api_base: http://gpu-box:11434/v1\n"
      "    allow_insecure_http: true\n    models: [qwen3]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "ollama").active) << Get(*cfg, "ollama").reason;
  EXPECT_EQ(Ids(Get(*cfg, "ollama")), (std::vector<std::string>{"qwen3"}));
}

TEST(ProviderOllamaTest, CustomKeylessProvider) {
  auto cfg = Parse(R"(
providers:
  vllm:
    api_base: http://127.0.0.1:8000/v1
    requires_key: false
  strict:
    api_base: http://127.0.0.1:8001/v1
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "vllm").active) << Get(*cfg, "vllm").reason;
  EXPECT_FALSE(Get(*cfg, "strict").active);
  EXPECT_EQ(Get(*cfg, "strict").reason, "no api_key configured");
  EXPECT_EQ(Error("providers:\n  vllm:\n    api_base: http://h\n    requires_key: maybe\n"),
            "cfg.yaml:4: providers.vllm.requires_key: expected true or false, got 'maybe'");
}

}  // namespace
}  // namespace bitrouter::config
