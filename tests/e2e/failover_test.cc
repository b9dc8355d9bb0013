// Routing and failover through the real binaries, against two fake upstreams
// that fail on command: which failures move on, which are relayed, Retry-After,
// the circuit breaker, load balancing, key pools, streams cut before and after
// the first byte, and aggregate errors when everything fails.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kSmart[] = R"({"model":"smart","messages":[{"role":"user","content":"hi"}]})";
constexpr char kSmartStream[] =
    R"({"model":"smart","stream":true,"messages":[{"role":"user","content":"hi"}]})";

Reply Status(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
  Reply r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = R"({"error":{"message":"upstream says no","type":"x"}})";
  return r;
}

Reply Kind(Reply::Kind kind) {
  Reply r;
  r.kind = kind;
  r.body = std::string(2000, 'x');
  return r;
}

class FailoverTest : public ::testing::Test {
 protected:
  // Two upstreams behind providers `primary` and `backup`; `smart` tries them in order.
  void Start(const std::string& extra_yaml = "", const std::string& strategy = "priority",
             const std::string& primary_extra = "") {
    ASSERT_TRUE(primary_.Start());
    ASSERT_TRUE(backup_.Start());
    RouterProcess::Options o;
    o.config_yaml =
        "inherit_defaults: false\n"
        "providers:\n"
        "  primary:\n    api_protocol: openai\n    api_base: " +
        primary_.base_url() + "\n    api_key: key-primary-1\n" + primary_extra +
        "  backup:\n    api_protocol: openai\n    api_base: " + backup_.base_url() +
        "\n    api_key: key-backup\n"
        "models:\n  smart:\n    strategy: " +
        strategy +
        "\n    endpoints:\n      - provider: primary\n        model_id: m-primary\n"
        "      - provider: backup\n        service_id: m-backup\n" +
        extra_yaml;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }
  void TearDown() override {
    if (router_ != nullptr) {
      EXPECT_EQ(router_->Stop(), 0) << router_->Log();
      std::string log = router_->Log();
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
      EXPECT_EQ(log.find("key-primary"), std::string::npos) << "secret in log";
    }
  }
  HttpResponse Post(const std::string& body) {
    return Fetch(router_->port(), "POST", kChatPath, body, {}, 15000);
  }
  // The model the answering upstream saw (each upstream echoes it).
  static std::string ServedModel(const HttpResponse& r) { return JsonStringField(r.body, "model"); }

