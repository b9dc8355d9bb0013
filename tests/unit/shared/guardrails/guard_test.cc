// Guard: the rules a config puts in force, how matches of several rules
// combine, redaction, block messages and compile errors.

#include "shared/guardrails/guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bitrouter::guardrails {
namespace {

constexpr size_t kUp = 0;
constexpr size_t kDown = 1;

Rule Custom(std::string name, std::string regex, Action up, Action down) {
  Rule r;
  r.name = std::move(name);
  r.regex = std::move(regex);
  r.description = "custom pattern";
  r.max_match_bytes = 64;
  r.action[kUp] = up;
  r.action[kDown] = down;
  return r;
}

std::shared_ptr<const Guard> MustCompile(std::vector<Rule> rules, bool details = true,
                                         bool link = false) {
  auto g = Guard::Compile(std::move(rules), details, link);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : nullptr;
}

std::vector<Rule> MustRules(const config::GuardrailsConfig& cfg) {
  auto rules = RulesFromConfig(cfg);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : std::vector<Rule>{};
}

struct Found {
  std::string rule;
  std::string text;
  bool operator==(const Found&) const = default;
};

std::vector<Found> ScanText(const Guard& g, std::string_view text, Direction d) {
  std::vector<Match> m;
  g.Scan(text, d, &m);
  std::vector<Found> out;
  for (const Match& x : m) {
    out.push_back({g.rules()[x.rule].name, std::string(text.substr(x.begin, x.end - x.begin))});
  }
  return out;
}

TEST(GuardRulesTest, DisabledSectionHasNoRules) {
  config::GuardrailsConfig cfg;  // enabled = false
  EXPECT_TRUE(MustRules(cfg).empty());
}

TEST(GuardRulesTest, DefaultsWarnEverywhereButCommandsOnlyDowngoing) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  auto rules = MustRules(cfg);
  ASSERT_EQ(rules.size(), 7u);
  for (size_t i = 0; i < rules.size(); ++i) {
    EXPECT_EQ(rules[i].name, config::GuardrailsConfig::kBuiltinPatterns[i]);
    EXPECT_TRUE(rules[i].builtin);
    EXPECT_FALSE(rules[i].description.empty());
    EXPECT_EQ(rules[i].action[kDown], Action::kWarn) << rules[i].name;
    EXPECT_EQ(rules[i].action[kUp],
              rules[i].name == "suspicious_commands" ? Action::kNone : Action::kWarn)
        << rules[i].name;
  }
  auto g = MustCompile(rules);
  EXPECT_TRUE(g->Applies(Direction::kUpgoing));
  EXPECT_FALSE(g->Changes(Direction::kUpgoing)) << "warn only";
  EXPECT_EQ(g->max_match_bytes(Direction::kDowngoing), 4168u + 4) << "private_keys + slack";
}

TEST(GuardRulesTest, ActionsDisabledAndCustoms) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  cfg.disabled_patterns = {"ip_addresses", "pii_phone_numbers"};
  cfg.upgoing = {
      {"api_keys", "redact"}, {"private_keys", "block"}, {"suspicious_commands", "warn"}};
  cfg.downgoing = {{"suspicious_commands", "block"}, {"pii_emails", "redact"}};
  cfg.custom_patterns = {{"internal_token", "myapp_[A-Za-z0-9]{32}", "upgoing", 3},
                         {"ticket", "TICKET-[0-9]{1,6}", "both", 4}};
  cfg.custom_upgoing = {{"internal_token", "block"}};
  cfg.custom_downgoing = {{"ticket", "redact"}};
  auto rules = MustRules(cfg);
  std::vector<std::string> names;
  for (const Rule& r : rules) names.push_back(r.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"api_keys", "private_keys", "credentials", "pii_emails",
                                      "suspicious_commands", "internal_token", "ticket"}));
  EXPECT_EQ(rules[0].action[kUp], Action::kRedact);
  EXPECT_EQ(rules[0].action[kDown], Action::kWarn);
  EXPECT_EQ(rules[1].action[kUp], Action::kBlock);
  EXPECT_EQ(rules[3].action[kDown], Action::kRedact);
  EXPECT_EQ(rules[4].action[kUp], Action::kWarn) << "named upgoing: now scans requests";
  EXPECT_EQ(rules[4].action[kDown], Action::kBlock);
  EXPECT_FALSE(rules[5].builtin);
  EXPECT_EQ(rules[5].action[kUp], Action::kBlock);
  EXPECT_EQ(rules[5].action[kDown], Action::kNone) << "direction: upgoing";
  EXPECT_EQ(rules[5].max_match_bytes, 38u) << "the regex's own bound";
  EXPECT_EQ(rules[6].action[kUp], Action::kWarn);
  EXPECT_EQ(rules[6].action[kDown], Action::kRedact);
  auto g = MustCompile(rules);
  EXPECT_TRUE(g->Changes(Direction::kUpgoing));
  EXPECT_EQ(ScanText(*g, "token myapp_0123456789abcdef0123456789ABCDEF.", Direction::kDowngoing),
            std::vector<Found>{})
      << "upgoing only";
  EXPECT_EQ(ScanText(*g, "token myapp_0123456789abcdef0123456789ABCDEF.", Direction::kUpgoing),
            (std::vector<Found>{{"internal_token", "myapp_0123456789abcdef0123456789ABCDEF"}}));
}

