// The failoverbench catalogue (methodology v0.1): each scenario is a
// streaming Chat call to a priority route `bench` whose first endpoint
// (`primary`) misbehaves in one way and whose second (`backup`) is healthy.
// Every test runs the real binaries with the default configuration, shortened
// only through config values a user could also set, and asserts on what the
// client received (one well-formed stream whose text is the complete answer,
// or a clean error where that is the right answer) and on what the
// upstreams saw. rescue_test.cc has the rescue in every client protocol.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/faults.h"

namespace bitrouter::testing {
namespace {

constexpr char kBenchStream[] =
    R"({"model":"bench","stream":true,"messages":[{"role":"user","content":"count"}]})";

// The concatenated delta.content of a Chat stream, and whether it ended
// with data: [DONE] and no error event.
struct Transcript {
  std::string text;
  bool done = false;
  bool error = false;
  std::string model;
};

Transcript Read(const std::string& sse) {
  Transcript t;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find("\n\n", pos);
    std::string data =
        sse.substr(pos + 6, end == std::string::npos ? std::string::npos : end - pos - 6);
    pos = end == std::string::npos ? sse.size() : end;
    if (data == "[DONE]") {
      t.done = true;
      continue;
    }
    if (data.find("\"error\"") != std::string::npos) t.error = true;
    if (t.model.empty()) t.model = JsonStringField(data, "model");
    size_t c = data.find("\"content\":\"");
    if (c != std::string::npos) t.text += JsonStringField(data.substr(c), "content");
  }
  return t;
}

std::string Whole(int n) {
  std::string s;
  for (const std::string& t : BenchTokens(n)) s += t;
  return s;
}

class FailoverBenchTest : public ::testing::Test {
 protected:
  void Start(Fault fault, const std::string& extra_yaml = "", const FaultOptions& fo = {},
             const std::string& primary_catalog = "", const std::string& backup_catalog = "") {
    fault_ = fault;
    fo_ = fo;
    primary_.SetHandler([this](const RecordedRequest& req) {
      int nth = primary_calls_++;
      if (healthy_) return ChatSseReply("m-primary", BenchTokens(fo_.total_tokens));
      return FaultReply(fault_, req, nth, "m-primary", fo_);
    });
    backup_.SetHandler([this](const RecordedRequest&) {
      return ChatSseReply("m-backup", BenchTokens(fo_.total_tokens));
    });
    ASSERT_TRUE(primary_.Start());
    ASSERT_TRUE(backup_.Start());
    RouterProcess::Options o;
    o.config_yaml =
        "inherit_defaults: false\nproviders:\n  primary:\n    api_protocol: openai\n"
        "    api_base: " +
        primary_.base_url() + "\n    api_key: key-primary\n" + primary_catalog +
        "  backup:\n    api_protocol: openai\n    api_base: " + backup_.base_url() +
        "\n    api_key: key-backup\n" + backup_catalog +
        "models:\n  bench:\n    strategy: priority\n    endpoints:\n"
        "      - provider: primary\n        model_id: m-primary\n"
        "      - provider: backup\n        model_id: m-backup\n" +
        extra_yaml;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }
  void TearDown() override {
    if (router_ == nullptr) return;
    EXPECT_EQ(router_->Stop(), 0) << router_->Log();
    std::string log = router_->Log();
    EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
    EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
    EXPECT_EQ(log.find("key-primary"), std::string::npos) << "secret in log";
  }
  HttpResponse Post(int timeout_ms = 20000) {
    return Fetch(router_->port(), "POST", kChatPath, kBenchStream, {}, timeout_ms);
  }
  // A complete answer: 200, one well-formed stream, the whole text once.
  void ExpectComplete(const HttpResponse& r, const std::string& served_by) {
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.complete) << r.error;
    Transcript t = Read(r.body);
    EXPECT_TRUE(t.done) << r.body;
    EXPECT_FALSE(t.error) << r.body;
    EXPECT_EQ(t.text, Whole(fo_.total_tokens));
    EXPECT_EQ(t.model, served_by);
    EXPECT_EQ(r.body.find("\"role\""), r.body.rfind("\"role\"")) << "one role chunk";
  }

  Fault fault_ = Fault::kUnavailable;
  FaultOptions fo_;
  std::atomic<int> primary_calls_{0};
  std::atomic<bool> healthy_{false};
  FakeUpstream primary_, backup_;
  std::unique_ptr<RouterProcess> router_;
};

TEST_F(FailoverBenchTest, RateLimitWithRetryAfterFailsOverAtOnce) {
  Start(Fault::kRateLimitRetryAfter);
  HttpResponse r = Post();
  ExpectComplete(r, "m-backup");
  EXPECT_EQ(r.Header("x-bitrouter-attempts"), "primary:m-primary=429,backup:m-backup=200");
  // Within the Retry-After window the primary is not asked again.
  ExpectComplete(Post(), "m-backup");
  EXPECT_EQ(primary_calls_.load(), 1);
}

