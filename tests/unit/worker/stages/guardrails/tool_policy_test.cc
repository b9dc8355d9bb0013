// guardrails.tools: the policy's globs, the request-side filter in each
// client protocol and the answer-side check of tool calls.
#include <gtest/gtest.h>

#include <string>

#include "shared/guardrails/tool_policy.h"
#include "worker/stages/guardrails/tool_calls.h"
#include "worker/stages/guardrails/tool_filter.h"

namespace bitrouter::worker {
namespace {

using guardrails::ToolParamRule;
using guardrails::ToolProviderPolicy;
using protocol::Protocol;

ToolProviderPolicy DenyPolicy() {
  ToolProviderPolicy p;
  p.deny = {"delete_*", "shell"};
  p.params["create_issue"] = ToolParamRule{{"assignees"}, false};
  p.params["run_*"] = ToolParamRule{{"sudo"}, true};
  return p;
}

TEST(ToolPolicyTest, AllowListsDenyListsAndGlobs) {
  ToolProviderPolicy p = DenyPolicy();
  EXPECT_FALSE(p.Allows("delete_repo"));
  EXPECT_FALSE(p.Allows("shell"));
  EXPECT_TRUE(p.Allows("shellcheck"));
  EXPECT_TRUE(p.Allows("create_issue"));
  ToolProviderPolicy allow;
  allow.allow = {"read_*", "search"};
  EXPECT_TRUE(allow.Allows("read_file"));
  EXPECT_TRUE(allow.Allows("search"));
  EXPECT_FALSE(allow.Allows("write_file"));
  ASSERT_NE(p.Params("create_issue"), nullptr);
  EXPECT_FALSE(p.Params("create_issue")->block);
  ASSERT_NE(p.Params("run_shell"), nullptr) << "param rules take globs too";
  EXPECT_TRUE(p.Params("run_shell")->block);
  EXPECT_EQ(p.Params("create_pr"), nullptr);
}

TEST(ToolPolicyTest, FromConfigIsNullWhenOffOrEmpty) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  cfg.tools_enabled = true;
  EXPECT_EQ(guardrails::ToolPolicy::FromConfig(cfg), nullptr);
  cfg.tool_providers["openai"].filter.deny = {"x"};
  auto policy = guardrails::ToolPolicy::FromConfig(cfg);
  ASSERT_NE(policy, nullptr);
  ASSERT_NE(policy->For("openai"), nullptr);
  EXPECT_EQ(policy->For("anthropic"), nullptr);
  cfg.tools_enabled = false;
  EXPECT_EQ(guardrails::ToolPolicy::FromConfig(cfg), nullptr);
}

struct FilterCase {
  Protocol client;
  std::string body;
  std::string expected;  // "" = unchanged
  std::string blocked;   // substring of the refusal; "" = not refused
};

TEST(ToolFilterTest, EachProtocolsOfferIsFiltered) {
  const ToolProviderPolicy p = DenyPolicy();
  const std::vector<NamedToolPolicy> policies = {{"openai", &p}};
  const std::vector<FilterCase> cases = {
      // Chat: a denied tool out, a restricted argument out of the schema.
      {Protocol::kChat,
       R"({"model":"m","tools":[{"type":"function","function":{"name":"delete_repo"}},{"type":"function","function":{"name":"create_issue","parameters":{"type":"object","properties":{"t":{},"assignees":{}},"required":["t","assignees"]}}}]})",
       R"({"model":"m","tools":[{"type":"function","function":{"name":"create_issue","parameters":{"type":"object","properties":{"t":{}},"required":["t"]}}}]})",
       ""},
      // Chat: every tool out with tool_choice auto: tools, tool_choice and
      // parallel_tool_calls go.
      {Protocol::kChat,
       R"({"model":"m","tools":[{"type":"function","function":{"name":"shell"}}],"tool_choice":"auto","parallel_tool_calls":false})",
       R"({"model":"m"})", ""},
      {Protocol::kChat,
       R"({"model":"m","tools":[{"type":"function","function":{"name":"shell"}}],"tool_choice":"required"})",
       "", "every offered tool is denied"},
      {Protocol::kChat,
       R"({"model":"m","tools":[{"type":"function","function":{"name":"shell"}},{"type":"function","function":{"name":"ok"}}],"tool_choice":{"type":"function","function":{"name":"shell"}}})",
       "", "tool 'shell': not allowed for provider 'openai'"},
      // Chat legacy functions.
      {Protocol::kChat, R"({"model":"m","functions":[{"name":"delete_x"},{"name":"ok"}]})",
       R"({"model":"m","functions":[{"name":"ok"}]})", ""},
      // Nothing denied: unchanged (never re-serialised).
      {Protocol::kChat, R"({"model":"m","tools":[{"type":"function","function":{"name":"ok"}}]})",
       "", ""},
      // Responses: function tools by name, built-in tools by type.
      {Protocol::kResponses,
       R"({"model":"m","tools":[{"type":"function","name":"delete_repo"},{"type":"shell"},{"type":"web_search"}],"tool_choice":"auto"})",
       R"({"model":"m","tools":[{"type":"web_search"}],"tool_choice":"auto"})", ""},
      {Protocol::kResponses,
       R"({"model":"m","tools":[{"type":"function","name":"a"}],"tool_choice":{"type":"function","name":"delete_a"}})",
       "", "tool 'delete_a'"},
      // Messages.
      {Protocol::kMessages,
       R"({"model":"m","tools":[{"name":"delete_repo","input_schema":{}},{"name":"create_issue","input_schema":{"properties":{"assignees":{}}}}],"tool_choice":{"type":"auto"}})",
       R"({"model":"m","tools":[{"name":"create_issue","input_schema":{"properties":{}}}],"tool_choice":{"type":"auto"}})",
       ""},
      {Protocol::kMessages,
       R"({"model":"m","tools":[{"name":"shell","input_schema":{}}],"tool_choice":{"type":"any"}})",
       "", "every offered tool is denied"},
      {Protocol::kMessages,
       R"({"model":"m","tools":[{"name":"x","input_schema":{}}],"tool_choice":{"type":"tool","name":"delete_x"}})",
       "", "tool 'delete_x'"},
      // Gemini: declarations, allowedFunctionNames, an emptied tools entry.
      {Protocol::kGemini,
       R"({"tools":[{"functionDeclarations":[{"name":"delete_repo"},{"name":"ok"}]},{"functionDeclarations":[{"name":"shell"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["ok","shell"]}}})",
       R"({"tools":[{"functionDeclarations":[{"name":"ok"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["ok"]}}})",
       ""},
      {Protocol::kGemini,
       R"({"tools":[{"functionDeclarations":[{"name":"shell"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}})",
       "", "every offered function is denied"},
      {Protocol::kGemini, R"({"tools":[{"shell":{}},{"googleSearch":{}}]})",
       R"({"tools":[{"googleSearch":{}}]})", ""},
  };
  for (const FilterCase& c : cases) {
    auto r = FilterOfferedTools(c.client, c.body, policies);
    ASSERT_TRUE(r.ok()) << c.body;
    if (!c.blocked.empty()) {
      EXPECT_NE(r->blocked.find(c.blocked), std::string::npos) << c.body << "\n" << r->blocked;
      continue;
    }
    EXPECT_TRUE(r->blocked.empty()) << c.body << "\n" << r->blocked;
    EXPECT_EQ(r->body, c.expected) << c.body;
  }
}

TEST(ToolFilterTest, TheStrictestOfSeveralProvidersApplies) {
  ToolProviderPolicy a;
  a.deny = {"x"};
  ToolProviderPolicy b;
  b.allow = {"y", "x"};
  const std::string body =
      R"({"tools":[{"name":"x","input_schema":{}},{"name":"y","input_schema":{}},{"name":"z","input_schema":{}}]})";
  auto r = FilterOfferedTools(Protocol::kMessages, body, {{"a", &a}, {"b", &b}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, R"({"tools":[{"name":"y","input_schema":{}}]})");
  EXPECT_EQ(r->removed, 2);
}

TEST(ToolFilterTest, ABodyWithoutToolsIsNotParsed) {
  ToolProviderPolicy p = DenyPolicy();
  auto r = FilterOfferedTools(Protocol::kChat, "not json at all", {{"p", &p}});
  ASSERT_TRUE(r.ok()) << "a body that never mentions tools is not read";
  EXPECT_TRUE(r->body.empty());
  EXPECT_FALSE(FilterOfferedTools(Protocol::kChat, R"({"tools":)", {{"p", &p}}).ok());
}

struct CallCase {
  Protocol p;
  std::string body;
  std::string expected;  // "" = unchanged
  std::string blocked;
};

TEST(ToolCallsTest, EachProtocolsAnswerIsChecked) {
  const ToolProviderPolicy p = DenyPolicy();
  const std::vector<CallCase> cases = {
      {Protocol::kChat,
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"delete_repo","arguments":"{}"}}]}}]})",
       "", "tool call 'delete_repo': not allowed for provider 'openai'"},
      {Protocol::kChat,
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"create_issue","arguments":"{\"t\":1,\"assignees\":[\"b\"]}"}}]}}]})",
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"create_issue","arguments":"{\"t\":1}"}}]}}]})",
       ""},
      {Protocol::kChat,
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"run_x","arguments":"{\"sudo\":true}"}}]}}]})",
       "", "argument 'sudo' is not allowed"},
      {Protocol::kChat,
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"create_issue","arguments":"[1]"}}]}}]})",
       "", "not a JSON object"},
      {Protocol::kChat,
       R"({"choices":[{"message":{"function_call":{"name":"shell","arguments":"{}"}}}]})", "",
       "tool call 'shell'"},
      {Protocol::kChat,
       R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"ok","arguments":"{\"assignees\":1}"}}]}}]})",
       "", ""},
      {Protocol::kResponses,
       R"({"output":[{"type":"function_call","name":"create_issue","arguments":"{\"assignees\":[],\"t\":2}"}]})",
       R"({"output":[{"type":"function_call","name":"create_issue","arguments":"{\"t\":2}"}]})",
       ""},
      {Protocol::kResponses,
       R"({"output":[{"type":"custom_tool_call","name":"shell","input":"ls"}]})", "",
       "tool call 'shell'"},
      {Protocol::kMessages,
       R"({"content":[{"type":"text","text":"hi"},{"type":"tool_use","name":"create_issue","input":{"assignees":["a"],"t":3}}]})",
       R"({"content":[{"type":"text","text":"hi"},{"type":"tool_use","name":"create_issue","input":{"t":3}}]})",
       ""},
      {Protocol::kMessages, R"({"content":[{"type":"tool_use","name":"delete_a","input":{}}]})", "",
       "tool call 'delete_a'"},
      {Protocol::kGemini,
       R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"create_issue","args":{"assignees":"x"}}}]}}]})",
       R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"create_issue","args":{}}}]}}]})",
       ""},
      {Protocol::kGemini,
       R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"run_it","args":{"sudo":1}}}]}}]})",
       "", "argument 'sudo'"},
  };
  for (const CallCase& c : cases) {
    auto r = CheckAnswerToolCalls(c.p, c.body, "openai", p);
    ASSERT_TRUE(r.ok()) << c.body;
    if (!c.blocked.empty()) {
      EXPECT_NE(r->blocked.find(c.blocked), std::string::npos) << c.body << "\n" << r->blocked;
      continue;
    }
    EXPECT_TRUE(r->blocked.empty()) << c.body << "\n" << r->blocked;
    EXPECT_EQ(r->body, c.expected) << c.body;
  }
}

TEST(ToolCallsTest, StreamedArgumentsUnderARule) {
  const ToolParamRule strip{{"assignees"}, false};
  ToolCallVerdict v = ApplyParamRule("create_issue", "p", strip, R"({"a":1,"assignees":[]})");
  EXPECT_EQ(v.body, R"({"a":1})");
  EXPECT_EQ(v.stripped, 1);
  v = ApplyParamRule("create_issue", "p", strip, R"({"a":1})");
  EXPECT_TRUE(v.body.empty()) << "nothing removed: sent as it came";
  EXPECT_TRUE(v.blocked.empty());
  v = ApplyParamRule("create_issue", "p", strip, "");
  EXPECT_TRUE(v.blocked.empty()) << "no arguments at all is an empty object";
  v = ApplyParamRule("create_issue", "p", strip, R"({"a":)");
  EXPECT_NE(v.blocked.find("not a JSON object"), std::string::npos);
  const ToolParamRule block{{"sudo"}, true};
  v = ApplyParamRule("run", "p", block, R"({"sudo":false})");
  EXPECT_NE(v.blocked.find("argument 'sudo'"), std::string::npos);
}

}  // namespace
}  // namespace bitrouter::worker