TEST(GuardRulesTest, ConfigErrorsNameThePattern) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  cfg.upgoing = {{"api_keys", "shout"}};
  EXPECT_NE(RulesFromConfig(cfg).status().message().find("'api_keys'"), std::string_view::npos);
  cfg.upgoing = {{"nope", "warn"}};
  EXPECT_NE(RulesFromConfig(cfg).status().message().find("'nope'"), std::string_view::npos);
  cfg.upgoing.clear();
  cfg.custom_patterns = {{"t", "T-[0-9]{1,4}", "upgoing", 1}};
  cfg.custom_downgoing = {{"t", "block"}};
  EXPECT_NE(RulesFromConfig(cfg).status().message().find("custom pattern 't'"),
            std::string_view::npos);
  cfg.custom_downgoing.clear();
  cfg.custom_patterns = {{"t", "T-[0-9]+", "both", 1}};
  EXPECT_NE(RulesFromConfig(cfg).status().message().find("max_match_bytes"),
            std::string_view::npos);
}

TEST(GuardScanTest, OverlapsKeepTheEarlierThenTheLonger) {
  auto g = MustCompile({Custom("abc", "abc", Action::kWarn, Action::kWarn),
                        Custom("bcdef", "bcdef", Action::kWarn, Action::kWarn),
                        Custom("abcd", "abcd", Action::kWarn, Action::kWarn),
                        Custom("efg", "efg", Action::kWarn, Action::kWarn),
                        Custom("abcd2", "ab[c]d", Action::kWarn, Action::kWarn)});
  // abc, abcd and abcd2 begin at 1: the longer wins, then the lower index;
  // bcdef overlaps it; efg begins where abcd ended... at 5: "efg" is there.
  EXPECT_EQ(ScanText(*g, "xabcdefg", Direction::kUpgoing),
            (std::vector<Found>{{"abcd", "abcd"}, {"efg", "efg"}}));
  // bcdef begins first here.
  EXPECT_EQ(ScanText(*g, "bcdefg abc", Direction::kUpgoing),
            (std::vector<Found>{{"bcdef", "bcdef"}, {"abc", "abc"}}));
  EXPECT_EQ(ScanText(*g, "nothing here", Direction::kUpgoing), std::vector<Found>{});
}

TEST(GuardScanTest, SortedAcrossRulesAndOnlyTheDirection) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  auto g = MustCompile(MustRules(cfg));
  const std::string text =
      "mail bob@example.com from 10.0.0.1, key sk-abcdefghijklmnopqrstuvwxyz0123 and run "
      "rm -rf / please";
  EXPECT_EQ(ScanText(*g, text, Direction::kDowngoing),
            (std::vector<Found>{{"pii_emails", "bob@example.com"},
                                {"ip_addresses", "10.0.0.1"},
                                {"api_keys", "sk-abcdefghijklmnopqrstuvwxyz0123"},
                                {"suspicious_commands", "rm -rf / "}}));
  EXPECT_EQ(ScanText(*g, text, Direction::kUpgoing).size(), 3u) << "commands: downgoing only";
}

