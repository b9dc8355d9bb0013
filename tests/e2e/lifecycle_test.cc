// Process lifecycle through the real binaries: crashed workers are replaced,
// stop drains in-flight streams, the control plane going away takes the
// workers with it, status reports the truth, and bad config never starts.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kJsonBody[] = R"({"model":"openai:gpt-4o","messages":[]})";

using LifecycleTest = RouterTest;

Reply SlowStream(int chunks, int delay_ms) {
  Reply r;
  r.content_type = "text/event-stream";
  r.chunked = true;
  std::vector<std::string> pieces(chunks, "x");
  r.chunks = ChatCompletionSseChunks("gpt-4o", pieces);
  r.delay_between_chunks_ms = delay_ms;
  return r;
}

TEST_F(LifecycleTest, KilledWorkerIsReplacedAndServiceContinues) {
  StartAll("", 2);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  std::vector<pid_t> before = router_->WorkerPids();
  kill(before[0], SIGKILL);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto now = router_->WorkerPids();
        return now.size() == 2 && std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      5000))
      << router_->Log();
  // Every request after the replacement succeeds (fresh connections spread
  // over both workers, the new one included).
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = Fetch(router_->port(), "POST", kChatPath, kJsonBody);
    ASSERT_EQ(r.status, 200) << i << " " << r.error;
  }
  EXPECT_NE(router_->Log().find("killed by signal 9"), std::string::npos) << router_->Log();
  std::string status;
  ASSERT_EQ(router_->Ctl({"status", "--json"}, &status), 0) << status;
  EXPECT_NE(status.find(R"("restarts":1)"), std::string::npos) << status;
}

// Bounded load over fresh connections (4 threads, at most 6 s / 4k requests)
// while one of two workers is SIGKILLed: it is replaced, and the only
// requests that fail are ones the killed worker was holding.
TEST_F(LifecycleTest, SigkillUnderLoadLosesOnlyThatWorkersRequests) {
  StartAll("", 2);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r = DefaultReply(RecordedRequest{});
    r.delay_before_headers_ms = 20;  // keep some requests in flight at all times
    return r;
  });
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
      for (int i = 0; i < 1000 && !stop && std::chrono::steady_clock::now() < until; ++i) {
        HttpResponse r = Fetch(router_->port(), "POST", kChatPath, kJsonBody, {}, 5000);
        (r.status == 200 ? ok : failed)++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::vector<pid_t> before = router_->WorkerPids();
  kill(before[0], SIGKILL);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto now = router_->WorkerPids();
        return now.size() == 2 && std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      5000));
  // Let the clients of the killed worker see their resets, then count.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int failed_at_kill = failed.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop = true;
  for (auto& t : load) t.join();
  // At most the 4 requests in flight can have been on the killed worker;
  // nothing fails after the replacement.
  EXPECT_LE(failed.load(), 4);
  EXPECT_EQ(failed.load(), failed_at_kill);
  EXPECT_GT(ok.load(), 50);
}

TEST_F(LifecycleTest, StopLetsAnInFlightStreamFinish) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) { return SlowStream(8, 100); });
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  ASSERT_TRUE(client.SendRaw(
      BuildRequest("POST", kChatPath, R"({"model":"openai:gpt-4o","stream":true,"messages":[]})")));
  auto response = std::async(std::launch::async, [&] { return client.ReadResponse(15000); });
  ASSERT_TRUE(upstream_->WaitForRequests(1, 5000));
  std::string out;
  auto stopper = std::async(std::launch::async, [&] { return router_->Ctl({"stop"}, &out); });
  HttpResponse r = response.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete) << "the stream was cut by stop: " << r.error;
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(stopper.get(), 0) << out;
  int code = -1;
  ASSERT_TRUE(router_->Exited(10000, &code));
  EXPECT_EQ(code, 0) << router_->Log();
  // New connections are refused once stopped.
  EXPECT_NE(Fetch(router_->port(), "GET", "/health", {}, {}, 1000).status, 200);
}

TEST_F(LifecycleTest, SigtermDrainsAndExitsZero) {
  StartAll("", 2);
  upstream_->SetHandler([](const RecordedRequest&) { return SlowStream(4, 100); });
  auto response = std::async(std::launch::async, [&] {
    return Fetch(router_->port(), "POST", kChatPath,
                 R"({"model":"openai:gpt-4o","stream":true,"messages":[]})", {}, 15000);
  });
  ASSERT_TRUE(upstream_->WaitForRequests(1, 5000));
  std::vector<pid_t> workers = router_->WorkerPids();
  EXPECT_EQ(router_->Stop(), 0);
  HttpResponse r = response.get();
  EXPECT_TRUE(r.complete);
  for (pid_t w : workers) EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(w); }, 5000));
  // The run files are gone.
  struct stat st;
  EXPECT_NE(stat((router_->home() + "/run/control.sock").c_str(), &st), 0);
  EXPECT_NE(stat((router_->home() + "/run/bitrouterd.pid").c_str(), &st), 0);
}

