// Configuration tools through the real binaries: bitrouterctl init and
// config validate, and bitrouterd refusing a bad config with file:line.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

constexpr char kDangling[] = R"(providers:
  mine:
    api_protocol: openai
    api_base: http://127.0.0.1:9/v1
    api_key: k
models:
  smart:
    endpoints:
      - provider: mine
        model_id: a
      - provider: ghost
        model_id: b
)";

TEST(ConfigToolsTest, InitWritesAStarterThatValidatesWithoutSecrets) {
  RouterProcess home;  // only its home is used; bitrouterctl runs without a daemon
  std::string out;
  // bitrouterctl runs with an environment that has no keys: write a .env.
  std::ofstream(home.home() + "/.env") << "OPENAI_API_KEY=sk-from-dotenv-123\n";
  ASSERT_EQ(home.Ctl({"init"}, &out), 0) << out;
  std::string yaml = ReadAll(home.home() + "/bitrouter.yaml");
  EXPECT_NE(yaml.find("127.0.0.1:4356"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("${OPENAI_API_KEY}"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("sk-from-dotenv-123"), std::string::npos) << "init must not write keys";
  EXPECT_EQ(home.Ctl({"init"}, &out), 1) << "never overwrites silently";
  EXPECT_NE(out.find("already exists"), std::string::npos);
  ASSERT_EQ(home.Ctl({"config", "validate"}, &out), 0) << out;
  EXPECT_NE(out.find("openai:"), std::string::npos) << out;
  EXPECT_NE(out.find("redacted"), std::string::npos) << out;
  EXPECT_EQ(out.find("sk-from-dotenv-123"), std::string::npos) << "validate must redact keys";
}

TEST(ConfigToolsTest, ValidateReportsFileLineAndField) {
  RouterProcess home;
  std::string path = home.home() + "/other.yaml";
  std::ofstream(path) << kDangling;
  std::string out;
  EXPECT_EQ(home.Ctl({"config", "validate", path}, &out), 1);
  EXPECT_NE(out.find("other.yaml:11:"), std::string::npos) << out;
  EXPECT_NE(out.find("models.smart.endpoints[1].provider"), std::string::npos) << out;
  EXPECT_NE(out.find("ghost"), std::string::npos) << out;
}

TEST(ConfigToolsTest, ControlSocketFromTheConfigIsUsedByBothSides) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.Start());
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream.base_url()}};
  o.config_yaml = "server:\n  control:\n    socket: custom.sock\n";
  RouterProcess router(o);
  std::string error;
  ASSERT_TRUE(router.Start(&error)) << error;
  struct stat st;
  EXPECT_EQ(stat((router.home() + "/run/custom.sock").c_str(), &st), 0);
  EXPECT_NE(stat((router.home() + "/run/control.sock").c_str(), &st), 0);
  std::string out;
  EXPECT_EQ(router.Ctl({"status"}, &out), 0) << out;
  EXPECT_EQ(router.Stop(), 0);
}

TEST(ConfigToolsTest, BitrouterdRefusesADanglingReference) {
  RouterProcess::Options o;
  o.config_yaml = kDangling;
  RouterProcess router(o);
  EXPECT_EQ(router.RunToExit(), 2);
  EXPECT_NE(router.Log().find("bitrouter.yaml:11:"), std::string::npos) << router.Log();
}

}  // namespace
}  // namespace bitrouter::testing
