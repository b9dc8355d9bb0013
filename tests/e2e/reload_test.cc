// Reload through the real binaries: `bitrouterctl reload` and SIGHUP re-read
// the config, a bad config is rejected with file:line while the old one
// keeps serving, and runtime routes survive.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

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

TEST(ReloadPoolTest, ServerWorkersGrowsAndShrinksThePoolOnReload) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.Start());
  auto config = [&](int workers) {
    return "server:\n  workers: " + std::to_string(workers) + "\n" + ConfigServing(upstream, "m");
  };
  RouterProcess::Options o;
  o.workers = 0;  // the config decides
  o.config_yaml = config(1);
  RouterProcess router(o);
  std::string error, out;
  ASSERT_TRUE(router.Start(&error)) << error;
  ASSERT_TRUE(router.WaitForWorkers(1, {}, 5000));
  std::vector<pid_t> first = router.WorkerPids();
  std::ofstream(router.home() + "/bitrouter.yaml") << config(3);
  ASSERT_EQ(router.Ctl({"reload"}, &out), 0) << out;
  EXPECT_TRUE(router.WaitForWorkers(3, {}, 5000)) << router.Log();
  EXPECT_TRUE(ProcessAlive(first[0])) << "growing does not restart existing workers";
  ASSERT_TRUE(WaitUntil([&] {
    router.Ctl({"status", "--json"}, &out);
    return out.find(R"("state":"starting")") == std::string::npos &&
           out.find(R"("state":"connected")") == std::string::npos;
  }, 5000)) << out;
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Fetch(router.port(), "POST", kChatPath, R"({"model":"alias","messages":[]})").status, 200);
  }
  std::ofstream(router.home() + "/bitrouter.yaml") << config(1);
  ASSERT_EQ(router.Ctl({"reload"}, &out), 0) << out;
  EXPECT_TRUE(router.WaitForWorkers(1, {}, 5000)) << router.Log();
  EXPECT_TRUE(ProcessAlive(first[0]));
  EXPECT_NE(router.Log().find("retired"), std::string::npos) << router.Log();
  ASSERT_EQ(router.Ctl({"status", "--json"}, &out), 0);
  EXPECT_EQ(out.find(R"("id":2)"), std::string::npos) << "retired workers leave status: " << out;
  EXPECT_EQ(Fetch(router.port(), "POST", kChatPath, R"({"model":"alias","messages":[]})").status, 200);
  EXPECT_EQ(router.Stop(), 0);
}

// Bounded load (4 keep-alive connections, at most 8 s and 40k requests)
// while reloads alternate between two valid configs, then one invalid
// config mid-load: zero failed requests, and every answer comes from one of
// the two configs.
TEST_F(ReloadTest, ReloadsUnderLoadFailNoRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, foreign{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      HttpClient client;
      if (!client.Connect(router_->port())) {
        ++failed;
        return;
      }
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
      for (int i = 0; i < 10000 && !stop && std::chrono::steady_clock::now() < until; ++i) {
        if (!client.SendRaw(BuildRequest("POST", kChatPath, R"({"model":"alias","messages":[]})"))) {
          ++failed;
          return;
        }
        HttpResponse r = client.ReadResponse(5000);
        if (r.status != 200 || !r.complete) {
          ++failed;
          return;
        }
        std::string m = JsonStringField(r.body, "model");
        if (m != "first" && m != "second") ++foreign;
        ++ok;
      }
    });
  }
  std::string out;
  int reloads_ok = 0;
  for (int i = 0; i < 20; ++i) {
    WriteConfig(ConfigServing(upstream_, i % 2 == 0 ? "second" : "first"));
    if (router_->Ctl({"reload"}, &out) == 0) ++reloads_ok;
  }
  WriteConfig("server:\n  wrokers: 3\n");
  EXPECT_EQ(router_->Ctl({"reload"}, &out), 1) << out;
  EXPECT_NE(out.find("bitrouter.yaml:2: server.wrokers: unknown key"), std::string::npos) << out;
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(reloads_ok, 20);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(foreign.load(), 0);
  EXPECT_GT(ok.load(), 100);
  EXPECT_EQ(Served("alias"), "first") << "the last good config keeps serving";
}

}  // namespace
}  // namespace bitrouter::testing