TEST_F(FailoverBenchTest, PersistentRateLimitFailsOver) {
  Start(Fault::kRateLimitPersistent);
  for (int i = 0; i < 3; ++i) ExpectComplete(Post(), "m-backup");
}

TEST_F(FailoverBenchTest, ServerErrorOnceIsRescuedByTheFallback) {
  Start(Fault::kServerErrorOnce);
  ExpectComplete(Post(), "m-backup");
  // The primary is healthy again: the next call is its.
  ExpectComplete(Post(), "m-primary");
  EXPECT_EQ(primary_calls_.load(), 2);
}

TEST_F(FailoverBenchTest, PersistentUnavailableFailsOver) {
  Start(Fault::kUnavailable);
  for (int i = 0; i < 3; ++i) ExpectComplete(Post(), "m-backup");
}

TEST_F(FailoverBenchTest, ResetBeforeHeadersFailsOver) {
  Start(Fault::kResetBeforeHeaders);
  HttpResponse r = Post();
  ExpectComplete(r, "m-backup");
  EXPECT_EQ(r.Header("x-bitrouter-attempts"), "primary:m-primary=reset,backup:m-backup=200");
}

TEST_F(FailoverBenchTest, SilentProviderIsAbandonedWithoutARetry) {
  // The default stream_first_byte is 30 s; a user can shorten it like this.
  Start(Fault::kSilence, "upstream:\n  timeouts: {stream_first_byte: 1s}\n");
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = Post();
  auto took = std::chrono::steady_clock::now() - start;
  ExpectComplete(r, "m-backup");
  EXPECT_EQ(r.Header("x-bitrouter-attempts"), "primary:m-primary=timeout,backup:m-backup=200");
  // The silent endpoint was not retried before the fallback was tried.
  EXPECT_EQ(primary_calls_.load(), 1);
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(FailoverBenchTest, SlowFirstTokenIsWaitedFor) {
  // Well inside the default first_event (60 s): the primary's answer is used.
  FaultOptions fo;
  fo.delay_ms = 1500;
  Start(Fault::kSlowFirstToken, "", fo);
  ExpectComplete(Post(), "m-primary");
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverBenchTest, ShortStallIsWaitedOut) {
  // A stall inside the default idle gap (60 s) is not a failure.
  FaultOptions fo;
  fo.tokens = 20;
  fo.delay_ms = 1500;
  Start(Fault::kStall, "", fo);
  ExpectComplete(Post(), "m-primary");
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverBenchTest, CompleteStreamWithoutDoneIsComplete) {
  Start(Fault::kNoDone);
  HttpResponse r = Post();
  ASSERT_EQ(r.status, 200);
  Transcript t = Read(r.body);
  EXPECT_FALSE(t.error) << r.body;
  EXPECT_EQ(t.text, Whole(fo_.total_tokens));
  EXPECT_NE(r.body.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverBenchTest, ContextLengthMovesToALargerWindowOnly) {
  Start(Fault::kContextLength, "", {}, "    models:\n      m-primary: {max_input_tokens: 8192}\n");
  HttpResponse r = Post();
  ExpectComplete(r, "m-backup");
  EXPECT_EQ(r.Header("x-bitrouter-attempts"), "primary:m-primary=400,backup:m-backup=200");
}

TEST_F(FailoverBenchTest, ContextLengthIsRelayedWhenNoWindowIsLarger) {
  Start(Fault::kContextLength, "", {}, "    models:\n      m-primary: {max_input_tokens: 8192}\n",
        "    models:\n      m-backup: {max_input_tokens: 8192}\n");
  HttpResponse r = Post();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("context_length_exceeded"), std::string::npos) << r.body;
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverBenchTest, ContextLengthErrorIsKeptWhenTheLargerWindowFails) {
  Start(Fault::kContextLength, "", {}, "    models:\n      m-primary: {max_input_tokens: 8192}\n");
  backup_.SetHandler([](const RecordedRequest&) {
    return FaultReply(Fault::kUnavailable, RecordedRequest{}, 0, "m-backup");
  });
  // The backup was worth trying, but it failed: the client gets the real
  // reason (the 400), not "every endpoint failed".
  HttpResponse r = Post();
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("context_length_exceeded"), std::string::npos) << r.body;
  // A 5xx on the last endpoint that can serve gets its one retry.
  EXPECT_EQ(backup_.request_count(), 2u);
}

TEST_F(FailoverBenchTest, ContentFilterRefusalIsNeverRoutedAround) {
  Start(Fault::kContentFilter);
  HttpResponse r = Post();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("content_filter"), std::string::npos) << r.body;
  EXPECT_EQ(backup_.request_count(), 0u);
}