TEST(GuardScanTest, LongTextsAcrossSlices) {
  // Scan reads long texts in 1 KB slices: matches across slice edges, a
  // private key longer than a slice, and every match at its offset.
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  auto g = MustCompile(MustRules(cfg));
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\n" + std::string(1500, 'A') + "\n-----END PRIVATE KEY-----";
  for (size_t shift : {0, 1, 7, 20, 500}) {
    std::string text(1010 + shift, '.');
    std::vector<Found> want;
    auto add = [&](std::string_view rule, std::string_view match) {
      text += ' ';
      text += match;
      text += ' ';
      want.push_back({std::string(rule), std::string(match)});
    };
    add("pii_emails", "someone.long.name@sub.example.com");  // across 1024
    text.append(900, '.');
    add("private_keys", key);
    text.append(3000, '.');
    add("ip_addresses", "10.20.30.40");
    EXPECT_EQ(ScanText(*g, text, Direction::kDowngoing), want) << shift;
  }
}

TEST(GuardScanTest, AppendsToOut) {
  auto g = MustCompile({Custom("x", "x{2,3}", Action::kWarn, Action::kNone)});
  std::vector<Match> m = {{0, 7, 9}};
  g->Scan("axxxbxx", Direction::kUpgoing, &m);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].begin, 1u);
  EXPECT_EQ(m[1].end, 4u);
  EXPECT_EQ(m[2].begin, 5u);
  EXPECT_EQ(m[2].end, 7u);
  g->Scan("axxx", Direction::kDowngoing, &m);
  EXPECT_EQ(m.size(), 3u) << "no rule downgoing";
  EXPECT_FALSE(g->Applies(Direction::kDowngoing));
  EXPECT_EQ(g->max_match_bytes(Direction::kDowngoing), 0u);
}

TEST(GuardRedactTest, ReplacesOnlyRedactMatches) {
  auto g = MustCompile({Custom("r", "secret[0-9]{1,3}", Action::kRedact, Action::kWarn),
                        Custom("w", "note", Action::kWarn, Action::kWarn),
                        Custom("b", "forbidden", Action::kBlock, Action::kBlock)});
  const std::string text = "a secret12 note secret3 forbidden";
  std::vector<Match> m;
  g->Scan(text, Direction::kUpgoing, &m);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(g->Redact(text, m, Direction::kUpgoing), "a [REDACTED] note [REDACTED] forbidden");
  EXPECT_EQ(g->Redact(text, m, Direction::kDowngoing), text) << "warn downgoing";
  EXPECT_EQ(g->Strongest(m, Direction::kUpgoing), Action::kBlock);
  EXPECT_EQ(g->Strongest({}, Direction::kUpgoing), Action::kNone);
  m.pop_back();
  EXPECT_EQ(g->Strongest(m, Direction::kUpgoing), Action::kRedact);
  EXPECT_EQ(g->Strongest(m, Direction::kDowngoing), Action::kWarn);
}

TEST(GuardBlockMessageTest, DetailsAndLinkNeverTheText) {
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  cfg.upgoing = {{"api_keys", "block"}, {"private_keys", "block"}, {"pii_emails", "redact"}};
  const std::string key = "sk-abcdefghijklmnopqrstuvwxyz0123";
  const std::string text = "me@example.com " + key + " again " + key;
  std::vector<Match> m;
  auto detailed = MustCompile(MustRules(cfg), true, true);
  detailed->Scan(text, Direction::kUpgoing, &m);
  ASSERT_EQ(m.size(), 3u);
  std::string msg = detailed->BlockMessage(Direction::kUpgoing, m);
  EXPECT_EQ(msg,
            "guardrail blocked upgoing content: API key (api_keys). For more information, see "
            "https://github.com/bitrouter/bitrouter#guardrails");
  EXPECT_EQ(msg.find(key), std::string::npos);
  EXPECT_EQ(msg.find("example.com"), std::string::npos);
  auto plain = MustCompile(MustRules(cfg), false, false);
  EXPECT_EQ(plain->BlockMessage(Direction::kDowngoing, m), "guardrail blocked downgoing content");
  auto details_only = MustCompile(MustRules(cfg), true, false);
  EXPECT_EQ(details_only->BlockMessage(Direction::kUpgoing, {}),
            "guardrail blocked upgoing content");
}

