#include "shared/config/env.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace bitrouter::config {
namespace {

// ---------------------------------------------------------------------------
// ParseDotEnv

struct DotEnvGood {
  std::string name;
  std::string text;
  EnvMap want;
};

void PrintTo(const DotEnvGood& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class ParseDotEnvGoodTest : public testing::TestWithParam<DotEnvGood> {};

TEST_P(ParseDotEnvGoodTest, Parses) {
  const DotEnvGood& c = GetParam();
  auto env = ParseDotEnv(c.text, ".env");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(*env, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDotEnvGoodTest,
    testing::Values(
        DotEnvGood{"Empty", "", {}},
        DotEnvGood{"OnlyBlankAndComments", "\n\n# comment\n   # indented comment\n\t\n", {}},
        DotEnvGood{"Simple", "A=1\nB=two", {{"A", "1"}, {"B", "two"}}},
        DotEnvGood{"CrLf", "A=1\r\nB=2\r\n", {{"A", "1"}, {"B", "2"}}},
        DotEnvGood{"SpacesAroundEquals", "  KEY  =  value  \n", {{"KEY", "value"}}},
        DotEnvGood{"EmptyValue", "EMPTY=\n", {{"EMPTY", ""}}},
        DotEnvGood{"Export", "export OPENAI_API_KEY=sk-1\n", {{"OPENAI_API_KEY", "sk-1"}}},
        DotEnvGood{"ExportWithExtraSpaces", "export    X=1", {{"X", "1"}}},
        DotEnvGood{"NameStartingWithExport", "exported=1", {{"exported", "1"}}},
        DotEnvGood{"Underscores", "_A_1=x", {{"_A_1", "x"}}},
        DotEnvGood{"LaterWins", "A=1\nA=2\n", {{"A", "2"}}},
        DotEnvGood{
            "EqualsInValue", "URL=postgres://u@h/db?x=1", {{"URL", "postgres://u@h/db?x=1"}}},
        DotEnvGood{"InlineComment", "A=value # trailing comment", {{"A", "value"}}},
        DotEnvGood{"HashWithoutSpaceIsValue", "A=abc#def", {{"A", "abc#def"}}},
        DotEnvGood{"DoubleQuoted", "A=\"hello world\"", {{"A", "hello world"}}},
        DotEnvGood{"DoubleQuotedEscapes",
                   R"(A="line1\nline2\t\"q\" \\ \$")",
                   {{"A", "line1\nline2\t\"q\" \\ $"}}},
        DotEnvGood{"SingleQuotedIsLiteral",
                   R"(A='no \n escapes "here"')",
                   {{"A", R"(no \n escapes "here")"}}},
        DotEnvGood{"QuotedKeepsHashAndSpaces",
                   "A=\"  x # not a comment  \"",
                   {{"A", "  x # not a comment  "}}},
        DotEnvGood{"TextAfterClosingQuoteIgnored", "A=\"v\" # comment", {{"A", "v"}}},
        DotEnvGood{"EmptyQuoted", "A=\"\"\nB=''", {{"A", ""}, {"B", ""}}},
        DotEnvGood{"NoTrailingNewline", "A=1\n# c\nB=2", {{"A", "1"}, {"B", "2"}}},
        DotEnvGood{"Utf8Value", "A=h\xC3\xA9llo", {{"A", "h\xC3\xA9llo"}}}),
    [](const testing::TestParamInfo<DotEnvGood>& info) { return info.param.name; });

struct DotEnvBad {
  std::string name;
  std::string text;
  std::string want;  // exact message
};

void PrintTo(const DotEnvBad& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class ParseDotEnvBadTest : public testing::TestWithParam<DotEnvBad> {};

TEST_P(ParseDotEnvBadTest, ErrorNamesFileAndLine) {
  const DotEnvBad& c = GetParam();
  auto env = ParseDotEnv(c.text, "/home/u/.env");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(env.status().message()), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDotEnvBadTest,
    testing::Values(
        DotEnvBad{"NoEquals", "A=1\nJUSTAWORD\n", "/home/u/.env:2: expected KEY=VALUE"},
        DotEnvBad{"EmptyKey", "=value", "/home/u/.env:1: invalid variable name"},
        DotEnvBad{"DigitFirst", "# c\n\n1A=x", "/home/u/.env:3: invalid variable name"},
        DotEnvBad{"Dash", "MY-KEY=x", "/home/u/.env:1: invalid variable name"},
        DotEnvBad{"SpaceInKey", "MY KEY=x", "/home/u/.env:1: invalid variable name"},
        DotEnvBad{"Dot", "a.b=1", "/home/u/.env:1: invalid variable name"},
        DotEnvBad{"UnterminatedDouble", "A=1\nB=\"open\n",
                  "/home/u/.env:2: unterminated quoted value"},
        DotEnvBad{"UnterminatedSingle", "B='open", "/home/u/.env:1: unterminated quoted value"},
        DotEnvBad{"EscapedClosingQuote", "B=\"abc\\\"",
                  "/home/u/.env:1: unterminated quoted value"},
        DotEnvBad{"CrLfLineCount", "A=1\r\nB=2\r\nbad\r\n", "/home/u/.env:3: expected KEY=VALUE"}),
    [](const testing::TestParamInfo<DotEnvBad>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Substitute

struct SubstCase {
  std::string name;
  std::string text;
  std::string want;
};

void PrintTo(const SubstCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class SubstituteGoodTest : public testing::TestWithParam<SubstCase> {};

const EnvMap& TestEnv() {
  static const EnvMap env = {{"KEY", "sk-123"},  {"EMPTY", ""},        {"_U", "under"},
                             {"A1", "one"},      {"NESTED", "${KEY}"}, {"BRACE", "}"},
                             {"lower", "lowval"}};
  return env;
}

TEST_P(SubstituteGoodTest, Substitutes) {
  const SubstCase& c = GetParam();
  auto out = Substitute(c.text, TestEnv());
  ASSERT_TRUE(out.ok()) << c.text << ": " << out.status();
  EXPECT_EQ(*out, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SubstituteGoodTest,
    testing::Values(
        SubstCase{"NoPlaceholder", "plain text", "plain text"}, SubstCase{"Empty", "", ""},
        SubstCase{"Whole", "${KEY}", "sk-123"},
        SubstCase{"Embedded", "Bearer ${KEY}!", "Bearer sk-123!"},
        SubstCase{"Several", "${A1}-${_U}-${lower}", "one-under-lowval"},
        SubstCase{"Adjacent", "${A1}${A1}", "oneone"},
        SubstCase{"UnsetIsEmpty", "x${MISSING}y", "xy"},
        SubstCase{"DefaultWhenUnset", "${MISSING:-fallback}", "fallback"},
        SubstCase{"DefaultWhenEmpty", "${EMPTY:-fallback}", "fallback"},
        SubstCase{"DefaultIgnoredWhenSet", "${KEY:-fallback}", "sk-123"},
        SubstCase{"EmptyDefault", "${MISSING:-}", ""},
        SubstCase{"DefaultWithSpecials", "${MISSING:-http://h:80/v1}", "http://h:80/v1"},
        SubstCase{"ValuesAreNotResubstituted", "${NESTED}", "${KEY}"},
        SubstCase{"ValueWithBrace", "${BRACE}${A1}", "}one"},
        SubstCase{"DollarAlone", "cost $5", "cost $5"}, SubstCase{"DollarNoBrace", "$KEY", "$KEY"},
        SubstCase{"TrailingDollar", "abc$", "abc$"}, SubstCase{"LoneClosingBrace", "a}b", "a}b"},
        SubstCase{"DollarDollar", "$${KEY}", "$sk-123"}),
    [](const testing::TestParamInfo<SubstCase>& info) { return info.param.name; });

class SubstituteBadTest : public testing::TestWithParam<SubstCase> {};

TEST_P(SubstituteBadTest, Rejects) {
  const SubstCase& c = GetParam();
  auto out = Substitute(c.text, TestEnv());
  ASSERT_FALSE(out.ok()) << c.text << " -> " << *out;
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find(c.want), absl::string_view::npos) << out.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, SubstituteBadTest,
    testing::Values(SubstCase{"Unterminated", "${KEY", "missing '}'"},
                    SubstCase{"UnterminatedAfterGood", "${KEY} ${A1", "missing '}'"},
                    SubstCase{"Empty", "${}", "invalid placeholder '${}'"},
                    SubstCase{"DigitFirst", "${1A}", "invalid placeholder '${1A}'"},
                    SubstCase{"Dash", "${MY-KEY}", "invalid placeholder"},
                    SubstCase{"ShellDashDefault", "${KEY-x}", "invalid placeholder"},
                    SubstCase{"Space", "${ KEY }", "invalid placeholder"},
                    SubstCase{"EmptyNameWithDefault", "${:-x}", "invalid placeholder"},
                    SubstCase{"ColonOnly", "${KEY:x}", "invalid placeholder"}),
    [](const testing::TestParamInfo<SubstCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// LoadEnvironment / ProcessEnvironment

class ScopedEnvVar {
 public:
  ScopedEnvVar(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old, had_ = true;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnvVar() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

class LoadEnvironmentTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br-env-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(LoadEnvironmentTest, MissingFileIsProcessEnvironment) {
  ScopedEnvVar v("BR_TEST_ONLY_IN_PROCESS", "p");
  auto env = LoadEnvironment(dir_ + "/does-not-exist");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->at("BR_TEST_ONLY_IN_PROCESS"), "p");
  EXPECT_EQ(*env, ProcessEnvironment());
}

TEST_F(LoadEnvironmentTest, ProcessEnvironmentWins) {
  ScopedEnvVar a("BR_TEST_BOTH", "from-process");
  ScopedEnvVar b("BR_TEST_FILE_ONLY", nullptr);
  std::string path = Write(".env", "BR_TEST_BOTH=from-file\nBR_TEST_FILE_ONLY=file\n");
  auto env = LoadEnvironment(path);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->at("BR_TEST_BOTH"), "from-process");
  EXPECT_EQ(env->at("BR_TEST_FILE_ONLY"), "file");
}

TEST_F(LoadEnvironmentTest, ParseErrorNamesThePath) {
  std::string path = Write(".env", "GOOD=1\nBAD LINE\n");
  auto env = LoadEnvironment(path);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(std::string(env.status().message()), path + ":2: expected KEY=VALUE");
}

TEST_F(LoadEnvironmentTest, UnreadablePathIsAnError) {
  // A path under a regular file fails with ENOTDIR (even for root): an error,
  // not "no .env".
  std::string file = Write("plain", "x");
  auto env = LoadEnvironment(file + "/.env");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(env.status().message().find(file + "/.env"), absl::string_view::npos);
}

TEST(ProcessEnvironmentTest, SeesSetenvAndUnsetenv) {
  {
    ScopedEnvVar v("BR_TEST_PROC", "x=y");
    EXPECT_EQ(ProcessEnvironment().at("BR_TEST_PROC"), "x=y");
  }
  EXPECT_EQ(ProcessEnvironment().count("BR_TEST_PROC"), 0u);
}

}  // namespace
}  // namespace bitrouter::config
