// Loader tests for `routing:` (classified auto routing rules) and
// `compat.llmrouter`: the issue's example verbatim, the built-in signals and
// their merge, Rungate's default candidates, and every validation error
// with its file:line.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "shared/config/loader.h"
#include "shared/config/render.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml) { return ParseConfig(yaml, "cfg.yaml", {}); }

std::string Error(std::string_view yaml) {
  auto cfg = Parse(yaml);
  if (cfg.ok()) return "(loaded)";
  return std::string(cfg.status().message());
}

constexpr std::string_view kExample = R"(routing:
  auto:
    inherit_defaults: true
    match: substring
    signals:
      coding: {keywords: [Code, function]}
    complexity:
      high_keywords: [complex, architecture]
      message_length_threshold: 1000
      turn_count_threshold: 10
      code_blocks_increase_complexity: true
    models:
      coding.high: anthropic:claude-sonnet-4
      coding: openai:gpt-4o
      default: openai:gpt-4o-mini
compat:
  llmrouter: true
)";

TEST(LoaderRoutingTest, IssueExampleLoads) {
  auto cfg = Parse(kExample);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->routing.size(), 1u);
  const RoutingRuleConfig& r = cfg->routing.at("auto");
  EXPECT_EQ(r.line, 2);
  EXPECT_FALSE(r.word_match);
  // The rule's coding replaces the built-in one; keywords are lowercased.
  EXPECT_EQ(r.signals.at("coding"), (std::vector<std::string>{"code", "function"}));
  // The other built-ins are inherited.
  EXPECT_EQ(r.signals.size(), 4u);
  EXPECT_EQ(r.signals.at("math").size(), 14u);
  EXPECT_EQ(r.signals.at("creative").size(), 13u);
  EXPECT_EQ(r.signals.at("research").size(), 11u);
  EXPECT_EQ(r.high_keywords, (std::vector<std::string>{"complex", "architecture"}));
  EXPECT_EQ(r.message_length_threshold, 1000u);
  EXPECT_EQ(r.turn_count_threshold, 10u);
  EXPECT_TRUE(r.code_blocks_increase_complexity);
  EXPECT_EQ(r.models,
            (std::map<std::string, std::string>{{"coding.high", "anthropic:claude-sonnet-4"},
                                                {"coding", "openai:gpt-4o"},
                                                {"default", "openai:gpt-4o-mini"}}));
  EXPECT_TRUE(cfg->llmrouter.enabled);
  EXPECT_FALSE(cfg->llmrouter.word_match);
  EXPECT_TRUE(cfg->warnings.empty()) << cfg->warnings.front();
}

