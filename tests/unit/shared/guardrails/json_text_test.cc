// Redaction inside JSON text (tool-call arguments): valid JSON stays valid
// whatever span a match covers, secrets go, and a stream's split changes
// nothing.
#include "shared/guardrails/json_text.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "shared/guardrails/guard.h"
#include "shared/guardrails/stream_scanner.h"

namespace bitrouter::guardrails {
namespace {

std::shared_ptr<const Guard> RedactingGuard() {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  cfg.custom_patterns = {{"word", "hunter[0-9]{1,8}", "both", 1}};
  cfg.downgoing["credentials"] = "redact";
  cfg.custom_downgoing["word"] = "redact";
  auto rules = RulesFromConfig(cfg);
  EXPECT_TRUE(rules.ok());
  auto g = Guard::Compile(std::move(*rules), true, false);
  EXPECT_TRUE(g.ok()) << g.status();
  return *g;
}

uint16_t RuleIndex(const Guard& g, const std::string& name) {
  for (size_t i = 0; i < g.rules().size(); ++i) {
    if (g.rules()[i].name == name) return static_cast<uint16_t>(i);
  }
  ADD_FAILURE() << name;
  return 0;
}

bool ValidJson(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  return !d.HasParseError();
}

TEST(JsonTextTest, EverySpanOfValidJsonLeavesValidJson) {
  auto g = RedactingGuard();
  const uint16_t rule = RuleIndex(*g, "word");
  const std::string texts[] = {
      R"({"password":"hunter2","n":-0.5e3,"b":true,"z":null})",
      R"({"s":"a\"b\\c\u00e9\uD83D\uDE00z\n","arr":[10,0,{"k":"v"}]})",
      R"(["\uD83D\uDE00\uD83D\uDE00", "\\\"\\"])",
  };
  for (const std::string& text : texts) {
    ASSERT_TRUE(ValidJson(text)) << text;
    for (uint32_t b = 0; b < text.size(); ++b) {
      for (uint32_t e = b + 1; e <= text.size(); ++e) {
        std::string out = RedactJsonText(*g, text, {Match{rule, b, e}}, Direction::kDowngoing);
        ASSERT_TRUE(ValidJson(out)) << text << " [" << b << "," << e << ") -> " << out;
      }
    }
  }
}

TEST(JsonTextTest, AKeyValueMatchKeepsTheStructureAndDropsTheSecret) {
  auto g = RedactingGuard();
  const std::string args = R"({"cmd":"login","password":"s3cr3t-Value!","n":1})";
  std::vector<Match> m;
  g->Scan(args, Direction::kDowngoing, &m);
  ASSERT_FALSE(m.empty());
  std::string out = RedactJsonText(*g, args, m, Direction::kDowngoing);
  EXPECT_EQ(out.find("s3cr3t"), std::string::npos) << out;
  EXPECT_TRUE(ValidJson(out)) << out;
  EXPECT_EQ(out, R"({"cmd":"login","[REDACTED]":"[REDACTED]","n":1})");
  // Plain redaction would have broken it.
  EXPECT_FALSE(ValidJson(g->Redact(args, m, Direction::kDowngoing)));
}

TEST(JsonTextTest, TextThatIsNotJsonGetsThePlainRedaction) {
  auto g = RedactingGuard();
  const uint16_t rule = RuleIndex(*g, "word");
  const std::string text = "call me hunter22 ok";
  std::string out = RedactJsonText(*g, text, {Match{rule, 8, 16}}, Direction::kDowngoing);
  EXPECT_EQ(out, "call me [REDACTED] ok");
}

TEST(JsonTextTest, AStreamedArgumentTextStaysValidAtEverySplit) {
  auto g = RedactingGuard();
  const std::string text = R"({"note":"x \"hunter42\" y","password":"p4ssw0rd","k":[1,2]})";
  {
    std::vector<Match> whole;
    g->Scan(text, Direction::kDowngoing, &whole);
    const std::string expected = RedactJsonText(*g, text, whole, Direction::kDowngoing);
    ASSERT_TRUE(ValidJson(expected)) << expected;
    EXPECT_EQ(expected.find("hunter42"), std::string::npos) << expected;
    EXPECT_EQ(expected.find("p4ssw0rd"), std::string::npos) << expected;
    for (size_t cut = 1; cut < text.size(); ++cut) {
      StreamScanner s(g.get(), Direction::kDowngoing, /*json_text=*/true);
      std::string sent;
      std::vector<Match> found;
      s.Feed(text.substr(0, cut), &sent, &found);
      s.Feed(text.substr(cut), &sent, &found);
      s.Finish(&sent, &found);
      EXPECT_EQ(sent, expected) << "cut " << cut;
    }
  }
}

}  // namespace
}  // namespace bitrouter::guardrails
