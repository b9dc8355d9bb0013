// StarterConfig: the file `bitrouterctl init` writes. It must load, keep
// keys out, listen on loopback and show one example virtual model.

#include "shared/config/starter.h"

#include <gtest/gtest.h>

#include <string>

#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

bool Has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

Config Detect(const EnvMap& env) {
  auto cfg = ParseConfig("", "(defaults)", env);
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? *cfg : Config{};
}

TEST(StarterTest, NothingDetected) {
  const std::string text = StarterConfig(Detect({}));
  EXPECT_TRUE(Has(text, "  listen: \"127.0.0.1:4356\"\n")) << text;
  EXPECT_TRUE(Has(text, "# models:\n#   default:\n")) << text;
  EXPECT_TRUE(Has(text, "  # anthropic: {api_key: \"${ANTHROPIC_API_KEY}\"}\n")) << text;
  EXPECT_TRUE(Has(text, "  # ollama: {}  # local server at http://127.0.0.1:11434/v1")) << text;
  auto cfg = ParseConfig(text, "bitrouter.yaml", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status() << "\n" << text;
  EXPECT_TRUE(cfg->warnings.empty());
  EXPECT_EQ(cfg->server.listen, "127.0.0.1:4356");
  EXPECT_TRUE(cfg->models.empty());
}

TEST(StarterTest, DetectedProvidersUsePlaceholders) {
  const EnvMap env = {{"OPENAI_API_KEY", "sk-OPENAI-SECRET"},
                      {"GEMINI_API_KEY", "AIza-GEMINI-SECRET"},
                      {"OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1"}};
  const std::string text = StarterConfig(Detect(env));
  EXPECT_FALSE(Has(text, "SECRET")) << text;
  EXPECT_TRUE(Has(text, "  openai:\n    api_key: \"${OPENAI_API_KEY}\"\n")) << text;
  EXPECT_TRUE(Has(text, "  google:\n    api_key: \"${GEMINI_API_KEY}\"\n")) << text;
  EXPECT_TRUE(Has(text, "  ollama: {}  # local server, no key needed\n")) << text;
  EXPECT_FALSE(Has(text, "  # openai:")) << "active providers are not repeated: " << text;
  // The example model: the first active provider (by name) with a catalog.
  EXPECT_TRUE(Has(text,
                  "models:\n  default:\n    strategy: priority\n    endpoints:\n"
                  "      - provider: google\n        model_id: gemini-3.1-pro-preview\n"))
      << text;

  auto cfg = ParseConfig(text, "bitrouter.yaml", env);
  ASSERT_TRUE(cfg.ok()) << cfg.status() << "\n" << text;
  EXPECT_TRUE(cfg->warnings.empty());
  EXPECT_TRUE(cfg->providers.at("openai").active);
  EXPECT_EQ(cfg->providers.at("openai").api_key, "sk-OPENAI-SECRET");
  EXPECT_TRUE(cfg->providers.at("google").active);
  EXPECT_TRUE(cfg->providers.at("ollama").active);
  ASSERT_EQ(cfg->models.count("default"), 1u);
  EXPECT_EQ(cfg->models.at("default").endpoints[0].provider, "google");
}

TEST(StarterTest, CustomProviderFromAnExistingConfig) {
  const EnvMap env = {{"LAN_KEY", "k-LAN-SECRET"}};
  auto detected = ParseConfig(R"(
inherit_defaults: false
providers:
  lan:
    api_protocol: anthropic
    api_base: http://10.0.0.9/v1
    allow_insecure_http: true
    api_key: "${LAN_KEY}"
    auth: {type: header, header_name: x-api-key}
    models: ["house/model:v1"]
)",
                              "old.yaml", env);
  ASSERT_TRUE(detected.ok()) << detected.status();
  const std::string text = StarterConfig(*detected);
  EXPECT_FALSE(Has(text, "SECRET")) << text;
  EXPECT_TRUE(Has(text, "api_key: \"${LAN_API_KEY}\"")) << text;
  auto cfg = ParseConfig(text, "bitrouter.yaml", {{"LAN_API_KEY", "k2"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status() << "\n" << text;
  const Provider& lan = cfg->providers.at("lan");
  EXPECT_TRUE(lan.active) << lan.reason;
  EXPECT_EQ(lan.api_protocol, "anthropic");
  EXPECT_EQ(lan.auth_header, "x-api-key");
  EXPECT_EQ(cfg->models.at("default").endpoints[0].model_id, "house/model:v1");
}

TEST(StarterTest, BaseUrlFromTheEnvironmentStaysThere) {
  const EnvMap env = {{"MINE_API_KEY", "k-MINE-SECRET"}, {"MINE_BASE_URL", "https://mine.example"}};
  auto detected = ParseConfig(
      "providers:\n  mine:\n    api_base: https://placeholder.example\n    env_prefix: MINE\n",
      "old.yaml", env);
  ASSERT_TRUE(detected.ok()) << detected.status();
  // An explicit api_base wins over MINE_BASE_URL, so it is written as is.
  std::string text = StarterConfig(*detected);
  EXPECT_TRUE(Has(text, "    api_base: https://placeholder.example\n")) << text;
  EXPECT_TRUE(Has(text, "    api_key: \"${MINE_API_KEY}\"\n")) << text;
  EXPECT_FALSE(Has(text, "SECRET")) << text;
  auto cfg = ParseConfig(text, "bitrouter.yaml", env);
  ASSERT_TRUE(cfg.ok()) << cfg.status() << "\n" << text;
  EXPECT_TRUE(cfg->providers.at("mine").active) << cfg->providers.at("mine").reason;
}

}  // namespace
}  // namespace bitrouter::config
