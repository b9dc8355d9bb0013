// Loader tests for providers: built-ins, environment activation, overrides,
// derives, accepted-later sections, and the manual's full reference config.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

// Catalog ids in order.
std::vector<std::string> Ids(const Provider& p) {
  std::vector<std::string> ids;
  for (const CatalogModel& m : p.catalog) ids.push_back(m.id);
  return ids;
}

bool Lists(const Provider& p, const std::string& id) {
  std::vector<std::string> ids = Ids(p);
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool HasWarning(const Config& cfg, std::string_view fragment) {
  return std::any_of(cfg.warnings.begin(), cfg.warnings.end(),
                     [&](const std::string& w) { return w.find(fragment) != std::string::npos; });
}

std::string Warnings(const Config& cfg) {
  std::string out;
  for (const std::string& w : cfg.warnings) out += "\n  " + w;
  return out;
}

// ---------------------------------------------------------------------------
// Built-ins and the environment

TEST(ProvidersEnvTest, BuiltinActivatedByApiKey) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk-test"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_key, "sk-test");
  EXPECT_EQ(p.api_base, "https://api.openai.com/v1");
  EXPECT_EQ(p.api_protocol, "openai");
  EXPECT_EQ(p.auth, AuthStyle::kBearer);
  EXPECT_EQ(p.reason, "key from OPENAI_API_KEY");
  EXPECT_TRUE(p.builtin);
  EXPECT_FALSE(p.api_key_explicit);
  EXPECT_FALSE(Get(*cfg, "anthropic").active);
}

TEST(ProvidersEnvTest, InactiveReasonNamesTheVariable) {
  auto cfg = Parse("");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "openai").reason, "no API key: set OPENAI_API_KEY");
  EXPECT_EQ(Get(*cfg, "anthropic").reason, "no API key: set ANTHROPIC_API_KEY");
  EXPECT_EQ(Get(*cfg, "qwen").reason, "no API key: set DASHSCOPE_API_KEY");
  EXPECT_EQ(Get(*cfg, "google").reason, "no API key: set GOOGLE_API_KEY or GEMINI_API_KEY");
}

TEST(ProvidersEnvTest, EmptyKeyIsNotAKey) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", ""}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(Get(*cfg, "openai").active);
}

TEST(ProvidersEnvTest, BaseUrlOverride) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://127.0.0.1:9999/v1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_base, "http://127.0.0.1:9999/v1");
  EXPECT_EQ(p.base_source, "OPENAI_BASE_URL");
}