TEST_F(LifecycleTest, WorkersExitWhenTheControlPlaneIsKilled) {
  StartAll("", 2);
  std::vector<pid_t> workers = router_->WorkerPids();
  ASSERT_EQ(workers.size(), 2u);
  router_->Kill(SIGKILL);
  ASSERT_TRUE(router_->Exited(5000));
  for (pid_t w : workers) {
    EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(w); }, 10000)) << "orphan worker " << w;
  }
  // A new bitrouterd in the same home cleans the stale files and starts.
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream_->base_url()}};
  o.home = router_->home();
  std::string error;
  RouterProcess again(o);
  ASSERT_TRUE(again.Start(&error)) << error;
  EXPECT_EQ(Fetch(again.port(), "POST", kChatPath, kJsonBody).status, 200);
  EXPECT_EQ(again.Stop(), 0);
  router_.reset();  // already dead; nothing to stop
}

TEST_F(LifecycleTest, StatusReportsProvidersWorkersAndSnapshot) {
  StartAll("", 2);
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string s;
        router_->Ctl({"status", "--json"}, &s);
        return s.find(R"("state":"ready")") != std::string::npos &&
               s.find(R"("state":"connected")") == std::string::npos &&
               s.find(R"("state":"starting")") == std::string::npos;
      },
      5000));
  std::string json;
  ASSERT_EQ(router_->Ctl({"status", "--json"}, &json), 0) << json;
  EXPECT_NE(json.find(R"("running":true)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("listen":"127.0.0.1:)" + std::to_string(router_->port()) + "\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("home":")" + router_->home() + "\""), std::string::npos) << json;
  EXPECT_NE(json.find(R"("name":"openai","active":true,"reason":"key from OPENAI_API_KEY")"),
            std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("name":"anthropic","active":false,"reason":"no API key: set ANTHROPIC_API_KEY")"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("acked_version":1)"), std::string::npos) << json;
  EXPECT_EQ(json.find(kTestKey), std::string::npos) << "status must not print secrets";
  std::string human;
  ASSERT_EQ(router_->Ctl({"status"}, &human), 0);
  EXPECT_NE(human.find("bitrouterd"), std::string::npos);
  EXPECT_NE(human.find("openai      active"), std::string::npos) << human;
  // The control socket is owner-only.
  struct stat st;
  ASSERT_EQ(stat((router_->home() + "/run/control.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST(LifecycleStandaloneTest, CtlWithoutDaemonSaysHowToStartIt) {
  RouterProcess idle;  // never started: only its home exists
  std::string out;
  EXPECT_EQ(idle.Ctl({"status"}, &out), 3);
  EXPECT_NE(out.find("not running"), std::string::npos) << out;
  EXPECT_EQ(idle.Ctl({"status", "--json"}, &out), 3);
  EXPECT_NE(out.find(R"("running":false)"), std::string::npos) << out;
}

TEST(LifecycleStandaloneTest, InvalidConfigRefusesToStartWithFileAndLine) {
  RouterProcess::Options o;
  o.config_yaml = "server:\n  listen: 127.0.0.1:0\n  wrokers: 2\n";
  RouterProcess router(o);
  EXPECT_EQ(router.RunToExit(), 2);
  std::string log = router.Log();
  EXPECT_NE(log.find("bitrouter.yaml:3: server.wrokers: unknown key"), std::string::npos) << log;
}

TEST(LifecycleStandaloneTest, SecondDaemonInTheSameHomeIsRefused) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.Start());
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream.base_url()}};
  RouterProcess first(o);
  std::string error;
  ASSERT_TRUE(first.Start(&error)) << error;
  RouterProcess::Options o2 = o;
  o2.home = first.home();
  RouterProcess second(o2);
  EXPECT_EQ(second.RunToExit(), 1);
  EXPECT_NE(second.Log().find("already running"), std::string::npos) << second.Log();
  EXPECT_EQ(Fetch(first.port(), "GET", "/health").status, 200);
  EXPECT_EQ(first.Stop(), 0);
}

}  // namespace
}  // namespace bitrouter::testing
