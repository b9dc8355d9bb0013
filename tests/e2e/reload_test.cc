// Reload through the real binaries: `bitrouterctl reload` and SIGHUP re-read
// the config, a bad config is rejected with file:line while the old one
// keeps serving, and runtime routes survive.
#include <signal.h>

#include <fstream>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

std::string ConfigServing(const FakeUpstream& up, const std::string& model_id) {
  return "inherit_defaults: false\nproviders:\n  up:\n    api_protocol: openai\n    api_base: " +
         up.base_url() + "\n    api_key: k\nmodels:\n  alias:\n    endpoints:\n      - provider: up\n"
         "        model_id: " + model_id + "\n";
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.Start());
    RouterProcess::Options o;
    o.config_yaml = ConfigServing(upstream_, "first");
    o.workers = 2;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }
  void TearDown() override {
    EXPECT_EQ(router_->Stop(), 0) << router_->Log();
    EXPECT_EQ(router_->Log().find("ERROR: AddressSanitizer"), std::string::npos) << router_->Log();
  }
  void WriteConfig(const std::string& yaml) { std::ofstream(router_->home() + "/bitrouter.yaml") << yaml; }
  std::string Served(const std::string& model) {
    HttpResponse r = Fetch(router_->port(), "POST", kChatPath,
                           R"({"model":")" + model + R"(","messages":[]})");
    return r.status == 200 ? JsonStringField(r.body, "model") : "HTTP " + std::to_string(r.status);
  }
  FakeUpstream upstream_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(ReloadTest, ReloadAppliesTheNewConfigBeforeReturningAndRuntimeRoutesSurvive) {
  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "add", "rt", "up:runtime-model"}, &out), 0) << out;
  EXPECT_EQ(Served("alias"), "first");
  WriteConfig(ConfigServing(upstream_, "second"));
  ASSERT_EQ(router_->Ctl({"reload"}, &out), 0) << out;
  EXPECT_NE(out.find("active on every worker"), std::string::npos) << out;
  // Every worker serves the new config as soon as reload returned (fresh
  // connections land on either worker).
  for (int i = 0; i < 8; ++i) EXPECT_EQ(Served("alias"), "second");
  EXPECT_EQ(Served("rt"), "runtime-model");
  ASSERT_EQ(router_->Ctl({"status", "--json"}, &out), 0);
  EXPECT_NE(out.find(R"("last_reload":")"), std::string::npos) << out;
  EXPECT_NE(out.find(" ok: snapshot v"), std::string::npos) << out;
}

TEST_F(ReloadTest, InvalidConfigIsRejectedAndTheOldOneKeepsServing) {
  WriteConfig(ConfigServing(upstream_, "second") + "  typo_here: 1\n");
  std::string out;
  EXPECT_EQ(router_->Ctl({"reload"}, &out), 1);
  EXPECT_NE(out.find("bitrouter.yaml:"), std::string::npos) << out;
  EXPECT_NE(out.find("typo_here"), std::string::npos) << out;
  EXPECT_EQ(Served("alias"), "first");
  ASSERT_EQ(router_->Ctl({"status"}, &out), 0);
  EXPECT_NE(out.find("rejected"), std::string::npos) << out;
}

TEST_F(ReloadTest, SighupReloadsToo) {
  WriteConfig(ConfigServing(upstream_, "via-sighup"));
  router_->Kill(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return Served("alias") == "via-sighup"; }, 5000));
  EXPECT_NE(router_->Log().find("SIGHUP"), std::string::npos);
}

}  // namespace
}  // namespace bitrouter::testing
