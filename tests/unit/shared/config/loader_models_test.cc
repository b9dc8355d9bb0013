// Loader tests for the models: section (virtual models) and the failover
// knobs of upstream: (retries, retry_backoff, circuit_breaker).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml, const EnvMap& env = {}) {
  return ParseConfig(yaml, "cfg.yaml", env);
}

std::string Error(std::string_view yaml, const EnvMap& env = {}) {
  auto cfg = Parse(yaml, env);
  if (cfg.ok()) return "(loaded)";
  return std::string(cfg.status().message());
}

// ---------------------------------------------------------------------------
// Virtual models

TEST(LoaderModelsTest, AllFields) {
  auto cfg = Parse(R"(
providers:
  local:
    api_base: http://127.0.0.1:8000/v1
    requires_key: false
models:
  fast:
    name: Fast lane
    description: cheap and quick
    max_input_tokens: 128000
    max_output_tokens: 4096
    strategy: load_balance
    timeouts: {first_byte: 30s}
    endpoints:
      - provider: openai
        model_id: gpt-4o-mini
        api_key: "${POOL_A}"
        weight: 3
      - provider: openai
        service_id: gpt-4o-mini
        api_key: "${POOL_B}"
        api_base: https://eu.api.openai.com/v1
        api_protocol: anthropic
      - provider: local
        model_id: llama
        api_base: http://localhost:9000/v1
upstream:
  timeouts: {connect: 3s}
)",
                   {{"POOL_A", "sk-a"}, {"POOL_B", "sk-b"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->models.size(), 1u);
  const VirtualModel& m = cfg->models.at("fast");
  EXPECT_EQ(m.name, "fast");
  EXPECT_EQ(m.display_name, "Fast lane");
  EXPECT_EQ(m.description, "cheap and quick");
  EXPECT_EQ(m.max_input_tokens, 128000u);
  EXPECT_EQ(m.max_output_tokens, 4096u);
  EXPECT_EQ(m.strategy, "load_balance");
  EXPECT_EQ(m.line, 7);
  ASSERT_TRUE(m.timeouts.has_value());
  EXPECT_EQ(m.timeouts->first_byte_ms, 30'000u);
  EXPECT_EQ(m.timeouts->connect_ms, 3'000u) << "unset fields come from upstream.timeouts";
  EXPECT_EQ(m.timeouts->idle_ms, 60'000u);
  ASSERT_EQ(m.endpoints.size(), 3u);
  const Endpoint& a = m.endpoints[0];
  EXPECT_EQ(a.provider, "openai");
  EXPECT_EQ(a.model_id, "gpt-4o-mini");
  EXPECT_EQ(a.api_key, "sk-a");
  EXPECT_EQ(a.api_base, "");
  EXPECT_EQ(a.weight, 3u);
  EXPECT_EQ(a.line, 15);
  EXPECT_EQ(a.inactive_reason, "");
  const Endpoint& b = m.endpoints[1];
  EXPECT_EQ(b.model_id, "gpt-4o-mini") << "service_id is the same as model_id";
  EXPECT_EQ(b.api_key, "sk-b");
  EXPECT_EQ(b.api_base, "https://eu.api.openai.com/v1");
  EXPECT_EQ(b.api_protocol, "anthropic");
  EXPECT_EQ(a.api_protocol, "") << "empty: the provider's protocol";
  EXPECT_EQ(b.weight, 1u);
  EXPECT_EQ(m.endpoints[2].api_base, "http://localhost:9000/v1");
  EXPECT_TRUE(cfg->warnings.empty());
}

TEST(LoaderModelsTest, DefaultsAndInactiveProvidersAreFine) {
  // The providers exist but have no key: the route loads, routing skips them.
  auto cfg = Parse(R"(
models:
  smart:
    endpoints:
      - {provider: anthropic, model_id: claude-sonnet-4-5}
      - {provider: google, model_id: gemini-2.5-pro}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const VirtualModel& m = cfg->models.at("smart");
  EXPECT_EQ(m.strategy, "priority");
  EXPECT_FALSE(m.timeouts.has_value());
  EXPECT_EQ(m.endpoints.size(), 2u);
  EXPECT_FALSE(cfg->providers.at("anthropic").active);
}

TEST(LoaderModelsTest, ProvidersFromDerivesAndOrderIndependence) {
  // models comes before providers in the file.
  auto cfg = Parse(R"(
models:
  mine:
    endpoints:
      - {provider: proxy, model_id: gpt-4o}
providers:
  proxy:
    derives: openai
    api_base: https://proxy.example.com/v1
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->models.at("mine").endpoints[0].provider, "proxy");
}

TEST(LoaderModelsTest, EmptyEndpointKeyIsSkippedNotReplaced) {
  auto cfg = Parse(R"(
models:
  fast:
    strategy: load_balance
    endpoints:
      - {provider: openai, model_id: gpt-4o-mini, api_key: "${UNSET_A}"}
      - {provider: openai, model_id: gpt-4o-mini, api_key: "${SET_B}"}
)",
                   {{"SET_B", "sk-b"}, {"OPENAI_API_KEY", "sk-main"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const VirtualModel& m = cfg->models.at("fast");
  EXPECT_EQ(m.endpoints[0].api_key, "");
  EXPECT_EQ(m.endpoints[0].inactive_reason, "api_key is empty after substitution");
  EXPECT_EQ(m.endpoints[1].inactive_reason, "");
  ASSERT_EQ(cfg->warnings.size(), 1u);
  EXPECT_EQ(cfg->warnings[0],
            "cfg.yaml:6: models.fast.endpoints[0].api_key: empty after substitution; this "
            "endpoint is skipped");
}

TEST(LoaderModelsTest, InsecureEndpointBaseAllowedByProviderTrust) {
  auto cfg = Parse(R"(
providers:
  lan:
    api_base: http://10.0.0.2/v1
    api_key: k
    allow_insecure_http: true
models:
  m:
    endpoints:
      - {provider: lan, model_id: x, api_base: "http://10.0.0.3/v1"}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
}

TEST(LoaderModelsTest, NullSectionIsNoModels) {
  auto cfg = Parse("models:\n  # default: ...\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(cfg->models.empty());
  EXPECT_TRUE(cfg->warnings.empty());
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string want;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class LoaderModelsErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderModelsErrorTest, MessageNamesFileLineAndField) {
  EXPECT_EQ(Error(GetParam().yaml), GetParam().want);
}

// "models:\n  fast:\n    endpoints:\n" + endpoint lines (line 4 on).
std::string Fast(const std::string& endpoints) {
  return "models:\n  fast:\n    endpoints:\n" + endpoints;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LoaderModelsErrorTest,
    testing::Values(
        ErrorCase{"DanglingProvider",
                  Fast("      - {provider: openai, model_id: a}\n"
                       "      - {provider: foo, model_id: b}\n"),
                  "cfg.yaml:5: models.fast.endpoints[1].provider: unknown provider 'foo'"},
        ErrorCase{"BuiltinWithoutDefaults",
                  "inherit_defaults: false\n" + Fast("      - {provider: openai, model_id: a}\n"),
                  "cfg.yaml:5: models.fast.endpoints[0].provider: unknown provider 'openai'"},
        ErrorCase{"EndpointProtocol",
                  Fast("      - {provider: openai, model_id: a, api_protocol: soap}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].api_protocol: expected one of openai, "
                  "openai_responses, anthropic, google"},
        ErrorCase{"NoProvider", Fast("      - {model_id: a}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0]: needs provider"},
        ErrorCase{"NoModel", Fast("      - {provider: openai}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0]: needs model_id (or service_id)"},
        ErrorCase{"BothModelAndService",
                  Fast("      - {provider: openai, model_id: a, service_id: a}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].service_id: give either model_id or "
                  "service_id, not both"},
        ErrorCase{"EmptyModelId", Fast("      - {provider: openai, model_id: \"${UNSET}\"}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].model_id: must be non-empty"},
        ErrorCase{"EndpointTypo", Fast("      - {provider: openai, model_id: a, wieght: 2}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].wieght: unknown key"},
        ErrorCase{"WeightZero", Fast("      - {provider: openai, model_id: a, weight: 0}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].weight: expected an integer 1..10000, "
                  "got '0'"},
        ErrorCase{"WeightWord", Fast("      - {provider: openai, model_id: a, weight: heavy}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].weight: expected an integer 1..10000, "
                  "got 'heavy'"},
        ErrorCase{"BadApiBase",
                  Fast("      - {provider: openai, model_id: a, api_base: \"api.x.com/v1\"}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].api_base: invalid URL 'api.x.com/v1': "
                  "must start with http:// or https://"},
        ErrorCase{"InsecureApiBase",
                  Fast("      - {provider: openai, model_id: a, api_base: "
                       "\"http://10.0.0.1/v1\"}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].api_base: http:// to non-loopback host "
                  "10.0.0.1: set allow_insecure_http: true on provider 'openai' to allow it"},
        ErrorCase{"CredentialsInApiBaseAreNotEchoed",
                  Fast("      - {provider: openai, model_id: a, api_base: "
                       "\"https://me:sk-secret@x.example/v1\"}\n"),
                  "cfg.yaml:4: models.fast.endpoints[0].api_base: invalid URL "
                  "'https://<redacted>@x.example/v1': credentials in URLs are not allowed"},
        ErrorCase{"DuplicateModel",
                  "models:\n  a:\n    endpoints: [{provider: openai, model_id: x}]\n  a:\n"
                  "    endpoints: [{provider: openai, model_id: y}]\n",
                  "cfg.yaml:4: models.a: defined twice"},
        ErrorCase{"DuplicateProvider",
                  "providers:\n  openai:\n    api_key: a\n  openai:\n    api_key: b\n",
                  "cfg.yaml:4: providers.openai: defined twice"},
        ErrorCase{"EndpointScalar", Fast("      - openai:gpt-4o\n"),
                  "cfg.yaml:4: models.fast.endpoints[0]: expected a mapping"},
        ErrorCase{"EndpointsEmpty", "models:\n  fast:\n    endpoints: []\n",
                  "cfg.yaml:3: models.fast.endpoints: expected a non-empty list of endpoints"},
        ErrorCase{"EndpointsMap", "models:\n  fast:\n    endpoints: {provider: openai}\n",
                  "cfg.yaml:3: models.fast.endpoints: expected a non-empty list of endpoints"},
        ErrorCase{"NoEndpoints", "models:\n  fast:\n    strategy: priority\n",
                  "cfg.yaml:3: models.fast: needs endpoints"},
        ErrorCase{"Strategy",
                  "models:\n  fast:\n    strategy: round_robin\n    endpoints: [{provider: openai, "
                  "model_id: a}]\n",
                  "cfg.yaml:3: models.fast.strategy: expected priority or load_balance, got "
                  "'round_robin'"},
        ErrorCase{"ModelTypo",
                  "models:\n  fast:\n    stratgy: priority\n    endpoints: [{provider: openai, "
                  "model_id: a}]\n",
                  "cfg.yaml:3: models.fast.stratgy: unknown key"},
        ErrorCase{"ModelScalar", "models:\n  fast: openai:gpt-4o\n",
                  "cfg.yaml:2: models.fast: expected a mapping"},
        ErrorCase{"ModelsList", "models:\n  - fast\n", "cfg.yaml:2: models: expected a mapping"},
        ErrorCase{"NameWithColon",
                  "models:\n  \"openai:gpt-4o\":\n    endpoints: [{provider: openai, model_id: "
                  "a}]\n",
                  "cfg.yaml:2: models.openai:gpt-4o: virtual model names must be non-empty and "
                  "contain no ':'"},
        ErrorCase{"EmptyName",
                  "models:\n  \"\":\n    endpoints: [{provider: openai, model_id: a}]\n",
                  "cfg.yaml:2: models.: virtual model names must be non-empty and contain no ':'"},
        ErrorCase{"ModelTimeouts",
                  "models:\n  fast:\n    timeouts: {idle: forever}\n    endpoints: [{provider: "
                  "openai, model_id: a}]\n",
                  "cfg.yaml:3: models.fast.timeouts.idle: expected a duration like 500ms, 10s, "
                  "5m, got 'forever'"},
        ErrorCase{"MaxTokensWord",
                  "models:\n  fast:\n    max_output_tokens: big\n    endpoints: [{provider: "
                  "openai, model_id: a}]\n",
                  "cfg.yaml:3: models.fast.max_output_tokens: expected an integer 0..1000000000, "
                  "got 'big'"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// upstream failover knobs

TEST(LoaderFailoverTest, Defaults) {
  auto cfg = Parse("");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->failover.retries, 0u);
  EXPECT_EQ(cfg->failover.retry_backoff_ms, 200u);
  EXPECT_EQ(cfg->failover.breaker_failures, 5u);
  EXPECT_EQ(cfg->failover.breaker_cooldown_ms, 30'000u);
  EXPECT_TRUE(cfg->failover.stream_recovery);
}

TEST(LoaderFailoverTest, AllFields) {
  auto cfg = Parse(R"(
upstream:
  retries: 2
  retry_backoff: 250ms
  stream_recovery: off
  circuit_breaker:
    failures: 3
    cooldown: 1m
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(cfg->failover.stream_recovery);
  EXPECT_EQ(cfg->failover.retries, 2u);
  EXPECT_EQ(cfg->failover.retry_backoff_ms, 250u);
  EXPECT_EQ(cfg->failover.breaker_failures, 3u);
  EXPECT_EQ(cfg->failover.breaker_cooldown_ms, 60'000u);
}

TEST(LoaderFailoverTest, Errors) {
  EXPECT_EQ(Error("upstream:\n  stream_recovery: maybe\n"),
            "cfg.yaml:2: upstream.stream_recovery: expected true or false, got 'maybe'");
  EXPECT_EQ(Error("upstream:\n  retries: 11\n"),
            "cfg.yaml:2: upstream.retries: expected an integer 0..10, got '11'");
  EXPECT_EQ(Error("upstream:\n  retries: -1\n"),
            "cfg.yaml:2: upstream.retries: expected an integer 0..10, got '-1'");
  EXPECT_EQ(Error("upstream:\n  retry_backoff: fast\n"),
            "cfg.yaml:2: upstream.retry_backoff: expected a duration like 500ms, 10s, 5m, got "
            "'fast'");
  EXPECT_EQ(Error("upstream:\n  circuit_breaker:\n    failures: 0\n"),
            "cfg.yaml:3: upstream.circuit_breaker.failures: expected an integer 1..1000, got '0'");
  EXPECT_EQ(Error("upstream:\n  circuit_breaker:\n    cooldown: later\n"),
            "cfg.yaml:3: upstream.circuit_breaker.cooldown: expected a duration like 500ms, 10s, "
            "5m, got 'later'");
  EXPECT_EQ(Error("upstream:\n  circuit_breaker:\n    threshold: 3\n"),
            "cfg.yaml:3: upstream.circuit_breaker.threshold: unknown key");
  EXPECT_EQ(Error("upstream:\n  circuit_breaker: on\n"),
            "cfg.yaml:2: upstream.circuit_breaker: expected a mapping");
}

}  // namespace
}  // namespace bitrouter::config