TEST(ProvidersEnvTest, BadBaseUrlFromEnvMakesInactiveWithReason) {
  auto cfg = Parse("", {{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "localhost:9999"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.reason,
            "OPENAI_BASE_URL: invalid URL 'localhost:9999': must start with http:// or https://");
}

TEST(ProvidersEnvTest, GoogleKeyFromEitherPrefix) {
  auto cfg = Parse("", {{"GEMINI_API_KEY", "g-alt"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& gemini = Get(*cfg, "google");
  EXPECT_TRUE(gemini.active) << gemini.reason;
  EXPECT_EQ(gemini.api_key, "g-alt");
  EXPECT_EQ(gemini.reason, "key from GEMINI_API_KEY");
  EXPECT_EQ(gemini.auth, AuthStyle::kHeader);
  EXPECT_EQ(gemini.auth_header, "x-goog-api-key");

  cfg = Parse("", {{"GOOGLE_API_KEY", "g-main"}, {"GEMINI_API_KEY", "g-alt"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "google").api_key, "g-main") << "the primary prefix wins";
  EXPECT_EQ(Get(*cfg, "google").reason, "key from GOOGLE_API_KEY");
}

TEST(ProvidersEnvTest, GoogleBaseUrlFromEitherPrefixPrimaryWins) {
  auto cfg = Parse("", {{"GOOGLE_API_KEY", "g"}, {"GEMINI_BASE_URL", "http://127.0.0.1:1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "google").api_base, "http://127.0.0.1:1");
  EXPECT_EQ(Get(*cfg, "google").base_source, "GEMINI_BASE_URL");

  cfg = Parse("", {{"GOOGLE_API_KEY", "g"},
                   {"GOOGLE_BASE_URL", "http://127.0.0.1:1"},
                   {"GEMINI_BASE_URL", "http://127.0.0.1:2"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "google").api_base, "http://127.0.0.1:1");
  EXPECT_EQ(Get(*cfg, "google").base_source, "GOOGLE_BASE_URL");
}

TEST(ProvidersEnvTest, AnthropicUsesHeaderAuth) {
  auto cfg = Parse("", {{"ANTHROPIC_API_KEY", "sk-ant"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "anthropic");
  EXPECT_TRUE(p.active);
  EXPECT_EQ(p.api_protocol, "anthropic");
  EXPECT_EQ(p.auth, AuthStyle::kHeader);
  EXPECT_EQ(p.auth_header, "x-api-key");
  EXPECT_TRUE(Lists(p, "claude-sonnet-4-5"));
}

TEST(ProvidersEnvTest, InheritDefaultsFalseRemovesBuiltins) {
  auto cfg = Parse(R"(
inherit_defaults: false
providers:
  local:
    api_base: http://127.0.0.1:8000/v1
    api_key: k
)",
                   {{"OPENAI_API_KEY", "sk"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(cfg->inherit_defaults);
  ASSERT_EQ(cfg->providers.size(), 1u);
  const Provider& p = Get(*cfg, "local");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_FALSE(p.builtin);
  EXPECT_EQ(p.api_protocol, "openai") << "new providers default to the openai protocol";
  EXPECT_EQ(p.reason, "key from api_key in bitrouter.yaml");
}

TEST(ProvidersEnvTest, InheritDefaultsSpellings) {
  for (const char* v : {"false", "no", "off"}) {
    auto cfg = Parse(std::string("inherit_defaults: ") + v);
    ASSERT_TRUE(cfg.ok()) << v << ": " << cfg.status();
    EXPECT_TRUE(cfg->providers.empty()) << v;
  }
  for (const char* v : {"true", "yes", "on"}) {
    auto cfg = Parse(std::string("inherit_defaults: ") + v);
    ASSERT_TRUE(cfg.ok()) << v << ": " << cfg.status();
    EXPECT_FALSE(cfg->providers.empty()) << v;
  }
}

// ---------------------------------------------------------------------------
// Overrides of built-ins

TEST(ProvidersOverrideTest, OnlyFieldsPresentChange) {
  auto cfg = Parse(R"(
providers:
  openai:
    default_headers:
      OpenAI-Organization: ${ORG}
      X-Two: "2"
    models: [my-finetune, gpt-4o]
)",
                   {{"OPENAI_API_KEY", "sk"}, {"ORG", "org-1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "openai");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_base, "https://api.openai.com/v1");
  EXPECT_EQ(p.env_prefix, "OPENAI");
  ASSERT_EQ(p.default_headers.size(), 2u);
  EXPECT_EQ(p.default_headers[0],
            (std::pair<std::string, std::string>("OpenAI-Organization", "org-1")));
  EXPECT_EQ(p.default_headers[1], (std::pair<std::string, std::string>("X-Two", "2")));
  std::vector<std::string> ids = Ids(p);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "gpt-4o"), 1) << "no duplicates";
  EXPECT_TRUE(Lists(p, "my-finetune"));
  EXPECT_TRUE(Lists(p, "gpt-5")) << "built-in entries stay";
  EXPECT_EQ(ids.back(), "my-finetune") << "new ids go after the built-in ones";
}

TEST(ProvidersOverrideTest, ExplicitKeyFromPlaceholder) {
  const char* yaml = "providers:\n  openai:\n    api_key: \"${MY_OPENAI}\"\n";
  auto cfg = Parse(yaml, {{"MY_OPENAI", "sk-mine"}, {"OPENAI_API_KEY", "sk-env"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "openai").api_key, "sk-mine");
  EXPECT_EQ(Get(*cfg, "openai").reason, "key from api_key in bitrouter.yaml");

  // Unset → empty → inactive with a reason; never an error, never a fallback.
  cfg = Parse(yaml, {{"OPENAI_API_KEY", "sk-env"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(Get(*cfg, "openai").active);
  EXPECT_EQ(Get(*cfg, "openai").api_key, "");
  EXPECT_EQ(Get(*cfg, "openai").reason, "api_key in bitrouter.yaml is empty after substitution");
}

TEST(ProvidersOverrideTest, ExplicitBaseBeatsEnvBase) {
  auto cfg = Parse("providers:\n  openai:\n    api_base: http://127.0.0.1:1/v1\n",
                   {{"OPENAI_API_KEY", "sk"}, {"OPENAI_BASE_URL", "http://127.0.0.1:2/v1"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "openai").api_base, "http://127.0.0.1:1/v1");
  EXPECT_EQ(Get(*cfg, "openai").base_source, "");
}

TEST(ProvidersOverrideTest, CustomProviderWithEnvPrefix) {
  auto cfg = Parse(R"(
providers:
  custom:
    api_protocol: anthropic
    api_base: https://llm.example.com/v1
    env_prefix: CUSTOM_LLM
    auth: {type: header, header_name: x-key}
    models:
      m-7b: {name: "M 7B"}
      m-70b: {}
)",
                   {{"CUSTOM_LLM_API_KEY", "ck"}, {"CUSTOM_LLM_BASE_URL", "http://127.0.0.1:3"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "custom");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_key, "ck");
  EXPECT_EQ(p.reason, "key from CUSTOM_LLM_API_KEY");
  EXPECT_EQ(p.api_base, "https://llm.example.com/v1") << "explicit api_base wins over env";
  EXPECT_EQ(p.api_protocol, "anthropic");
  EXPECT_EQ(p.auth, AuthStyle::kHeader);
  EXPECT_EQ(p.auth_header, "x-key");
  EXPECT_EQ(Ids(p), (std::vector<std::string>{"m-7b", "m-70b"}));
  EXPECT_EQ(p.catalog[0].name, "M 7B");
}

// ---------------------------------------------------------------------------
// derives

TEST(ProvidersDerivesTest, CopiesParentButNotItsCredentials) {
  auto cfg = Parse(R"(
providers:
  claude-proxy:
    derives: anthropic
    api_base: https://proxy.example.com/v1
)",
                   {{"ANTHROPIC_API_KEY", "sk-ant"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "claude-proxy");
  EXPECT_FALSE(p.builtin);
  EXPECT_EQ(p.api_protocol, "anthropic");
  EXPECT_EQ(p.api_base, "https://proxy.example.com/v1");
  EXPECT_EQ(p.auth, AuthStyle::kHeader);
  EXPECT_EQ(p.auth_header, "x-api-key");
  EXPECT_EQ(Ids(p), Ids(Get(*cfg, "anthropic")));
  // The parent's key must not leak to a different host.
  EXPECT_EQ(p.api_key, "");
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.reason, "no api_key configured");
  EXPECT_TRUE(Get(*cfg, "anthropic").active);
}

TEST(ProvidersDerivesTest, OwnKeyAndEnvPrefix) {
  auto cfg =
      Parse(R"(
providers:
  a:
    derives: openai
    env_prefix: AAA
  b:
    derives: openai
    api_key: ${B_KEY}
)",
            {{"AAA_API_KEY", "ka"}, {"AAA_BASE_URL", "http://127.0.0.1:7/v1"}, {"B_KEY", "kb"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "a").active) << Get(*cfg, "a").reason;
  EXPECT_EQ(Get(*cfg, "a").api_key, "ka");
  EXPECT_EQ(Get(*cfg, "a").api_base, "http://127.0.0.1:7/v1");
  EXPECT_TRUE(Get(*cfg, "b").active) << Get(*cfg, "b").reason;
  EXPECT_EQ(Get(*cfg, "b").api_key, "kb");
  EXPECT_EQ(Get(*cfg, "b").api_base, "https://api.openai.com/v1");
}

TEST(ProvidersDerivesTest, ChainsResolveInAnyOrder) {
  // "a" sorts before its parent "b": the parent must be resolved first anyway.
  auto cfg = Parse(R"(
providers:
  a:
    derives: b
    api_key: ka
  b:
    derives: c
    default_headers: {X-B: "1"}
  c:
    api_protocol: anthropic
    api_base: https://c.example.com
    models: [cm]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& a = Get(*cfg, "a");
  EXPECT_TRUE(a.active) << a.reason;
  EXPECT_EQ(a.api_protocol, "anthropic");
  EXPECT_EQ(a.api_base, "https://c.example.com");
  EXPECT_EQ(Ids(a), (std::vector<std::string>{"cm"}));
  ASSERT_EQ(a.default_headers.size(), 1u);
  EXPECT_EQ(a.default_headers[0].first, "X-B");
}

TEST(ProvidersDerivesTest, DerivedOverrideOfBuiltinName) {
  // A built-in name may itself be redefined by deriving from another provider.
  auto cfg = Parse("providers:\n  groq:\n    derives: openai\n", {{"OPENAI_API_KEY", "sk"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(Get(*cfg, "groq").api_base, "https://api.openai.com/v1");
  EXPECT_FALSE(Get(*cfg, "groq").active);
}

// ---------------------------------------------------------------------------
// Sections accepted now and implemented later

TEST(ProvidersLaterTest, UnimplementedSectionsWarn) {
  auto cfg = Parse(R"(
database:
  url: sqlite://x.db
solana_rpc_url: x
guardrails:
  enabled: true
tools: {}
mcp: {}
wallet: {}
mpp: {}
keys: {}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  for (const char* s : {"solana_rpc_url", "wallet", "mpp", "keys"}) {
    EXPECT_TRUE(HasWarning(*cfg, std::string(s) + ": section not implemented yet; ignored"))
        << s << Warnings(*cfg);
  }
  // Loaded now (loader_mcp_test.cc).
  EXPECT_FALSE(HasWarning(*cfg, "tools:")) << Warnings(*cfg);
  EXPECT_FALSE(HasWarning(*cfg, "mcp:")) << Warnings(*cfg);
  EXPECT_FALSE(HasWarning(*cfg, "database:")) << "database is implemented now" << Warnings(*cfg);
  EXPECT_EQ(cfg->database.url, "sqlite://x.db");
  EXPECT_TRUE(HasWarning(*cfg, "cfg.yaml:4: solana_rpc_url:")) << Warnings(*cfg);
  EXPECT_FALSE(HasWarning(*cfg, "models:")) << "models is implemented now" << Warnings(*cfg);
  EXPECT_FALSE(HasWarning(*cfg, "guardrails")) << "guardrails is implemented now" << Warnings(*cfg);
  EXPECT_TRUE(cfg->guardrails.enabled);
  EXPECT_EQ(cfg->guardrails.line, 5);
}

TEST(DatabaseConfigTest, UrlAndRetention) {
  auto cfg = Parse("database:\n  url: sqlite:///var/lib/br.db\n  retention: 7d\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->database.url, "sqlite:///var/lib/br.db");
  EXPECT_EQ(cfg->database.retention_s, 7 * 86'400);
  for (auto [text, secs] : std::vector<std::pair<std::string, int64_t>>{
           {"12h", 12 * 3600}, {"90m", 5400}, {"3600s", 3600}, {"off", 0}, {"0", 0}, {"45", 45}}) {
    auto c = Parse("database:\n  retention: " + text + "\n");
    ASSERT_TRUE(c.ok()) << text << c.status();
    EXPECT_EQ(c->database.retention_s, secs) << text;
  }
  EXPECT_EQ(Parse("").value().database.retention_s, 30 * 86'400);
}

TEST(DatabaseConfigTest, BadValuesNameFileAndLine) {
  auto bad = Parse("server:\n  workers: 1\ndatabase:\n  retention: forever\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cfg.yaml:4"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("database.retention"), std::string::npos) << bad.status();
  auto unknown = Parse("database:\n  pool: 3\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("database.pool"), std::string::npos);
  EXPECT_FALSE(Parse("database:\n  retention: -1d\n").ok());
}

TEST(ProvidersLaterTest, UnsupportedProviderFeaturesWarnAndDeactivate) {
  auto cfg = Parse(R"(
providers:
  gh:
    api_protocol: mcp
    api_base: https://api.githubcopilot.com/mcp
    api_key: t
    bridge: true
  paid:
    derives: openai
    api_key: k
    auth:
      type: mpp
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  // A bridged MCP provider is an MCP server (loader_mcp_test.cc), never a model provider.
  EXPECT_FALSE(Get(*cfg, "gh").active);
  EXPECT_EQ(Get(*cfg, "gh").reason,
            "MCP server (bridge: true), not a model provider: served at /mcp/gh");
  EXPECT_TRUE(cfg->mcp_servers.count("gh"));
  EXPECT_FALSE(Get(*cfg, "paid").active);
  EXPECT_EQ(Get(*cfg, "paid").reason, "auth type 'mpp' is not supported yet");
  EXPECT_FALSE(HasWarning(*cfg, "providers.gh")) << Warnings(*cfg);
  EXPECT_TRUE(HasWarning(*cfg, "cfg.yaml:12: providers.paid.auth.type:")) << Warnings(*cfg);
  // Each warning once, though the loader reads a provider more than once.
  std::vector<std::string> sorted = cfg->warnings;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << Warnings(*cfg);
}

TEST(ProvidersLaterTest, AuthApiKeyIsTheProviderKey) {
  auto cfg = Parse(R"(
providers:
  h:
    derives: openai
    api_base: https://api.example.com/v1
    auth:
      type: header
      header_name: x-api-key
      api_key: ${HEADER_AUTH_KEY}
)",
                   {{"HEADER_AUTH_KEY", "hk"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const Provider& p = Get(*cfg, "h");
  EXPECT_TRUE(p.active) << p.reason;
  EXPECT_EQ(p.api_key, "hk");
  EXPECT_EQ(p.auth, AuthStyle::kHeader);
  EXPECT_EQ(p.auth_header, "x-api-key");
}

// ---------------------------------------------------------------------------
// The manual's "Full Configuration Reference" (testdata/reference.yaml, copied
// verbatim from the seed) must load.

TEST(ReferenceConfigTest, Loads) {
  const std::string path = std::string(BR_TESTDATA_DIR) + "/reference.yaml";
  auto cfg = LoadConfigFile(path, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->source, path);
  EXPECT_EQ(cfg->server.listen, "127.0.0.1:8787");
  EXPECT_EQ(cfg->server.log_level, "info");
  EXPECT_TRUE(cfg->inherit_defaults);
  for (const char* s : {"wallet", "mpp", "solana_rpc_url"}) {
    EXPECT_TRUE(HasWarning(*cfg, s)) << s << Warnings(*cfg);
  }
  // tools: and the bridged github-mcp load now (loader_mcp_test.cc checks them).
  EXPECT_FALSE(HasWarning(*cfg, ": tools:")) << Warnings(*cfg);
  EXPECT_EQ(cfg->tools.size(), 2u);
  EXPECT_TRUE(cfg->mcp_servers.count("github-mcp"));
  EXPECT_FALSE(HasWarning(*cfg, "guardrails")) << Warnings(*cfg);
  EXPECT_TRUE(cfg->guardrails.enabled);
  EXPECT_EQ(cfg->guardrails.custom_upgoing.at("internal_token"), "block");
  EXPECT_EQ(cfg->database.url, "sqlite://bitrouter.db?mode=rwc");
  EXPECT_EQ(cfg->database.retention_s, 30 * 86'400);
  EXPECT_EQ(cfg->server.control_socket, "bitrouter.sock");
  for (const char* name : {"openai", "anthropic", "google", "my-proxy", "custom-llm", "github-mcp",
                           "header-auth-provider", "paid-provider", "deepseek"}) {
    EXPECT_TRUE(cfg->providers.count(name)) << name;
  }
  // Nothing has a key in an empty environment.
  for (const auto& [name, p] : cfg->providers) EXPECT_FALSE(p.active) << name;
  EXPECT_EQ(Get(*cfg, "my-proxy").api_base, "https://api.mycompany.com/v1");
  EXPECT_EQ(Get(*cfg, "my-proxy").api_protocol, "openai");
  const Provider& custom = Get(*cfg, "custom-llm");
  EXPECT_EQ(Ids(custom), (std::vector<std::string>{"my-model-7b"}));
  ASSERT_EQ(custom.catalog.size(), 1u);
  const CatalogModel& m = custom.catalog[0];
  EXPECT_EQ(m.name, "My Model 7B");
  EXPECT_EQ(m.description, "Custom fine-tuned model");
  EXPECT_EQ(m.max_input_tokens, 32768u);
  EXPECT_EQ(m.max_output_tokens, 4096u);
  EXPECT_EQ(m.input_modalities, (std::vector<std::string>{"text"}));
  EXPECT_EQ(m.output_modalities, (std::vector<std::string>{"text"}));
  EXPECT_DOUBLE_EQ(m.pricing.input_no_cache, 0.50);
  EXPECT_DOUBLE_EQ(m.pricing.cache_read, 0.25);
  EXPECT_DOUBLE_EQ(m.pricing.cache_write, 0.75);
  EXPECT_DOUBLE_EQ(m.pricing.output_text, 1.50);
  EXPECT_DOUBLE_EQ(m.pricing.reasoning, 3.00);
  // The models section (virtual models) is loaded now.
  ASSERT_EQ(cfg->models.size(), 3u);
  const VirtualModel& smart = cfg->models.at("smart");
  EXPECT_EQ(smart.strategy, "priority");
  EXPECT_EQ(smart.display_name, "Smart");
  EXPECT_EQ(smart.max_input_tokens, 200000u);
  EXPECT_EQ(smart.max_output_tokens, 16384u);
  ASSERT_EQ(smart.endpoints.size(), 2u);
  EXPECT_EQ(smart.endpoints[0].provider, "anthropic");
  EXPECT_EQ(smart.endpoints[0].model_id, "claude-sonnet-4-20250514");
  EXPECT_EQ(smart.endpoints[1].provider, "openai");
  EXPECT_EQ(smart.endpoints[1].model_id, "gpt-4o");
  const VirtualModel& fast = cfg->models.at("fast");
  EXPECT_EQ(fast.strategy, "load_balance");
  ASSERT_EQ(fast.endpoints.size(), 2u);
  // ${OPENAI_KEY_POOL_A} is unset: that endpoint is skipped, never given another key.
  EXPECT_EQ(fast.endpoints[0].inactive_reason, "api_key is empty after substitution");
  EXPECT_TRUE(HasWarning(*cfg, "models.fast.endpoints[0].api_key: empty after substitution"))
      << Warnings(*cfg);
  EXPECT_EQ(cfg->models.at("coding").endpoints.size(), 3u);
  ASSERT_EQ(custom.default_headers.size(), 1u);
  EXPECT_EQ(custom.default_headers[0].first, "x-project-id");
}

TEST(ReferenceConfigTest, ActivatesWithKeys) {
  const std::string path = std::string(BR_TESTDATA_DIR) + "/reference.yaml";
  auto cfg = LoadConfigFile(path, {{"OPENAI_API_KEY", "sk-o"},
                                   {"MY_PROXY_API_KEY", "sk-p"},
                                   {"CUSTOM_LLM_KEY", "sk-c"},
                                   {"HEADER_AUTH_KEY", "sk-h"},
                                   {"GITHUB_TOKEN", "ghp"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(Get(*cfg, "openai").active) << Get(*cfg, "openai").reason;
  EXPECT_EQ(Get(*cfg, "openai").reason, "key from api_key in bitrouter.yaml");
  EXPECT_TRUE(Get(*cfg, "my-proxy").active) << Get(*cfg, "my-proxy").reason;
  EXPECT_EQ(Get(*cfg, "my-proxy").api_key, "sk-p");
  EXPECT_TRUE(Get(*cfg, "custom-llm").active) << Get(*cfg, "custom-llm").reason;
  EXPECT_TRUE(Get(*cfg, "header-auth-provider").active);
  EXPECT_EQ(Get(*cfg, "header-auth-provider").api_key, "sk-h");
  EXPECT_EQ(Get(*cfg, "header-auth-provider").auth_header, "x-api-key");
  EXPECT_FALSE(Get(*cfg, "github-mcp").active) << "mcp is not served yet";
  EXPECT_FALSE(Get(*cfg, "paid-provider").active) << "mpp auth is not served yet";
  EXPECT_FALSE(Get(*cfg, "anthropic").active);
  EXPECT_EQ(Get(*cfg, "anthropic").reason, "api_key in bitrouter.yaml is empty after substitution");
}

}  // namespace
}  // namespace bitrouter::config