TEST(LoaderRoutingTest, BuiltinSignalsAndComplexityWords) {
  auto cfg = Parse("routing:\n  auto:\n    models: {default: openai:gpt-4o-mini}\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const RoutingRuleConfig& r = cfg->routing.at("auto");
  EXPECT_EQ(r.signals.at("coding").size(), 20u);
  EXPECT_EQ(r.signals.at("math").size(), 14u);
  EXPECT_EQ(r.signals.at("creative").size(), 13u);
  EXPECT_EQ(r.signals.at("research").size(), 11u);
  EXPECT_EQ(r.high_keywords.size(), 12u);
  auto has = [](const std::vector<std::string>& v, const std::string& k) {
    return std::find(v.begin(), v.end(), k) != v.end();
  };
  EXPECT_TRUE(has(r.signals.at("coding"), "unit test"));
  EXPECT_TRUE(has(r.signals.at("math"), "integral"));
  EXPECT_TRUE(has(r.signals.at("creative"), "lyrics"));
  EXPECT_TRUE(has(r.signals.at("research"), "summarize"));
  EXPECT_TRUE(has(r.high_keywords, "scalable"));
}

TEST(LoaderRoutingTest, InheritDefaultsFalseHasOnlyItsOwnSignals) {
  auto cfg = Parse(R"(routing:
  smart:
    inherit_defaults: false
    match: word
    signals:
      legal: {keywords: [Contract, "NDA"]}
    models: {legal: openai:gpt-4o, default: openai:gpt-4o-mini}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const RoutingRuleConfig& r = cfg->routing.at("smart");
  EXPECT_TRUE(r.word_match);
  EXPECT_EQ(r.signals.size(), 1u);
  EXPECT_EQ(r.signals.at("legal"), (std::vector<std::string>{"contract", "nda"}));
  EXPECT_TRUE(r.high_keywords.empty());
  // Without built-ins, a models key may not name one.
  EXPECT_EQ(Error(R"(routing:
  smart:
    inherit_defaults: false
    models: {coding: a:b, default: a:c}
)"),
            "cfg.yaml:4: routing.smart.models.coding: no signal named 'coding'");
}

TEST(LoaderRoutingTest, CompatDefaultsToRungatesTableExactly) {
  auto cfg = Parse("compat:\n  llmrouter: true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const auto& c = cfg->llmrouter.candidates;
  EXPECT_EQ(c.at("simple"),
            (std::vector<std::string>{"deepseek/deepseek-chat", "xiaomi/mimo-v2-flash",
                                      "minimax/minimax-m2.1", "deepseek/deepseek-chat-v3.1",
                                      "deepseek/deepseek-chat-v3-0324"}));
  EXPECT_EQ(c.at("coding"),
            (std::vector<std::string>{"qwen/qwen3-coder-next", "deepseek/deepseek-v3.2",
                                      "openai/gpt-oss-120b", "moonshotai/kimi-k2.5"}));
  EXPECT_EQ(c.at("reasoning"),
            (std::vector<std::string>{
                "deepseek/deepseek-v3.2", "deepseek/deepseek-r1", "deepseek/deepseek-r1-0528",
                "qwen/qwen3-235b-a22b-thinking-2507", "moonshotai/kimi-k2.5",
                "moonshotai/kimi-k2-0905", "z-ai/glm-5", "minimax/minimax-m2.5"}));
  EXPECT_EQ(c.at("vision"), (std::vector<std::string>{"qwen/qwen3-vl-235b-a22b-thinking"}));
}

TEST(LoaderRoutingTest, CompatBlockOverridesCandidates) {
  auto cfg = Parse(R"(compat:
  llmrouter:
    match: word
    candidates:
      coding: [openai:gpt-4o, fast]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_TRUE(cfg->llmrouter.enabled);
  EXPECT_TRUE(cfg->llmrouter.word_match);
  EXPECT_EQ(cfg->llmrouter.candidates.at("coding"),
            (std::vector<std::string>{"openai:gpt-4o", "fast"}));
  EXPECT_EQ(cfg->llmrouter.candidates.at("simple").front(), "deepseek/deepseek-chat");
  auto off = Parse("compat:\n  llmrouter: {enabled: false}\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->llmrouter.enabled);
  auto none = Parse("server: {}\n");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->llmrouter.enabled);
  EXPECT_TRUE(none->routing.empty());
}

TEST(LoaderRoutingTest, ARuleTakesTheNameOfARouteWithAWarning) {
  // The OpenClaw plugin writes a route named `auto`; a rule of that name
  // classifies `auto`, and its models: may still send to the route.
  auto cfg = Parse(
      "models:\n  auto:\n    endpoints: [{provider: openai, model_id: gpt-4o}]\n"
      "routing:\n  auto:\n    models: {coding: openai:gpt-4o, default: auto}\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->routing.at("auto").models.at("default"), "auto");
  ASSERT_EQ(cfg->warnings.size(), 1u);
  EXPECT_NE(cfg->warnings[0].find("cfg.yaml:5: routing.auto: takes this name over the virtual "
                                  "model of the same name in models:"),
            std::string::npos)
      << cfg->warnings[0];
}

TEST(LoaderRoutingTest, ErrorsNameFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"routing: [a]\n", "cfg.yaml:1: routing: expected a mapping"},
      {"routing:\n  auto:\n    modles: {default: a:b}\n",
       "cfg.yaml:3: routing.auto.modles: unknown key"},
      {"routing:\n  auto:\n    inherit_defaults: true\n",
       "cfg.yaml:2: routing.auto: a rule needs models: with at least default"},
      {"routing:\n  auto:\n    models: {coding: a:b}\n",
       "cfg.yaml:3: routing.auto.models: missing default (the model when no signal decides)"},
      {"routing:\n  auto:\n    models: {nosuch: a:b, default: a:c}\n",
       "cfg.yaml:3: routing.auto.models.nosuch: no signal named 'nosuch'"},
      {"routing:\n  auto:\n    models: {coding.medium: a:b, default: a:c}\n",
       "cfg.yaml:3: routing.auto.models.coding.medium: expected <signal>, <signal>.low or "
       "<signal>.high"},
      {"routing:\n  auto:\n    signals:\n      x: {keywords: [a, [b]]}\n    models: {default: "
       "a:c}\n",
       "cfg.yaml:4: routing.auto.signals.x.keywords[1]: a keyword must be a string"},
      {"routing:\n  auto:\n    signals:\n      x: {keywords: [\"\"]}\n    models: {default: a:c}\n",
       "cfg.yaml:4: routing.auto.signals.x.keywords[0]: a keyword must not be empty"},
      {"routing:\n  auto:\n    signals:\n      x: {keywords: []}\n    models: {default: a:c}\n",
       "cfg.yaml:4: routing.auto.signals.x: a signal needs at least one keyword"},
      {"routing:\n  auto:\n    signals:\n      x: {words: [a]}\n    models: {default: a:c}\n",
       "cfg.yaml:4: routing.auto.signals.x.words: unknown key"},
      {"routing:\n  auto:\n    signals:\n      x: {keywords: code}\n    models: {default: a:c}\n",
       "cfg.yaml:4: routing.auto.signals.x.keywords: expected a list of keywords"},
      {"routing:\n  auto:\n    match: fuzzy\n    models: {default: a:c}\n",
       "cfg.yaml:3: routing.auto.match: expected substring or word"},
      {"routing:\n  auto:\n    complexity: {turns: 3}\n    models: {default: a:c}\n",
       "cfg.yaml:3: routing.auto.complexity.turns: unknown key"},
      {"routing:\n  auto:\n    complexity: {turn_count_threshold: -1}\n    models: {default: "
       "a:c}\n",
       "cfg.yaml:3: routing.auto.complexity.turn_count_threshold: expected an integer 0..1000000, "
       "got '-1'"},
      {"routing:\n  auto:\n    models: {default: \"two words\"}\n",
       "cfg.yaml:3: routing.auto.models.default: a model name: printable ASCII without spaces"},
      {"routing:\n  \"my auto\":\n    models: {default: a:b}\n",
       "cfg.yaml:2: routing.my auto: a trigger is a model name: printable ASCII without spaces"},
      {"compat:\n  rungate: true\n", "cfg.yaml:2: compat.rungate: unknown key"},
      {"compat:\n  llmrouter: maybe\n",
       "cfg.yaml:2: compat.llmrouter: expected true or false, got 'maybe'"},
      {"compat:\n  llmrouter:\n    candidates: {math: [a:b]}\n",
       "cfg.yaml:3: compat.llmrouter.candidates.math: expected simple, coding, reasoning or "
       "vision"},
      {"compat:\n  llmrouter:\n    candidates: {coding: []}\n",
       "cfg.yaml:3: compat.llmrouter.candidates.coding: needs at least one model"},
      {"compat:\n  llmrouter:\n    colour: red\n",
       "cfg.yaml:3: compat.llmrouter.colour: unknown key"},
  };
  for (const auto& [yaml, want] : cases) EXPECT_EQ(Error(yaml), want) << yaml;
}

TEST(LoaderRoutingTest, RenderShowsTheMergedSection) {
  auto cfg = Parse(kExample);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  std::string out = RenderEffectiveConfig(*cfg);
  EXPECT_NE(out.find("routing:\n  auto:\n    inherit_defaults: true\n    match: substring\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("      coding: {keywords: [code, function]}\n"), std::string::npos) << out;
  EXPECT_NE(out.find("      coding.high: anthropic:claude-sonnet-4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("compat:\n  llmrouter:\n    enabled: true\n    match: substring\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("      vision: [qwen/qwen3-vl-235b-a22b-thinking]\n"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace bitrouter::config
