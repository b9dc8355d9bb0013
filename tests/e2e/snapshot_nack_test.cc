// Snapshots every worker refuses (issue 10 item 4), through the real
// binaries. bitrouterd now refuses up front everything a worker would NACK,
// so these tests use the worker's test-only hook BITROUTER_TEST_NACK_VERSION
// (see worker/control_client.cc): every worker refuses that one version.
// Versions: 1 at start, +1 per reload or route change.
#include <signal.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string Config(const FakeUpstream& up, const std::string& model_id, int port = 0) {
  std::string server =
      port == 0 ? "" : "server:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  return server + "inherit_defaults: false\nproviders:\n  up:\n    api_protocol: openai\n" +
         "    api_base: " + up.base_url() +
         "\n    api_key: k\nmodels:\n  alias:\n    endpoints:\n      - provider: up\n"
         "        model_id: " +
         model_id + "\n";
}

class SnapshotNackTest : public ::testing::Test {
 protected:
  // Starts with every worker refusing snapshot `nack_version`.
  void Start(int workers, int nack_version, int port = 0) {
    ASSERT_TRUE(upstream_.Start());
    RouterProcess::Options o;
    o.config_yaml = Config(upstream_, "first", port);
    o.workers = workers;
    o.listen_flag = port == 0;
    o.env = {{"BITROUTER_TEST_NACK_VERSION", std::to_string(nack_version)}};
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }
  void TearDown() override {
    if (router_ == nullptr) return;
    EXPECT_EQ(router_->Stop(), 0) << router_->Log();
    EXPECT_EQ(router_->Log().find("ERROR: AddressSanitizer"), std::string::npos) << router_->Log();
  }
  void WriteConfig(const std::string& yaml) {
    std::ofstream(router_->home() + "/bitrouter.yaml") << yaml;
  }
  std::string Served(int port, const std::string& model = "alias") {
    HttpResponse r =
        Fetch(port, "POST", kChatPath, R"({"model":")" + model + R"(","messages":[]})", {}, 2000);
    return r.status == 200 ? JsonStringField(r.body, "model") : "HTTP " + std::to_string(r.status);
  }
  std::string StatusJson() {
    std::string out;
    router_->Ctl({"status", "--json"}, &out);
    return out;
  }

  FakeUpstream upstream_;
  std::unique_ptr<RouterProcess> router_;
};

// Before: the refused snapshot became current anyway, `reload` only warned,
// and the listener switched to the new address, retiring the old workers.
TEST_F(SnapshotNackTest, ReloadRefusedByEveryWorkerFailsAndTheOldListenerKeepsServing) {
  const int p1 = UnusedLoopbackPort(), p2 = UnusedLoopbackPort();
  Start(2, /*nack_version=*/2, p1);
  ASSERT_EQ(router_->port(), p1);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  std::vector<pid_t> workers = router_->WorkerPids();
  WriteConfig(Config(upstream_, "second", p2));
  std::string out;
  EXPECT_EQ(router_->Ctl({"reload"}, &out), 1) << out;
  EXPECT_NE(out.find("every worker rejected snapshot v2"), std::string::npos) << out;
  EXPECT_NE(out.find("BITROUTER_TEST_NACK_VERSION"), std::string::npos) << out;
  // Old config, old address, same workers; the new address was never served.
  EXPECT_EQ(Served(p1), "first");
  EXPECT_NE(Fetch(p2, "GET", "/health", {}, {}, 1000).status, 200);
  EXPECT_EQ(ReadAll(router_->home() + "/run/listen.addr"),
            "127.0.0.1:" + std::to_string(p1) + "\n");
  std::string status = StatusJson();
  EXPECT_NE(status.find(R"("snapshot_version":1,)"), std::string::npos) << status;
  EXPECT_NE(status.find("rejected: every worker refused snapshot v2"), std::string::npos) << status;
  for (pid_t w : workers) EXPECT_TRUE(ProcessAlive(w));
  EXPECT_EQ(router_->WorkerPids().size(), 2u);

  // The next reload (v3) is accepted and moves to the new address.
  ASSERT_EQ(router_->Ctl({"reload"}, &out), 0) << out;
  EXPECT_TRUE(WaitUntil([&] { return Served(p2) == "second"; }, 5000)) << router_->Log();
  EXPECT_TRUE(router_->WaitForWorkers(2, workers, 15000)) << "the old generation retires";
}

// Before: a restarted worker was offered only the refused snapshot, refused
// it, and never accepted a connection.
TEST_F(SnapshotNackTest, RestartedWorkerServesTheLastAcceptedSnapshot) {
  Start(1, /*nack_version=*/2);
  WriteConfig(Config(upstream_, "second"));
  std::string out;
  EXPECT_EQ(router_->Ctl({"reload"}, &out), 1) << out;
  EXPECT_EQ(Served(router_->port()), "first");
  std::vector<pid_t> before = router_->WorkerPids();
  ASSERT_EQ(before.size(), 1u);
  kill(before[0], SIGKILL);
  ASSERT_TRUE(router_->WaitForWorkers(1, before, 5000)) << router_->Log();
  EXPECT_TRUE(WaitUntil([&] { return Served(router_->port()) == "first"; }, 5000))
      << router_->Log();
  std::string status = StatusJson();
  EXPECT_NE(status.find(R"("state":"ready")"), std::string::npos) << status;
  EXPECT_NE(status.find(R"("acked_version":1)"), std::string::npos) << status;
  // The new worker was never offered the refused version: one refusal only,
  // by the first worker.
  EXPECT_EQ(Count(router_->Log(), "rejecting snapshot v2"), 1u) << router_->Log();
}

// Before: the route stayed in the registry and in every later snapshot.
TEST_F(SnapshotNackTest, RouteAddRefusedByEveryWorkerFailsAndIsNotKept) {
  Start(2, /*nack_version=*/2);
  std::string out;
  EXPECT_NE(router_->Ctl({"route", "add", "fast", "up:fast-model"}, &out), 0) << out;
  EXPECT_NE(out.find("every worker rejected snapshot v2 with route 'fast'"), std::string::npos)
      << out;
  ASSERT_EQ(router_->Ctl({"route", "list"}, &out), 0) << out;
  EXPECT_EQ(out.find("fast"), std::string::npos) << out;
  EXPECT_EQ(Served(router_->port(), "fast"), "HTTP 404");
  // Later changes go through.
  ASSERT_EQ(router_->Ctl({"route", "add", "fast", "up:fast-model"}, &out), 0) << out;
  EXPECT_EQ(Served(router_->port(), "fast"), "fast-model");
  ASSERT_EQ(router_->Ctl({"reload"}, &out), 0) << out;
}

}  // namespace
}  // namespace bitrouter::testing
