// Loader tests for the guardrails: section: the manual's section verbatim,
// defaults, and every validation error with its file:line.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml) { return ParseConfig(yaml, "cfg.yaml", {}); }

std::string Error(std::string_view yaml) {
  auto cfg = Parse(yaml);
  if (cfg.ok()) return "(loaded)";
  return std::string(cfg.status().message());
}

// The manual's section, verbatim (testdata, shared with the e2e test).
std::string ManualSection() {
  std::ifstream f(std::string(BR_TESTDATA_DIR) + "/guardrails_manual.yaml", std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

TEST(LoaderGuardrailsTest, ManualSectionVerbatim) {
  const std::string manual = ManualSection();
  ASSERT_FALSE(manual.empty()) << BR_TESTDATA_DIR "/guardrails_manual.yaml";
  auto cfg = Parse(manual);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const GuardrailsConfig& g = cfg->guardrails;
  EXPECT_TRUE(g.enabled);
  EXPECT_EQ(g.line, 1);
  EXPECT_EQ(g.disabled_patterns, (std::vector<std::string>{"ip_addresses", "pii_phone_numbers"}));
  ASSERT_EQ(g.custom_patterns.size(), 1u);
  EXPECT_EQ(g.custom_patterns[0].name, "internal_token");
  EXPECT_EQ(g.custom_patterns[0].regex, "myapp_[A-Za-z0-9]{32}");
  EXPECT_EQ(g.custom_patterns[0].direction, "upgoing");
  EXPECT_EQ(g.custom_patterns[0].line, 9);  // "- name: internal_token"
  EXPECT_EQ(g.upgoing,
            (std::map<std::string, std::string>{
                {"api_keys", "redact"}, {"private_keys", "block"}, {"credentials", "redact"}}));
  EXPECT_EQ(g.downgoing, (std::map<std::string, std::string>{{"suspicious_commands", "block"}}));
  EXPECT_EQ(g.custom_upgoing, (std::map<std::string, std::string>{{"internal_token", "block"}}));
  EXPECT_TRUE(g.custom_downgoing.empty());
  EXPECT_TRUE(g.include_details);
  EXPECT_TRUE(g.include_help_link);
  EXPECT_EQ(g.max_match_bytes, 256u);
  EXPECT_TRUE(g.tools_enabled);
  ASSERT_EQ(g.tool_providers.size(), 1u);
  const auto& p = g.tool_providers.at("github-mcp");
  EXPECT_TRUE(p.filter.allow.empty());
  EXPECT_EQ(p.filter.deny, (std::vector<std::string>{"delete_repo", "delete_branch"}));
  ASSERT_EQ(p.params.size(), 1u);
  EXPECT_EQ(p.params.at("create_issue").deny, std::vector<std::string>{"assignees"});
  EXPECT_EQ(p.params.at("create_issue").action, "strip");
  EXPECT_TRUE(cfg->warnings.empty());
}

TEST(LoaderGuardrailsTest, DefaultsAndEnabled) {
  auto absent = Parse("server:\n  workers: 1\n");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->guardrails.enabled) << "no section: off";
  auto bare = Parse("guardrails:\n");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_TRUE(bare->guardrails.enabled) << "a present section is on";
  auto section = Parse("guardrails:\n  max_match_bytes: 1024\n  block_message: {}\n");
  ASSERT_TRUE(section.ok()) << section.status();
  EXPECT_TRUE(section->guardrails.enabled);
  EXPECT_TRUE(section->guardrails.include_details);
  EXPECT_FALSE(section->guardrails.include_help_link);
  EXPECT_EQ(section->guardrails.max_match_bytes, 1024u);
  EXPECT_FALSE(section->guardrails.tools_enabled);
  auto off = Parse("guardrails:\n  enabled: false\n  tools: {}\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->guardrails.enabled);
  EXPECT_TRUE(off->guardrails.tools_enabled) << "a present tools section is on";
  auto both = Parse(R"(guardrails:
  custom_downgoing: {ticket: redact}
  custom_patterns:
    - {name: ticket, regex: "TICKET-[0-9]{1,8}"}
  tools:
    enabled: false
    providers:
      fs: {filter: {allow: ["read_*"]}}
)");
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->guardrails.custom_patterns[0].direction, "both");
  EXPECT_EQ(both->guardrails.custom_downgoing.at("ticket"), "redact") << "order in file is free";
  EXPECT_FALSE(both->guardrails.tools_enabled);
  EXPECT_EQ(both->guardrails.tool_providers.at("fs").filter.allow,
            std::vector<std::string>{"read_*"});
}

TEST(LoaderGuardrailsTest, UnknownKeysAndNames) {
  EXPECT_EQ(Error("guardrails:\n  enable: true\n"), "cfg.yaml:2: guardrails.enable: unknown key");
  EXPECT_EQ(Error("guardrails:\n  disabled_patterns: [api_keys, ssn]\n"),
            "cfg.yaml:2: guardrails.disabled_patterns[1]: unknown built-in pattern 'ssn'; expected "
            "one of api_keys, private_keys, credentials, pii_emails, pii_phone_numbers, "
            "ip_addresses, suspicious_commands");
  EXPECT_EQ(Error("guardrails:\n  upgoing:\n    api_key: redact\n"),
            "cfg.yaml:3: guardrails.upgoing.api_key: unknown built-in pattern; expected one of "
            "api_keys, private_keys, credentials, pii_emails, pii_phone_numbers, ip_addresses, "
            "suspicious_commands (custom patterns go under custom_upgoing)");
  EXPECT_EQ(Error("guardrails:\n  downgoing:\n    pii_emails: mask\n"),
            "cfg.yaml:3: guardrails.downgoing.pii_emails: expected warn, redact or block, got "
            "'mask'");
  EXPECT_EQ(Error("guardrails:\n  block_message:\n    details: true\n"),
            "cfg.yaml:3: guardrails.block_message.details: unknown key");
  EXPECT_EQ(Error("guardrails:\n  max_match_bytes: 8\n"),
            "cfg.yaml:2: guardrails.max_match_bytes: expected an integer 16..65536, got '8'");
  EXPECT_EQ(Error("guardrails:\n  tools:\n    providers:\n      x:\n        allow: [a]\n"),
            "cfg.yaml:5: guardrails.tools.providers.x.allow: unknown key");
  EXPECT_EQ(Error("guardrails: [1]\n"), "cfg.yaml:1: guardrails: expected a mapping");
}

TEST(LoaderGuardrailsTest, CustomPatternErrors) {
  auto custom = [](std::string_view item) {
    return Error("guardrails:\n  custom_patterns:\n    - name: a_1\n      regex: \"x{1,4}\"\n" +
                 std::string(item));
  };
  EXPECT_EQ(custom("    - name: a_1\n      regex: \"y{1,4}\"\n"),
            "cfg.yaml:5: guardrails.custom_patterns[1].name: custom pattern 'a_1' is defined "
            "twice");
  EXPECT_EQ(
      custom("    - name: api_keys\n      regex: \"y\"\n"),
      "cfg.yaml:5: guardrails.custom_patterns[1].name: 'api_keys' is a built-in pattern name");
  EXPECT_EQ(custom("    - name: Bad-Name\n      regex: \"y\"\n"),
            "cfg.yaml:5: guardrails.custom_patterns[1].name: expected a name of a-z, 0-9 and _");
  EXPECT_EQ(custom("    - name: b\n      regex: \"y\"\n      direction: sideways\n"),
            "cfg.yaml:7: guardrails.custom_patterns[1].direction: expected upgoing, downgoing or "
            "both, got 'sideways'");
  EXPECT_EQ(custom("    - name: b\n"), "cfg.yaml:5: guardrails.custom_patterns[1]: needs regex");
  EXPECT_EQ(custom("    - regex: b\n"), "cfg.yaml:5: guardrails.custom_patterns[1]: needs name");
  EXPECT_EQ(custom("    - name: b\n      regex: b\n      flags: i\n"),
            "cfg.yaml:7: guardrails.custom_patterns[1].flags: unknown key");
  // The regex itself: RE2 must compile it, it must not match "", and its
  // longest match must fit max_match_bytes.
  EXPECT_EQ(custom("    - name: broken\n      regex: \"a(b\"\n"),
            "cfg.yaml:6: guardrails.custom_patterns[1].regex: custom pattern 'broken': the regex "
            "does not compile: missing ): a(b");
  EXPECT_EQ(
      custom("    - name: empty\n      regex: \"a*\"\n"),
      "cfg.yaml:6: guardrails.custom_patterns[1].regex: custom pattern 'empty': the regex can "
      "match the empty string");
  EXPECT_EQ(
      custom("    - name: unbounded\n      regex: \"key=[a-z]+\"\n"),
      "cfg.yaml:6: guardrails.custom_patterns[1].regex: custom pattern 'unbounded': the regex "
      "can match unboundedly many bytes, over guardrails.max_match_bytes (256): bound every "
      "repetition, e.g. {1,64} instead of + or *");
  EXPECT_EQ(custom("    - name: long\n      regex: \"[a-z]{300}\"\n"),
            "cfg.yaml:6: guardrails.custom_patterns[1].regex: custom pattern 'long': the regex can "
            "match up to 300 bytes, over guardrails.max_match_bytes (256): bound every "
            "repetition, e.g. {1,64} instead of + or *");
  EXPECT_EQ(Error("guardrails:\n  custom_patterns:\n    - name: long\n      regex: \"[a-z]{300}\"\n"
                  "  max_match_bytes: 300\n"),
            "(loaded)")
      << "max_match_bytes is read first whatever its place";
}

TEST(LoaderGuardrailsTest, CustomActionErrors) {
  const std::string customs =
      "guardrails:\n  custom_patterns:\n    - {name: up, regex: \"U{2}\", direction: upgoing}\n";
  EXPECT_EQ(Error(customs + "  custom_downgoing:\n    up: block\n"),
            "cfg.yaml:5: guardrails.custom_downgoing.up: custom pattern 'up' has direction upgoing "
            "(line 3), so it never scans downgoing content");
  EXPECT_EQ(Error(customs + "  custom_upgoing:\n    nope: block\n"),
            "cfg.yaml:5: guardrails.custom_upgoing.nope: not a pattern of "
            "guardrails.custom_patterns");
  EXPECT_EQ(
      Error(customs + "  custom_upgoing:\n    up: strip\n"),
      "cfg.yaml:5: guardrails.custom_upgoing.up: expected warn, redact or block, got 'strip'");
  EXPECT_EQ(Error(customs + "  custom_upgoing:\n    up: block\n"), "(loaded)");
}

TEST(LoaderGuardrailsTest, ToolErrors) {
  EXPECT_EQ(
      Error(R"(guardrails:
  tools:
    providers:
      gh:
        filter:
          allow: [read_file]
          deny: [delete_repo]
)"),
      "cfg.yaml:7: guardrails.tools.providers.gh.filter: give either allow or deny, not both");
  EXPECT_EQ(Error(R"(guardrails:
  tools:
    providers:
      gh:
        param_restrictions:
          rules:
            create_issue: {deny: [assignees], action: drop}
)"),
            "cfg.yaml:7: guardrails.tools.providers.gh.param_restrictions.rules.create_issue."
            "action: expected strip or block, got 'drop'");
  EXPECT_EQ(Error("guardrails:\n  tools:\n    on: true\n"),
            "cfg.yaml:3: guardrails.tools.on: unknown key");
  EXPECT_EQ(Error("guardrails:\n  tools:\n    providers:\n      gh:\n        param_restrictions:\n"
                  "          create_issue: {}\n"),
            "cfg.yaml:6: guardrails.tools.providers.gh.param_restrictions.create_issue: unknown "
            "key");
}

}  // namespace
}  // namespace bitrouter::config
