// The daemon lifecycle through the real binaries: bitrouterctl start
// (daemonize, wait for /health, refuse a second one), restart, stop --force,
// and log reopening on SIGUSR1.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
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

pid_t DaemonPid(const RouterProcess& home) {
  return std::atoi(ReadAll(home.home() + "/run/bitrouterd.pid").c_str());
}

int Port(const RouterProcess& home) {
  std::string addr = ReadAll(home.home() + "/run/listen.addr");
  return std::atoi(addr.c_str() + addr.rfind(':') + 1);
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.Start());
    env_ = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream_.base_url()}};
  }
  void TearDown() override {
    // Never leave a daemon behind, whatever the test did.
    pid_t pid = DaemonPid(home_);
    if (pid > 0 && kill(pid, 0) == 0) {
      kill(pid, SIGTERM);
      WaitUntil([&] { return !ProcessAlive(pid); }, 10000);
    }
    std::string log = ReadAll(home_.home() + "/logs/bitrouterd.log");
    EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
    EXPECT_EQ(log.find(kTestKey), std::string::npos) << "secret in the log";
  }
  std::vector<std::string> Start() {
    return {"start", "--listen", "127.0.0.1:0", "--workers", "1"};
  }

  FakeUpstream upstream_;
  RouterProcess home_;  // never started itself: only its home is used
  std::map<std::string, std::string> env_;
};

TEST_F(DaemonTest, StartDaemonizesAnswersAndRefusesASecond) {
  std::string out;
  ASSERT_EQ(home_.Ctl(Start(), &out, env_), 0) << out;
  EXPECT_NE(out.find("bitrouterd started (pid"), std::string::npos) << out;
  pid_t pid = DaemonPid(home_);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessAlive(pid));
  EXPECT_EQ(
      Fetch(Port(home_), "POST", kChatPath, R"({"model":"openai:gpt-4o","messages":[]})").status,
      200);
  // Detached: its own session, not ctl's.
  EXPECT_EQ(getsid(pid), pid);
  EXPECT_EQ(home_.Ctl(Start(), &out, env_), 1);
  EXPECT_NE(out.find("already running"), std::string::npos) << out;
  // Logs go to <home>/logs/bitrouterd.log, workers included.
  std::string log = ReadAll(home_.home() + "/logs/bitrouterd.log");
  EXPECT_NE(log.find("listening on http://"), std::string::npos) << log;
  EXPECT_NE(log.find("worker[0]"), std::string::npos) << log;
  ASSERT_EQ(home_.Ctl({"stop"}, &out), 0) << out;
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pid); }, 5000));
}

TEST_F(DaemonTest, StartReportsWhyItFailed) {
  std::ofstream(home_.home() + "/bitrouter.yaml") << "server:\n  listen: [1, 2]\n";
  std::string out;
  EXPECT_EQ(home_.Ctl(Start(), &out, env_), 1);
  EXPECT_NE(out.find("exited during start"), std::string::npos) << out;
  EXPECT_NE(out.find("bitrouter.yaml:2"), std::string::npos) << out;
}

TEST_F(DaemonTest, RestartReplacesTheDaemonAndStopForceKillsAtOnce) {
  std::string out;
  ASSERT_EQ(home_.Ctl(Start(), &out, env_), 0) << out;
  pid_t first = DaemonPid(home_);
  ASSERT_EQ(home_.Ctl({"restart", "--listen", "127.0.0.1:0", "--workers", "1"}, &out, env_), 0)
      << out;
  pid_t second = DaemonPid(home_);
  EXPECT_NE(first, second);
  EXPECT_FALSE(ProcessAlive(first));
  EXPECT_EQ(Fetch(Port(home_), "GET", "/health").status, 200);
  // A hung stream would hold a graceful stop for the whole drain; --force does not wait.
  upstream_.SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kHang;
    return r;
  });
  int port = Port(home_);
  std::thread client([port] {
    Fetch(port, "POST", kChatPath, R"({"model":"openai:x","messages":[]})", {}, 15000);
  });
  ASSERT_TRUE(upstream_.WaitForRequests(1, 5000));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(home_.Ctl({"stop", "--force"}, &out), 0) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(second); }, 5000));
  upstream_.Stop();  // releases the hung handler
  client.join();
}

TEST_F(DaemonTest, Sigusr1ReopensTheLogAfterRotation) {
  std::string out;
  ASSERT_EQ(home_.Ctl(Start(), &out, env_), 0) << out;
  std::string log = home_.home() + "/logs/bitrouterd.log";
  ASSERT_EQ(std::rename(log.c_str(), (log + ".old").c_str()), 0);  // what logrotate does
  kill(DaemonPid(home_), SIGUSR1);
  ASSERT_TRUE(
      WaitUntil([&] { return ReadAll(log).find("log reopened") != std::string::npos; }, 5000));
  // A worker writes to the new file too: a request to an unknown provider logs nothing,
  // so use one that fails upstream (the worker logs a warning).
  upstream_.SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kResetBeforeResponse;
    return r;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the worker's async reopen
  Fetch(Port(home_), "POST", kChatPath, R"({"model":"openai:x","messages":[]})");
  EXPECT_TRUE(WaitUntil([&] { return ReadAll(log).find("worker[0]") != std::string::npos; }, 5000))
      << ReadAll(log);
  ASSERT_EQ(home_.Ctl({"stop"}, &out), 0) << out;
}

}  // namespace
}  // namespace bitrouter::testing