  FakeUpstream primary_, backup_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(FailoverTest, EachFailureClassMovesToTheNextEndpoint) {
  Start(
      "upstream:\n  timeouts: {first_byte: 400ms, idle: 400ms}\n"
      "  circuit_breaker: {failures: 100, cooldown: 1s}\n");
  const std::vector<std::pair<std::string, Reply>> cases = {
      {"500", Status(500)},
      {"502", Status(502)},
      {"503", Status(503)},
      {"408", Status(408)},
      {"429", Status(429)},
      {"reset", Kind(Reply::Kind::kResetBeforeResponse)},
      {"close", Kind(Reply::Kind::kCloseBeforeResponse)},
      {"hang", Kind(Reply::Kind::kHang)},
      {"invalid-2xx",
       [] {
         Reply r;
         r.body = "<html>not json</html>";
         return r;
       }()},
  };
  for (const auto& [name, reply] : cases) {
    primary_.SetHandler([reply](const RecordedRequest&) { return reply; });
    HttpResponse r = Post(kSmart);
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    EXPECT_EQ(ServedModel(r), "m-backup") << name;
  }
  // The primary saw the spliced model id and its own key; the backup its own.
  ASSERT_GT(primary_.request_count(), 0u);
  EXPECT_EQ(JsonStringField(primary_.requests()[0].body, "model"), "m-primary");
  EXPECT_EQ(primary_.requests()[0].Header("authorization"), "Bearer key-primary-1");
  EXPECT_EQ(backup_.requests()[0].Header("authorization"), "Bearer key-backup");
}

TEST_F(FailoverTest, ClientErrorsAreRelayedWithoutFailover) {
  Start();
  for (int status : {400, 401, 403, 404, 422}) {
    primary_.SetHandler([status](const RecordedRequest&) { return Status(status); });
    HttpResponse r = Post(kSmart);
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.body, R"({"error":{"message":"upstream says no","type":"x"}})");
  }
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverTest, RetryAfterSkipsTheEndpointUntilItPasses) {
  Start();
  primary_.SetHandler([](const RecordedRequest&) { return Status(429, {{"Retry-After", "2"}}); });
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  primary_.SetHandler(nullptr);
  // Within the window the primary is not even asked.
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  EXPECT_EQ(primary_.request_count(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-primary");
}

TEST_F(FailoverTest, AllRateLimitedIs429WithTheSmallestRetryAfter) {
  Start();
  primary_.SetHandler([](const RecordedRequest&) { return Status(429, {{"Retry-After", "30"}}); });
  backup_.SetHandler([](const RecordedRequest&) { return Status(429, {{"Retry-After", "7"}}); });
  HttpResponse r = Post(kSmart);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.Header("retry-after"), "7");
  EXPECT_NE(r.body.find("rate_limit"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("upstream says no"), std::string::npos) << "no raw upstream bodies";
}

TEST_F(FailoverTest, AllTimeoutsIs504AndMixedFailuresIs502) {
  Start("upstream:\n  timeouts: {first_byte: 300ms}\n");
  primary_.SetHandler([](const RecordedRequest&) { return Kind(Reply::Kind::kHang); });
  backup_.SetHandler([](const RecordedRequest&) { return Kind(Reply::Kind::kHang); });
  EXPECT_EQ(Post(kSmart).status, 504);
  backup_.SetHandler([](const RecordedRequest&) { return Status(500); });
  HttpResponse r = Post(kSmart);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("primary:m-primary"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("backup:m-backup"), std::string::npos) << r.body;
}

TEST_F(FailoverTest, CircuitBreakerOpensThenOneProbeDecides) {
  Start("upstream:\n  circuit_breaker: {failures: 2, cooldown: 1s}\n");
  primary_.SetHandler([](const RecordedRequest&) { return Status(500); });
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  ASSERT_EQ(primary_.request_count(), 2u);
  // Open: the primary is skipped.
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  EXPECT_EQ(primary_.request_count(), 2u);
  // After the cool-down one probe goes to the primary; it has recovered.
  primary_.SetHandler(nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-primary");
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-primary");
  EXPECT_EQ(primary_.request_count(), 4u);
}

TEST_F(FailoverTest, LoadBalanceSpreadsByWeightAndKeepsFailover) {
  Start("", "load_balance");
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Post(kSmart).status, 200);
  EXPECT_EQ(primary_.request_count(), 5u);
  EXPECT_EQ(backup_.request_count(), 5u);
  // A failing member still fails over to the other.
  primary_.SetHandler([](const RecordedRequest&) { return Status(503); });
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Post(kSmart).status, 200);
}

TEST_F(FailoverTest, KeyPoolRotatesKeys) {
  Start("", "priority", "    api_keys: [key-primary-2, key-primary-3]\n");
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Post(R"({"model":"primary:m","messages":[]})").status, 200);
  }
  std::map<std::string, int> seen;
  for (const auto& r : primary_.requests()) seen[r.Header("authorization")]++;
  EXPECT_EQ(seen["Bearer key-primary-1"], 2);
  EXPECT_EQ(seen["Bearer key-primary-2"], 2);
  EXPECT_EQ(seen["Bearer key-primary-3"], 2);
}

TEST_F(FailoverTest, StreamFailsOverBeforeTheFirstByte) {
  Start();
  primary_.SetHandler(
      [](const RecordedRequest&) { return Kind(Reply::Kind::kResetBeforeResponse); });
  HttpResponse r = Post(kSmartStream);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("m-backup"), std::string::npos);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

TEST_F(FailoverTest, StreamCutAfterTheFirstByteEndsWithAnErrorNotAFailover) {
  // Without mid-stream rescue (rescue_test.cc covers it).
  Start("upstream:\n  stream_recovery: off\n");
  primary_.SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kBrokenChunked;
    r.content_type = "text/event-stream";
    r.chunks = {ChatCompletionSseChunks("m-primary", {"Hel"})[0]};
    return r;
  });
  HttpResponse r = Post(kSmartStream);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.body.find("Hel"), std::string::npos);
  EXPECT_NE(r.body.find("data: {\"error\":"), std::string::npos) << r.body;
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverTest, StreamWithoutItsTerminalEventIsAnError) {
  Start("upstream:\n  stream_recovery: off\n");
  primary_.SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    auto chunks = ChatCompletionSseChunks("m-primary", {"Hel", "lo"});
    r.chunks = {chunks[0], chunks[1]};  // no finish_reason chunk, no [DONE]
    return r;
  });
  HttpResponse r = Post(kSmartStream);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a truncated stream must not end cleanly";
  EXPECT_NE(r.body.find("stream_truncated"), std::string::npos) << r.body;
}

