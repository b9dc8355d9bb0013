// The files the OpenClaw plugin writes into its BitRouter home load as they
// are (issue 18 item 2). The golden files under testdata/openclaw/ are the
// plugin's generateConfig output for one, two and three detected providers
// (auto mode: `auto`, `default` and `<provider>/auto` routes, literal keys
// moved to .env, `derives: openai` with an explicit api_base), written with
// the `yaml` package the plugin uses, and a file with the newer sections
// later plugin versions add.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/config/env.h"
#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

std::string Dir(const std::string& name) {
  return std::string(BR_TESTDATA_DIR) + "/openclaw/" + name;
}

absl::StatusOr<Config> LoadHome(const std::string& name) {
  auto env = LoadEnvironment(Dir(name) + "/.env");
  if (!env.ok()) return env.status();
  // Only the .env the plugin wrote: the machine's own keys must not count.
  for (const char* var : {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"}) {
    if (std::getenv(var) != nullptr) env->erase(var);
  }
  return LoadConfigFile(Dir(name) + "/bitrouter.yaml", *env);
}

std::vector<std::string> Targets(const Config& cfg, const std::string& route) {
  std::vector<std::string> out;
  auto it = cfg.models.find(route);
  if (it == cfg.models.end()) return {"(no route " + route + ")"};
  EXPECT_EQ(it->second.strategy, "priority") << route;
  for (const Endpoint& e : it->second.endpoints) out.push_back(e.provider + ":" + e.model_id);
  return out;
}

std::string AllWarnings(const Config& cfg) {
  std::string out;
  for (const auto& w : cfg.warnings) out += w + "\n";
  return out;
}

void ExpectPluginGuardrails(const Config& cfg) {
  EXPECT_TRUE(cfg.guardrails.enabled);
  EXPECT_EQ(cfg.guardrails.upgoing.at("private_keys"), "redact");
  EXPECT_EQ(cfg.guardrails.upgoing.at("credentials"), "warn");
  EXPECT_EQ(cfg.guardrails.upgoing.at("api_keys"), "warn");
  EXPECT_EQ(cfg.guardrails.downgoing.at("suspicious_commands"), "warn");
}

TEST(OpenClawFiles, OneProvider) {
  auto cfg = LoadHome("one_provider");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(cfg->warnings.empty()) << AllWarnings(*cfg);
  EXPECT_EQ(cfg->server.listen, "127.0.0.1:8787");
  const Provider& openai = cfg->providers.at("openai");
  EXPECT_TRUE(openai.active) << openai.reason;
  EXPECT_EQ(openai.api_key, "sk-test-openai-0001");  // ${OPENAI_API_KEY} from .env
  EXPECT_EQ(openai.api_base, "https://api.openai.com/v1");
  EXPECT_EQ(Targets(*cfg, "auto"), std::vector<std::string>{"openai:gpt-4o"});
  EXPECT_EQ(Targets(*cfg, "default"), std::vector<std::string>{"openai:gpt-4o"});
  EXPECT_EQ(Targets(*cfg, "openai/auto"), std::vector<std::string>{"openai:gpt-4o"});
  EXPECT_EQ(cfg->models.size(), 3u);
  ExpectPluginGuardrails(*cfg);
}

TEST(OpenClawFiles, TwoProvidersDeriveTheOpenAIProtocolAgainstTheirBase) {
  auto cfg = LoadHome("two_providers");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(cfg->warnings.empty()) << AllWarnings(*cfg);
  // `derives: openai` + api_base: the OpenAI wire protocol against that base,
  // with the provider's own key (never the parent's).
  const Provider& anthropic = cfg->providers.at("anthropic");
  EXPECT_TRUE(anthropic.active) << anthropic.reason;
  EXPECT_EQ(anthropic.api_protocol, "openai");
  EXPECT_EQ(anthropic.api_base, "https://api.anthropic.com/v1");
  EXPECT_EQ(anthropic.api_key, "sk-ant-test-0002");
  const Provider& openrouter = cfg->providers.at("openrouter");
  EXPECT_TRUE(openrouter.active) << openrouter.reason;
  EXPECT_EQ(openrouter.api_protocol, "openai");
  EXPECT_EQ(openrouter.api_base, "https://openrouter.ai/api/v1");
  EXPECT_EQ(openrouter.api_key, "sk-or-test-0003");
  EXPECT_EQ(Targets(*cfg, "auto"),
            (std::vector<std::string>{"anthropic:claude-3-5-haiku-20241022",
                                      "openrouter:anthropic/claude-3-haiku"}));
  EXPECT_EQ(Targets(*cfg, "default"),
            std::vector<std::string>{"anthropic:claude-3-5-haiku-20241022"});
  EXPECT_EQ(Targets(*cfg, "anthropic/auto"),
            std::vector<std::string>{"anthropic:claude-3-5-haiku-20241022"});
  EXPECT_EQ(Targets(*cfg, "openrouter/auto"),
            std::vector<std::string>{"openrouter:anthropic/claude-3-haiku"});
  EXPECT_EQ(cfg->models.size(), 4u);
  ExpectPluginGuardrails(*cfg);
}

TEST(OpenClawFiles, ThreeProviders) {
  auto cfg = LoadHome("three_providers");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(cfg->warnings.empty()) << AllWarnings(*cfg);
  for (const char* p : {"anthropic", "openai", "openrouter"}) {
    EXPECT_TRUE(cfg->providers.at(p).active) << p << ": " << cfg->providers.at(p).reason;
    EXPECT_EQ(cfg->providers.at(p).api_protocol, "openai") << p;
  }
  EXPECT_EQ(Targets(*cfg, "auto"),
            (std::vector<std::string>{"anthropic:claude-3-5-haiku-20241022", "openai:gpt-4o",
                                      "openrouter:anthropic/claude-3-haiku"}));
  EXPECT_EQ(Targets(*cfg, "default"),
            std::vector<std::string>{"anthropic:claude-3-5-haiku-20241022"});
  for (const char* p : {"anthropic", "openai", "openrouter"}) {
    EXPECT_EQ(Targets(*cfg, std::string(p) + "/auto").size(), 1u) << p;
  }
  EXPECT_EQ(cfg->models.size(), 5u);
  ExpectPluginGuardrails(*cfg);
}

TEST(OpenClawFiles, NewerSectionsAreIgnoredWithAWarningAndMcpServersLoad) {
  auto cfg = LoadHome("newer_sections");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::string warnings = AllWarnings(*cfg);
  for (const char* section : {"solana_rpc_url", "a2a_agents", "a2a_agent_pricing", "mcp_groups",
                              "mcp_server_pricing", "skills"}) {
    EXPECT_NE(warnings.find(std::string(section) + ": section not implemented yet; ignored"),
              std::string::npos)
        << section << "\n"
        << warnings;
  }
  // The plugin's list form of mcp_servers: a stdio server with its filter
  // and its forbidden parameters (refused by the tool policy).
  const McpServerConfig& files = cfg->mcp_servers.at("files");
  EXPECT_EQ(files.type, McpTransportType::kStdio);
  EXPECT_EQ(files.stdio.command, "/usr/bin/env");
  EXPECT_EQ(files.stdio.args, std::vector<std::string>{"true"});
  EXPECT_EQ(files.tool_prefix, "files__");
  EXPECT_EQ(files.allowed_tools, (std::vector<std::string>{"read_*", "list_dir"}));
  EXPECT_EQ(files.disallowed_tools, std::vector<std::string>{"read_secret"});
  EXPECT_TRUE(cfg->guardrails.tools_enabled);
  const auto& rule = cfg->guardrails.tool_providers.at("files").params.at("list_dir");
  EXPECT_EQ(rule.deny, std::vector<std::string>{"recursive"});
  EXPECT_EQ(rule.action, "block");
  EXPECT_EQ(Targets(*cfg, "auto"), std::vector<std::string>{"openai:gpt-4o"});
}

TEST(OpenClawFiles, BadEntryInTheListFormIsAFileLineError) {
  auto cfg = ParseConfig(
      "mcp_servers:\n"
      "  - name: ok\n"
      "    command: /bin/true\n"
      "  - command: /bin/true\n",
      "cfg.yaml", {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(std::string(cfg.status().message()).find("cfg.yaml:4: mcp_servers[1]: needs name"),
            std::string::npos)
      << cfg.status();
  auto dup = ParseConfig(
      "mcp_servers:\n"
      "  - name: a\n"
      "    command: /bin/true\n"
      "  - name: a\n"
      "    url: http://127.0.0.1:9/mcp\n",
      "cfg.yaml", {});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(std::string(dup.status().message()).find("defined twice"), std::string::npos)
      << dup.status();
}

}  // namespace
}  // namespace bitrouter::config
