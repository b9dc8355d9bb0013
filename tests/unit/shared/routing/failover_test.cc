#include "shared/routing/failover.h"

#include <gtest/gtest.h>

namespace bitrouter::routing {
namespace {

TEST(ClassifyTest, StatusClasses) {
  for (int s : {200, 201, 299}) EXPECT_EQ(ClassifyStatus(s), StatusClass::kSuccess) << s;
  for (int s : {500, 502, 503, 504, 529, 408, 429})
    EXPECT_EQ(ClassifyStatus(s), StatusClass::kFailover) << s;
  for (int s : {400, 401, 403, 404, 409, 413, 422})
    EXPECT_EQ(ClassifyStatus(s), StatusClass::kRelay) << s;
}

TEST(RetryAfterParseTest, SecondsDatesAndJunk) {
  EXPECT_EQ(ParseRetryAfterMs("7", 0), 7000u);
  EXPECT_EQ(ParseRetryAfterMs(" 1.5 ", 0), 1500u);
  EXPECT_EQ(ParseRetryAfterMs("999999", 0), 86'400'000u);
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480), 10'000u);
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0u);
  EXPECT_FALSE(ParseRetryAfterMs("", 0));
  EXPECT_FALSE(ParseRetryAfterMs("soon", 0));
  EXPECT_FALSE(ParseRetryAfterMs("-3", 0));
  EXPECT_FALSE(ParseRetryAfterMs("nan", 0));
}

using K = Attempt::Kind;

TEST(AggregateTest, AllRateLimitedIs429WithTheSmallestRetryAfter) {
  FinalError e =
      Aggregate({{K::kStatus, "a:m", 429, 30'000, ""}, {K::kStatus, "b:m", 429, 7'000, ""}});
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.retry_after_s, 7u);
}

TEST(AggregateTest, WaitingOutRateLimitsIs429WithTheRemainingWait) {
  // Every endpoint skipped because it is waiting out a 429's Retry-After.
  FinalError e = Aggregate({{K::kSkipped, "a:m", 0, 12'300, "waiting out Retry-After", true},
                            {K::kSkipped, "b:m", 0, 4'100, "waiting out Retry-After", true}});
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.code, "rate_limited");
  EXPECT_EQ(e.retry_after_s, 5u);
  // A fresh 429 plus a wait: still a rate limit, the smaller wait wins.
  e = Aggregate({{K::kStatus, "a:m", 429, 9'000, ""},
                 {K::kSkipped, "b:m", 0, 2'000, "waiting out Retry-After", true}});
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.retry_after_s, 2u);
  // A breaker that is open is not a rate limit.
  e = Aggregate({{K::kSkipped, "a:m", 0, 2'000, "waiting out Retry-After", true},
                 {K::kSkipped, "b:m", 0, 2'000, "circuit breaker open"}});
  EXPECT_EQ(e.status, 503);
}

TEST(AggregateTest, AllTimeoutsIs504) {
  EXPECT_EQ(Aggregate({{K::kTimeout, "a:m", 0, {}, ""}, {K::kTimeout, "b:m", 0, {}, ""}}).status,
            504);
}

TEST(AggregateTest, EverythingCoolingDownIs503WithTheShortestWait) {
  FinalError e = Aggregate({{K::kSkipped, "a:m", 0, 4'200, "circuit breaker open"},
                            {K::kSkipped, "b:m", 0, 900, "waiting out Retry-After"}});
  EXPECT_EQ(e.status, 503);
  EXPECT_EQ(e.retry_after_s, 1u);
}

TEST(AggregateTest, MixedIs502AndNamesEveryEndpoint) {
  FinalError e = Aggregate({{K::kStatus, "a:m", 500, {}, ""},
                            {K::kConnect, "b:m", 0, {}, "refused"},
                            {K::kTimeout, "c:m", 0, {}, ""}});
  EXPECT_EQ(e.status, 502);
  EXPECT_EQ(e.code, "upstream_error");
  for (const char* name : {"a:m: HTTP 500", "b:m: connection failed (refused)", "c:m: timed out"}) {
    EXPECT_NE(e.message.find(name), std::string::npos) << e.message;
  }
  EXPECT_EQ(Aggregate({{K::kConnect, "a:m", 0, {}, ""}}).code, "upstream_connect_failed");
  EXPECT_EQ(Aggregate({{K::kTls, "a:m", 0, {}, ""}}).code, "upstream_tls_failed");
}

TEST(ContextLengthError, RecognisesEachProvidersWording) {
  for (
      const char* body : {
          // OpenAI / Azure / DeepSeek / OpenRouter
          R"({"error":{"message":"This model's maximum context length is 128000 tokens.","code":"context_length_exceeded"}})",
          // Anthropic
          R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})",
          // Gemini
          R"({"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}})",
          // vLLM
          R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError"})",
      }) {
    EXPECT_TRUE(IsContextLengthError(body)) << body;
  }
}

TEST(ContextLengthError, OtherBadRequestsAndContentFiltersDoNotMatch) {
  EXPECT_FALSE(IsContextLengthError(
      R"({"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error"}})"));
  EXPECT_FALSE(IsContextLengthError(
      R"({"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","code":"content_filter"}})"));
  EXPECT_FALSE(IsContextLengthError(""));
}

TEST(AttemptsHeader, ListsEachOutcomeWithoutSecrets) {
  using K = Attempt::Kind;
  std::vector<Attempt> a = {{K::kStatus, "openai:gpt-4o", 503, {}, "upstream said sk-secret"},
                            {K::kTimeout, "x:m", 0, {}, ""},
                            {K::kSkipped, "y:m,=\r\n", 0, {}, ""},
                            {K::kStatus, "anthropic:claude-sonnet-4-5", 200, {}, ""}};
  EXPECT_EQ(AttemptsHeaderValue(a),
            "openai:gpt-4o=503,x:m=timeout,y:m    =skipped,anthropic:claude-sonnet-4-5=200");
}

}  // namespace
}  // namespace bitrouter::routing
