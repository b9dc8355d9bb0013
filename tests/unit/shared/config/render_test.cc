// RenderEffectiveConfig: what `config validate` prints. Above all, secrets
// never appear in it.

#include "shared/config/render.h"

#include <gtest/gtest.h>

#include <string>

#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

bool Has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

// Every secret handed to the loader, through every path a key can take.
constexpr char kSecretYaml[] = R"(
server:
  listen: 127.0.0.1:0
upstream:
  retries: 2
  circuit_breaker: {failures: 3, cooldown: 10s}
providers:
  openai:
    api_keys: ["${POOL_1}", "${POOL_2}"]
    default_headers:
      OpenAI-Organization: org-SECRET-HEADER-VALUE
  anthropic:
    api_key: sk-ant-LITERAL-SECRET-0001
  hdr:
    derives: openai
    api_base: https://h.example.com/v1
    auth: {type: header, header_name: x-api-key, api_key: "${HDR_KEY}"}
    timeouts: {connect: 1500ms}
models:
  fast:
    strategy: load_balance
    endpoints:
      - {provider: openai, model_id: gpt-4o-mini, api_key: sk-ENDPOINT-SECRET-0002, weight: 2}
      - {provider: anthropic, model_id: claude-haiku-4-5, api_key: "${UNSET_KEY}"}
)";

const EnvMap kSecretEnv = {{"POOL_1", "sk-POOL-SECRET-0003"},
                           {"POOL_2", "sk-POOL-SECRET-0004"},
                           {"HDR_KEY", "hk-HEADER-AUTH-SECRET-0005"},
                           {"GOOGLE_API_KEY", "AIza-ENV-SECRET-0006"},
                           {"DEEPSEEK_API_KEY", "sk-ENV-SECRET-0007"},
                           {"DEEPSEEK_BASE_URL", "https://user:pw-URL-SECRET-0008@ds.example.com"}};

TEST(RenderTest, SecretsNeverAppear) {
  auto cfg = ParseConfig(kSecretYaml, "cfg.yaml", kSecretEnv);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::string out = RenderEffectiveConfig(*cfg);
  for (const char* secret :
       {"sk-POOL-SECRET-0003", "sk-POOL-SECRET-0004", "sk-ant-LITERAL-SECRET-0001",
        "hk-HEADER-AUTH-SECRET-0005", "AIza-ENV-SECRET-0006", "sk-ENV-SECRET-0007",
        "pw-URL-SECRET-0008", "sk-ENDPOINT-SECRET-0002", "org-SECRET-HEADER-VALUE", "SECRET"}) {
    EXPECT_FALSE(Has(out, secret)) << secret << " leaked:\n" << out;
  }
  // ...but the reader learns where each key came from.
  EXPECT_TRUE(Has(out, "api_key: <redacted: from GOOGLE_API_KEY>")) << out;
  EXPECT_TRUE(Has(out, "api_key: <redacted>")) << out;
  EXPECT_TRUE(Has(out, "key_pool: 2 keys")) << out;
  EXPECT_TRUE(Has(out, "OpenAI-Organization: <redacted>")) << out;
  EXPECT_TRUE(Has(out, "api_key: <redacted>, weight: 2}")) << out;
}

