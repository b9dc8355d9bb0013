// The `routing:` decision (§B.2) for each branch: signal.high, signal.low,
// the signal alone, default, ties, no built-ins, word matching, and the
// complexity score's four inputs.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shared/routing/content_router.h"
#include "shared/routing/conversation.h"

namespace bitrouter::routing {
namespace {

ContentRule Rule() {
  ContentRule r;
  r.trigger = "auto";
  r.signals = {{"coding", {"code", "function", "debug", "unit test"}},
               {"creative", {"story", "poem"}},
               {"math", {"equation", "integral", "probability"}}};
  r.high_keywords = {"complex", "architecture", "scalable"};
  r.message_length_threshold = 1000;
  r.turn_count_threshold = 10;
  r.code_blocks_increase_complexity = true;
  r.models = {{"coding.high", "big-coder"},
              {"coding.low", "small-coder"},
              {"math", "mathy"},
              {"creative.high", "poet"},
              {"default", "cheap"}};
  return r;
}

Conversation Chat(const std::string& body) {
  auto conv = ReadConversation(BodyShape::kChat, body);
  EXPECT_TRUE(conv.ok()) << conv.status();
  return conv.ok() ? *conv : Conversation{};
}

std::string User(std::string_view text) {
  std::string quoted;
  for (char c : text) {
    if (c == '\n') {
      quoted += "\\n";
    } else {
      quoted += c;
    }
  }
  return R"({"messages":[{"role":"user","content":")" + quoted + R"("}]})";
}

struct Case {
  std::string name;
  std::string body;
  std::string category;
  std::string model;
};

TEST(ContentRouterTest, DecisionTable) {
  std::string long_text(1200, 'x');
  std::string many_turns = R"({"messages":[)";
  for (int i = 0; i < 10; ++i) {
    many_turns += std::string(i ? "," : "") + R"({"role":"user","content":"debug this"})";
  }
  many_turns += "]}";
  const std::vector<Case> cases = {
      {"signal.high: keyword + code fence", User("debug this complex code\n```\nx\n```"),
       "coding.high", "big-coder"},
      {"signal.low: one point only", User("debug this complex code"), "coding.low", "small-coder"},
      {"signal.low: nothing", User("write a function"), "coding.low", "small-coder"},
      {"signal.high: length + high keyword", User("function " + long_text + " scalable"),
       "coding.high", "big-coder"},
      {"signal.high: turns + fence",
       many_turns.substr(0, many_turns.size() - 2) + R"(,{"role":"user","content":"```x```"}]})",
       "coding.high", "big-coder"},
      {"signal only: math has no levels", User("solve this complex integral equation"), "math",
       "mathy"},
      {"level without fallback: creative.low -> default", User("a story"), "default", "cheap"},
      {"creative.high", User("a complex scalable story\n```\n```"), "creative.high", "poet"},
      {"default: no keyword", User("hello there"), "default", "cheap"},
      {"most hits wins", User("code a function to compute an integral"), "coding.low",
       "small-coder"},
      {"tie goes to the first by name", User("code a poem"), "coding.low", "small-coder"},
      {"tie goes to the first by name (math vs creative)", User("a poem about an equation"),
       "default", "cheap"},  // creative < math: creative.low has no model -> default
      {"substring: encode holds code", User("encode this"), "coding.low", "small-coder"},
      {"case-insensitive", User("DEBUG IT"), "coding.low", "small-coder"},
      {"multi-word keyword", User("add a unit test"), "coding.low", "small-coder"},
  };
  ContentRule rule = Rule();
  for (const Case& c : cases) {
    RuleDecision d = DecideRule(rule, Chat(c.body));
    EXPECT_EQ(d.category, c.category) << c.name;
    EXPECT_EQ(d.model, c.model) << c.name;
  }
}

TEST(ContentRouterTest, ComplexityScoreInputs) {
  ContentRule rule = Rule();
  EXPECT_EQ(DecideRule(rule, Chat(User("plain"))).complexity, 0);
  EXPECT_EQ(DecideRule(rule, Chat(User("complex architecture"))).complexity, 1);  // once
  EXPECT_EQ(DecideRule(rule, Chat(User(std::string(1000, 'a')))).complexity, 1);
  EXPECT_EQ(DecideRule(rule, Chat(User(std::string(999, 'a')))).complexity, 0);
  EXPECT_EQ(DecideRule(rule, Chat(User("```x```"))).complexity, 1);
  rule.code_blocks_increase_complexity = false;
  EXPECT_EQ(DecideRule(rule, Chat(User("```x```"))).complexity, 0);
  rule.message_length_threshold = 0;  // off
  EXPECT_EQ(DecideRule(rule, Chat(User(std::string(5000, 'a')))).complexity, 0);
}

TEST(ContentRouterTest, WordMatchNeedsWholeWords) {
  ContentRule rule = Rule();
  rule.word_match = true;
  EXPECT_EQ(DecideRule(rule, Chat(User("encode this"))).category, "default");
  EXPECT_EQ(DecideRule(rule, Chat(User("please debug."))).category, "coding.low");
  EXPECT_EQ(DecideRule(rule, Chat(User("debugging"))).category, "default");
  EXPECT_EQ(DecideRule(rule, Chat(User("a complexity story, complex"))).complexity, 1);
}

TEST(ContentRouterTest, NoSignalsMeansDefault) {
  ContentRule rule = Rule();
  rule.signals.clear();  // inherit_defaults: false and none of its own
  RuleDecision d = DecideRule(rule, Chat(User("debug this complex code")));
  EXPECT_EQ(d.signal, "");
  EXPECT_EQ(d.category, "default");
  EXPECT_EQ(d.model, "cheap");
}

TEST(ContentRouterTest, AllMessagesAndSystemCount) {
  ContentRule rule = Rule();
  auto conv = ReadConversation(
      BodyShape::kMessages,
      R"({"system":"You debug code","messages":[{"role":"user","content":"hi"},)"
      R"({"role":"assistant","content":[{"type":"text","text":"a function?"}]}]})");
  ASSERT_TRUE(conv.ok());
  EXPECT_EQ(conv->turns, 2u);
  RuleDecision d = DecideRule(rule, *conv);
  EXPECT_EQ(d.signal, "coding");
  EXPECT_EQ(d.category, "coding.low");
  auto gemini = ReadConversation(
      BodyShape::kGemini,
      R"({"systemInstruction":{"parts":[{"text":"poem"}]},"contents":[{"parts":[{"text":"x"}]}]})");
  ASSERT_TRUE(gemini.ok());
  EXPECT_EQ(DecideRule(rule, *gemini).signal, "creative");
}

TEST(ContentRouterTest, LengthCountsCharactersNotBytes) {
  ContentRule rule = Rule();
  rule.message_length_threshold = 10;
  rule.code_blocks_increase_complexity = false;
  // Nine characters in 27 bytes: below the threshold; ten are at it.
  Conversation nine = Chat(User("\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"));
  EXPECT_EQ(nine.chars, 9u);
  EXPECT_EQ(DecideRule(rule, nine).complexity, 0);
  Conversation ten = Chat(User("\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d\u4e2d"));
  EXPECT_EQ(DecideRule(rule, ten).complexity, 1);
}

TEST(ContentRouterTest, AHugeBodyIsClassifiedOnABoundedWindow) {
  // 2 MiB of text: only the newest kMaxClassifiedBytes are scanned, while
  // the length and the fence still count the whole.
  std::string big = "```\n" + std::string(2 << 20, 'a') + " debug the integral";
  Conversation conv = Chat(User(big));
  EXPECT_LE(conv.all_text.size(), kMaxClassifiedBytes);
  EXPECT_LE(conv.last_user.size(), kMaxClassifiedBytes);
  EXPECT_EQ(conv.chars, big.size());
  EXPECT_TRUE(conv.has_code_block);
  RuleDecision d = DecideRule(Rule(), conv);
  EXPECT_EQ(d.signal, "coding");  // "debug" is in the newest window (tie with math: name order)
  EXPECT_EQ(d.complexity, 2);     // length and the fence
}

TEST(ContentRouterTest, AToolResultTurnKeepsTheUsersWords) {
  // Messages and Gemini agents send tool results as user turns: the latest
  // user text is still the user's own.
  auto messages = ReadConversation(
      BodyShape::kMessages,
      R"({"messages":[{"role":"user","content":"refactor this python function"},)"
      R"({"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]})");
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->last_user, "refactor this python function");
  auto gemini = ReadConversation(
      BodyShape::kGemini,
      R"({"contents":[{"role":"user","parts":[{"text":"compare the two"}]},)"
      R"({"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},)"
      R"({"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}}]}]})");
  ASSERT_TRUE(gemini.ok());
  EXPECT_EQ(gemini->last_user, "compare the two");
}

}  // namespace
}  // namespace bitrouter::routing