TEST(GuardCompileTest, ErrorsNameTheRule) {
  auto error = [](Rule r) {
    auto g = Guard::Compile({std::move(r)}, true, false);
    return g.ok() ? std::string("(compiled)") : std::string(g.status().message());
  };
  EXPECT_EQ(error(Custom("bad", "a(b", Action::kWarn, Action::kNone)).find("guardrail rule 'bad'"),
            0u);
  EXPECT_NE(error(Custom("bad", "a(b", Action::kWarn, Action::kNone)).find("does not compile"),
            std::string::npos);
  EXPECT_NE(error(Custom("empty", "x?", Action::kWarn, Action::kNone)).find("empty string"),
            std::string::npos);
  EXPECT_NE(error(Custom("empty2", "\\b", Action::kWarn, Action::kNone)).find("empty string"),
            std::string::npos);
  EXPECT_NE(error(Custom("long", "a{1,65}", Action::kWarn, Action::kNone)).find("max_match_bytes"),
            std::string::npos);
  EXPECT_NE(error(Custom("star", "ab*", Action::kWarn, Action::kNone)).find("'star'"),
            std::string::npos);
  Rule zero = Custom("zero", "a", Action::kWarn, Action::kNone);
  zero.max_match_bytes = 0;
  EXPECT_NE(error(zero).find("1..65536"), std::string::npos);
  EXPECT_EQ(error(Custom("fine", "a{1,64}", Action::kWarn, Action::kNone)), "(compiled)");
}

TEST(GuardCompileTest, BuiltinsRebuiltFromASnapshotGetTheirExtras) {
  // The worker rebuilds rules from the snapshot: name, regex, builtin.
  config::GuardrailsConfig cfg;
  cfg.enabled = true;
  std::vector<Rule> wire;
  for (const Rule& r : MustRules(cfg)) {
    Rule w;
    w.name = r.name;
    w.regex = r.regex;
    w.builtin = r.builtin;
    w.description = r.description;
    w.max_match_bytes = r.max_match_bytes;
    w.action[kDown] = r.action[kDown];
    wire.push_back(std::move(w));
  }
  auto g = MustCompile(wire);
  EXPECT_EQ(g->rules()[1].literal_prefix, "-----BEGIN ");
  EXPECT_NE(g->rules()[1].extend, nullptr);
  EXPECT_NE(g->rules()[5].accept, nullptr);
  EXPECT_EQ(ScanText(*g, "v 1.2.3.4.5 and 10.0.0.1", Direction::kDowngoing),
            (std::vector<Found>{{"ip_addresses", "10.0.0.1"}}));
  // Not a built-in's regex: nothing is attached.
  wire[5].regex = "\\b[0-9]{1,3}(?:\\.[0-9]{1,3}){3}";
  wire[5].max_match_bytes = 15;
  auto changed = MustCompile(wire);
  EXPECT_EQ(changed->rules()[5].accept, nullptr);
}

TEST(GuardCompileTest, LiteralPrefixMustStartEveryMatch) {
  auto error = [](std::string regex, std::string prefix) {
    Rule r = Custom("p", std::move(regex), Action::kWarn, Action::kNone);
    r.literal_prefix = std::move(prefix);
    auto g = Guard::Compile({std::move(r)}, true, false);
    return g.ok() ? std::string("(compiled)") : std::string(g.status().message());
  };
  EXPECT_EQ(error("key-(a|b)[0-9]{1,4}", "key-"), "(compiled)");
  EXPECT_EQ(error("key-[|]x", "key-"), "(compiled)") << "a | in a class";
  const std::string why =
      "guardrail rule 'p': literal_prefix does not start every match of the regex";
  EXPECT_EQ(error("key-a|b", "key-"), why) << "top-level alternative";
  EXPECT_EQ(error("key?x", "key"), why) << "quantified last byte";
  EXPECT_EQ(error("k.y-x", "k.y-"), why) << "metacharacter";
  EXPECT_EQ(error("(?i)key-x", "key-"), why);
}

TEST(GuardCompileTest, Utf8NeverLatin1) {
  // "é" is two bytes in UTF-8; a Latin-1 regex would match one byte of it.
  auto g = MustCompile({Custom("e", "caf.", Action::kWarn, Action::kNone)});
  EXPECT_EQ(ScanText(*g, "un café noir", Direction::kUpgoing), (std::vector<Found>{{"e", "café"}}));
  EXPECT_STREQ(ActionName(Action::kRedact).data(), "redact");
  EXPECT_EQ(ActionName(Action::kNone), "none");
  EXPECT_EQ(DirectionName(Direction::kDowngoing), "downgoing");
}

}  // namespace
}  // namespace bitrouter::guardrails