TEST(RenderTest, ShowsTheEffectiveConfig) {
  auto cfg = ParseConfig(kSecretYaml, "cfg.yaml", kSecretEnv);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::string out = RenderEffectiveConfig(*cfg);
  EXPECT_TRUE(Has(out, "# Effective configuration from cfg.yaml")) << out;
  EXPECT_TRUE(Has(out, "server:\n  listen: 127.0.0.1:0\n")) << out;
  EXPECT_TRUE(Has(out,
                  "timeouts: {connect: 10s, first_byte: 10m, stream_first_byte: 30s, first_event: "
                  "1m, idle: 1m, total: 0s}"))
      << out;
  EXPECT_TRUE(Has(out, "retries: 2\n")) << out;
  EXPECT_TRUE(Has(out, "circuit_breaker: {failures: 3, cooldown: 10s}")) << out;
  EXPECT_TRUE(Has(out, "  google:  # active: key from GOOGLE_API_KEY\n")) << out;
  EXPECT_TRUE(Has(out, "  mistral:  # INACTIVE: no API key: set MISTRAL_API_KEY\n")) << out;
  EXPECT_TRUE(Has(out, "  deepseek:  # INACTIVE: DEEPSEEK_BASE_URL: invalid URL")) << out;
  EXPECT_TRUE(Has(out, "    auth: {type: header, header_name: x-api-key}\n")) << out;
  EXPECT_TRUE(Has(out, "timeouts: {connect: 1500ms, first_byte: 10m")) << out;
  EXPECT_TRUE(Has(out, "models: [gpt-5.5, gpt-5.4,")) << out;
  EXPECT_TRUE(Has(out, "  fast:\n    strategy: load_balance\n    endpoints:\n")) << out;
  EXPECT_TRUE(Has(out, "model_id: claude-haiku-4-5, weight: 1}  # SKIPPED: api_key is empty"))
      << out;
  EXPECT_TRUE(Has(out, "warnings:\n  - \"cfg.yaml:")) << out;
  // Active providers are listed first.
  EXPECT_LT(out.find("  google:"), out.find("  mistral:")) << out;
  EXPECT_LT(out.find("  openai:"), out.find("  deepseek:")) << out;
}

TEST(RenderTest, EmptyConfig) {
  auto cfg = ParseConfig("inherit_defaults: false\n", "x.yaml", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::string out = RenderEffectiveConfig(*cfg);
  EXPECT_TRUE(Has(out, "inherit_defaults: false\n")) << out;
  EXPECT_TRUE(Has(out, "providers:  # 0 of 0 active\n  {}\n")) << out;
  EXPECT_TRUE(Has(out, "models: {}")) << out;
  EXPECT_TRUE(Has(out, "warnings: []")) << out;
}

TEST(RenderTest, FormatDuration) {
  EXPECT_EQ(FormatDurationMs(0), "0s");
  EXPECT_EQ(FormatDurationMs(250), "250ms");
  EXPECT_EQ(FormatDurationMs(1500), "1500ms");
  EXPECT_EQ(FormatDurationMs(10'000), "10s");
  EXPECT_EQ(FormatDurationMs(90'000), "90s");
  EXPECT_EQ(FormatDurationMs(300'000), "5m");
  EXPECT_EQ(FormatDurationMs(3'600'000), "1h");
}

TEST(RenderTest, RedactUrlCredentials) {
  EXPECT_EQ(RedactUrlCredentials("invalid URL 'https://u:p@x/v1': no"),
            "invalid URL 'https://<redacted>@x/v1': no");
  EXPECT_EQ(RedactUrlCredentials("a http://k@h b https://c:d@e"),
            "a http://<redacted>@h b https://<redacted>@e");
  EXPECT_EQ(RedactUrlCredentials("https://h/p@q"), "https://h/p@q") << "an @ in the path stays";
  EXPECT_EQ(RedactUrlCredentials("no url"), "no url");
}

TEST(RenderTest, YamlScalar) {
  EXPECT_EQ(YamlScalar("gpt-4o"), "gpt-4o");
  EXPECT_EQ(YamlScalar("accounts/fireworks/models/x"), "accounts/fireworks/models/x");
  EXPECT_EQ(YamlScalar("https://api.openai.com/v1"), "https://api.openai.com/v1");
  EXPECT_EQ(YamlScalar(""), "\"\"");
  EXPECT_EQ(YamlScalar("a b"), "\"a b\"");
  EXPECT_EQ(YamlScalar("true"), "\"true\"");
  EXPECT_EQ(YamlScalar("-x"), "\"-x\"");
  EXPECT_EQ(YamlScalar("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
}

}  // namespace
}  // namespace bitrouter::config