TEST_F(FailoverTest, RuntimeRoutesAreVisibleAtOnceShadowConfigAndCanBeRemoved) {
  Start();
  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "add", "fresh", "backup:rt-model"}, &out), 0) << out;
  HttpResponse r = Post(R"({"model":"fresh","messages":[]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ServedModel(r), "rt-model");
  // Shadow the config route `smart`.
  ASSERT_EQ(
      router_->Ctl({"route", "add", "smart", "backup:shadow", "--strategy", "priority"}, &out), 0)
      << out;
  EXPECT_EQ(ServedModel(Post(kSmart)), "shadow");
  ASSERT_EQ(router_->Ctl({"route", "list", "--json"}, &out), 0);
  EXPECT_NE(out.find(R"("name":"smart","strategy":"priority","source":"runtime")"),
            std::string::npos)
      << out;
  ASSERT_EQ(router_->Ctl({"route", "trace", "smart"}, &out), 0);
  EXPECT_NE(out.find("runtime route"), std::string::npos) << out;
  EXPECT_NE(out.find("backup:shadow"), std::string::npos) << out;
  ASSERT_EQ(router_->Ctl({"route", "rm", "smart"}, &out), 0) << out;
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-primary");
  EXPECT_EQ(router_->Ctl({"route", "rm", "smart"}, &out), 1);
  EXPECT_NE(out.find("config route"), std::string::npos) << out;
  EXPECT_EQ(router_->Ctl({"route", "add", "bad", "nosuch:x"}, &out), 1);
  EXPECT_NE(out.find("unknown provider"), std::string::npos) << out;
  EXPECT_EQ(router_->Ctl({"route", "trace", "nothing-here"}, &out), 4);
  EXPECT_NE(out.find("not found"), std::string::npos) << out;
}

TEST_F(FailoverTest, SameEndpointRetriesWithBackoffBeforeMovingOn) {
  Start("upstream:\n  retries: 2\n  retry_backoff: 50ms\n");
  std::atomic<int> calls{0};
  primary_.SetHandler([&](const RecordedRequest&) {
    // Reset the first two tries, answer the third.
    return ++calls <= 2 ? Kind(Reply::Kind::kResetBeforeResponse) : DefaultReply(RecordedRequest{});
  });
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = Post(kSmart);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(backup_.request_count(), 0u);
  // Two backoffs of at least 25 ms and 50 ms (jitter is 0.5x..1.5x).
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 75);
  // An HTTP error status is not retried on the same endpoint: straight to the backup.
  calls = 0;
  primary_.SetHandler([&](const RecordedRequest&) {
    ++calls;
    return Status(500);
  });
  EXPECT_EQ(ServedModel(Post(kSmart)), "m-backup");
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(FailoverTest, RuntimeRoutesAreGoneAfterARestart) {
  Start();
  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "add", "ephemeral", "backup:x"}, &out), 0) << out;
  EXPECT_EQ(ServedModel(Post(R"({"model":"ephemeral","messages":[]})")), "x");
  ASSERT_EQ(router_->Stop(), 0);
  RouterProcess::Options o;
  o.home = router_->home();
  RouterProcess again(o);  // same home and bitrouter.yaml
  std::string error;
  ASSERT_TRUE(again.Start(&error)) << error;
  EXPECT_EQ(Fetch(again.port(), "POST", kChatPath, R"({"model":"ephemeral","messages":[]})").status,
            404);
  EXPECT_EQ(Fetch(again.port(), "POST", kChatPath, kSmart).status, 200) << "config routes remain";
  EXPECT_EQ(again.Stop(), 0);
}

TEST(AutoCascadeTest, BareModelIdResolvesThroughActiveCatalogs) {
  FakeUpstream upstream;
  ASSERT_TRUE(upstream.Start());
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream.base_url()}};
  RouterProcess router(o);
  std::string error;
  ASSERT_TRUE(router.Start(&error)) << error;
  HttpResponse r =
      Fetch(router.port(), "POST", kChatPath, R"({"model":"gpt-4o-mini","messages":[]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonStringField(upstream.requests()[0].body, "model"), "gpt-4o-mini");
  // Listed only by an inactive provider: 404 that says so, never a silent fallback.
  HttpResponse c =
      Fetch(router.port(), "POST", kChatPath, R"({"model":"deepseek-chat","messages":[]})");
  EXPECT_EQ(c.status, 404);
  EXPECT_NE(c.body.find("DEEPSEEK_API_KEY"), std::string::npos) << c.body;
  EXPECT_EQ(router.Stop(), 0);
}

}  // namespace
}  // namespace bitrouter::testing