TEST_F(FailoverBenchTest, RecoveredPrimaryIsUsedAgainWithoutBeingHammered) {
  // Default breaker: 5 failures, 30 s cool-down; shortened to 1 s here.
  Start(Fault::kUnavailable, "upstream:\n  circuit_breaker: {failures: 2, cooldown: 1s}\n");
  // 2.5 s of traffic while the primary is down: at most the 2 failures that
  // open the breaker plus one probe per cool-down (and one more for timing).
  auto start = std::chrono::steady_clock::now();
  int sent = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500) && sent < 60) {
    ExpectComplete(Post(), "m-backup");
    ++sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_LE(primary_calls_.load(), 2 + 3 + 1) << "the primary was hammered while down";
  // It recovers: within one cool-down (plus a margin) it serves again.
  healthy_ = true;
  auto recovered = std::chrono::steady_clock::now();
  bool back = false;
  for (int i = 0; i < 60 && !back; ++i) {
    HttpResponse r = Post();
    ASSERT_EQ(r.status, 200);
    back = Read(r.body).model == "m-primary";
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(back);
  EXPECT_LT(std::chrono::steady_clock::now() - recovered, std::chrono::milliseconds(2500));
}

TEST_F(FailoverBenchTest, AccountingNamesTheEndpointThatServed) {
  Start(Fault::kUnavailable);
  // A client that asks for usage gets the serving endpoint's, in its own chunk.
  HttpResponse r =
      Fetch(router_->port(), "POST", kChatPath,
            R"({"model":"bench","stream":true,"stream_options":{"include_usage":true},)"
            R"("messages":[{"role":"user","content":"count"}]})");
  ExpectComplete(r, "m-backup");
  EXPECT_EQ(r.Header("x-bitrouter-attempts"), "primary:m-primary=503,backup:m-backup=200");
  EXPECT_NE(r.body.find("\"completion_tokens\":60"), std::string::npos) << r.body;
}

// The rescued scenarios: the client gets one stream whose text is the
// primary's partial text followed by the backup's continuation. The backup
// here answers the continuation with the rest of the answer.
class RescueBenchTest : public FailoverBenchTest {
 protected:
  void StartRescue(Fault fault, const std::string& extra_yaml, bool backup_rejects_prefill) {
    backup_rejects_prefill_ = backup_rejects_prefill;
    FaultOptions fo;
    fo.tokens = 40;
    Start(fault, extra_yaml, fo);
    backup_.SetHandler([this](const RecordedRequest& req) {
      ++backup_calls_;
      if (backup_rejects_prefill_) {
        Reply r = FaultReply(Fault::kRejectsPrefill, req, 0, "m-backup", fo_);
        if (r.status == 400) return r;
      }
      // The continuation carries the partial answer: answer with the rest.
      std::vector<std::string> all = BenchTokens(fo_.total_tokens);
      std::vector<std::string> rest(all.begin() + fo_.tokens, all.end());
      EXPECT_NE(req.body.find("t39"), std::string::npos) << "the partial answer is carried";
      return ChatSseReply("m-backup", rest);
    });
  }
  bool backup_rejects_prefill_ = false;
  std::atomic<int> backup_calls_{0};
};

TEST_F(RescueBenchTest, StreamCutAfter40TokensIsContinuedOnTheFallback) {
  StartRescue(Fault::kStreamCut, "", false);
  HttpResponse r = Post();
  ASSERT_EQ(r.status, 200) << r.body;
  Transcript t = Read(r.body);
  EXPECT_TRUE(t.done) << r.body;
  EXPECT_FALSE(t.error) << r.body;
  EXPECT_EQ(t.text, Whole(fo_.total_tokens));
  EXPECT_EQ(r.body.find("\"role\""), r.body.rfind("\"role\"")) << "one role chunk";
  EXPECT_EQ(backup_calls_.load(), 1);
}

TEST_F(RescueBenchTest, StallPastTheIdleGapIsContinuedOnTheFallback) {
  // The default idle gap is 60 s; a user can shorten it like this.
  StartRescue(Fault::kStall, "upstream:\n  timeouts: {idle: 500ms}\n", false);
  fo_.delay_ms = 5000;
  HttpResponse r = Post();
  ASSERT_EQ(r.status, 200) << r.body;
  Transcript t = Read(r.body);
  EXPECT_TRUE(t.done) << r.body;
  EXPECT_FALSE(t.error) << r.body;
  EXPECT_EQ(t.text, Whole(fo_.total_tokens));
}

TEST_F(RescueBenchTest, MalformedChunkNeverReachesTheClient) {
  StartRescue(Fault::kMalformedChunk, "", false);
  HttpResponse r = Post();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("\"cho\n"), std::string::npos) << "the malformed chunk was relayed";
  Transcript t = Read(r.body);
  EXPECT_TRUE(t.done) << r.body;
  EXPECT_FALSE(t.error) << r.body;
  EXPECT_EQ(t.text, Whole(fo_.total_tokens));
}

TEST_F(RescueBenchTest, FallbackThatRejectsPrefillGetsAContinuationInstruction) {
  StartRescue(Fault::kStreamCut, "", true);
  HttpResponse r = Post();
  ASSERT_EQ(r.status, 200) << r.body;
  Transcript t = Read(r.body);
  EXPECT_TRUE(t.done) << r.body;
  EXPECT_FALSE(t.error) << r.body;
  EXPECT_EQ(t.text, Whole(fo_.total_tokens));
}

}  // namespace
}  // namespace bitrouter::testing
