// Circuit breakers are one per node, not one per worker: two real workers
// share the node region bitrouterd creates. While the primary is down the
// whole node sends it one probe per cool-down; once a probe succeeds every
// worker uses it again; a worker killed while holding the probe does not
// block probing.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kSmart[] = R"({"model":"smart","messages":[{"role":"user","content":"hi"}]})";
constexpr int kCooldownMs = 1000;

Reply Status500() {
  Reply r;
  r.status = 500;
  r.body = R"({"error":{"message":"down","type":"x"}})";
  return r;
}

// "br-<hex>-<worker>-<n>" -> "<worker>".
std::string WorkerOf(const std::string& request_id) {
  size_t a = request_id.find('-', 3);  // after "br-<hex>"
  size_t b = a == std::string::npos ? a : request_id.find('-', a + 1);
  return b == std::string::npos ? "?" : request_id.substr(a + 1, b - a - 1);
}

class SharedHealthTest : public ::testing::Test {
 protected:
  void Start(const std::string& extra_yaml = "") {
    ASSERT_TRUE(primary_.Start());
    ASSERT_TRUE(backup_.Start());
    RouterProcess::Options o;
    o.workers = 2;
    o.config_yaml =
        "inherit_defaults: false\n"
        "providers:\n"
        "  primary:\n    api_protocol: openai\n    api_base: " +
        primary_.base_url() +
        "\n    api_key: key-primary\n"
        "  backup:\n    api_protocol: openai\n    api_base: " +
        backup_.base_url() +
        "\n    api_key: key-backup\n"
        "models:\n  smart:\n    strategy: priority\n"
        "    endpoints:\n      - provider: primary\n        model_id: m-primary\n"
        "      - provider: backup\n        model_id: m-backup\n"
        "upstream:\n  circuit_breaker: {failures: 2, cooldown: 1s}\n" +
        extra_yaml;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
    ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  }
  void TearDown() override {
    if (router_ != nullptr) {
      EXPECT_EQ(router_->Stop(), 0) << router_->Log();
      std::string log = router_->Log();
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
      EXPECT_EQ(log.find("node region"), std::string::npos) << "region unusable:\n" << log;
    }
  }
  HttpResponse Post(int timeout_ms = 15000) {
    return Fetch(router_->port(), "POST", kChatPath, kSmart, {}, timeout_ms);
  }
  static std::string ServedModel(const HttpResponse& r) { return JsonStringField(r.body, "model"); }

  // Fails the primary until the node's breaker is open: after `failures` (2)
  // primary failures in all, a request goes to the backup alone.
  void OpenBreaker() {
    primary_.SetHandler([](const RecordedRequest&) { return Status500(); });
    for (int i = 0; i < 10 && primary_.request_count() < 2; ++i) {
      ASSERT_EQ(ServedModel(Post()), "m-backup");
    }
    ASSERT_EQ(primary_.request_count(), 2u);
  }

  // `threads` clients post back to back until `stop` says so; returns the
  // workers that answered and counts non-200s.
  std::set<std::string> Load(int threads, const std::function<bool()>& stop,
                             std::atomic<int>* bad) {
    std::mutex mu;
    std::set<std::string> workers;
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&] {
        while (!stop()) {
          HttpResponse r = Post();
          if (r.status != 200) ++*bad;
          std::lock_guard<std::mutex> lock(mu);
          workers.insert(WorkerOf(r.Header("x-bitrouter-request-id")));
        }
      });
    }
    for (auto& t : pool) t.join();
    return workers;
  }

  FakeUpstream primary_, backup_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(SharedHealthTest, DownPrimarySeesOneProbePerCooldownFromTheWholeNode) {
  Start();
  OpenBreaker();
  size_t before = primary_.request_count();
  auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
  };
  std::atomic<int> bad{0};
  std::set<std::string> workers = Load(
      4, [&] { return elapsed_ms() >= 3500; }, &bad);
  int64_t took = elapsed_ms();
  size_t probes = primary_.request_count() - before;
  RecordProperty("probes", static_cast<int>(probes));
  RecordProperty("window_ms", static_cast<int>(took));
  std::printf("node probes to the down primary: %zu in %lld ms\n", probes,
              static_cast<long long>(took));
  EXPECT_EQ(bad.load(), 0) << "every request is served by the backup";
  EXPECT_EQ(workers.size(), 2u) << "both workers served the load";
  // Each probe fails and reopens the breaker for a full cool-down, so the
  // node probes at most once per cool-down (+1 for the window's edges).
  // Per-worker breakers would send about twice this many.
  EXPECT_LE(probes, static_cast<size_t>(took / kCooldownMs + 1)) << "over " << took << " ms";
  EXPECT_GE(probes, 1u) << "the breaker half-opens after its cool-down";
}

TEST_F(SharedHealthTest, RecoveredPrimaryIsUsedByEveryWorkerAfterOneProbe) {
  Start();
  OpenBreaker();
  primary_.SetHandler(nullptr);  // recovers
  // The first probe after the cool-down succeeds (bounded wait, no sleep).
  int backup_answers = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string model = ServedModel(Post());
        backup_answers += model == "m-backup";
        return model == "m-primary";
      },
      5 * kCooldownMs));
  EXPECT_GT(backup_answers, 0) << "the breaker was open";
  ASSERT_EQ(primary_.request_count(), 3u) << "exactly one probe brought it back";
  // From now on every request, on either worker, goes to the primary: the
  // probe's success closed the one breaker they share.
  // Which worker accepts a connection is the kernel's choice: ask until both
  // have answered (at least 16 requests, at most 200).
  std::set<std::string> workers;
  size_t sent = 0;
  while (sent < 200 && (sent < 16 || workers.size() < 2)) {
    HttpResponse r = Post();
    EXPECT_EQ(ServedModel(r), "m-primary") << sent;
    workers.insert(WorkerOf(r.Header("x-bitrouter-request-id")));
    ++sent;
  }
  EXPECT_EQ(workers.size(), 2u) << "both workers were asked";
  EXPECT_EQ(primary_.request_count(), 3u + sent);
}

TEST_F(SharedHealthTest, AWorkerKilledHoldingTheProbeDoesNotBlockProbing) {
  // A probe would hold its slot for up to connect + first_byte (the lease).
  Start("  timeouts: {first_byte: 60s}\n");
  OpenBreaker();
  primary_.SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kHang;
    return r;
  });
  // Past the cool-down, some request becomes the probe and hangs there.
  std::atomic<bool> got_probe{false};
  std::thread client([&] {
    while (!got_probe.load()) {
      HttpResponse r = Post(20000);
      if (r.status == 0) return;  // its worker was killed under it
    }
  });
  ASSERT_TRUE(primary_.WaitForRequests(3, 5 * kCooldownMs));
  got_probe = true;
  std::vector<pid_t> killed = router_->WorkerPids();
  ASSERT_EQ(killed.size(), 2u);
  for (pid_t pid : killed) kill(pid, SIGKILL);  // whichever held the probe dies holding it
  client.join();
  ASSERT_TRUE(router_->WaitForWorkers(2, killed, 10000)) << router_->Log();
  primary_.SetHandler(nullptr);
  // The new workers probe again right after the cool-down, long before the
  // dead worker's 61 s lease: bitrouterd released its probe when it reaped it.
  ASSERT_TRUE(WaitUntil(
      [&] {
        HttpResponse r = Post();
        return ServedModel(r) == "m-primary";
      },
      10 * kCooldownMs))
      << router_->Log();
  EXPECT_EQ(primary_.request_count(), 4u);
}

}  // namespace
}  // namespace bitrouter::testing
