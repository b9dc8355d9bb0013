// Issue 14 items 8 and 9 through the real binaries: a committed client
// stream that has no event to send gets SSE keep-alive comments (never
// inside an event), and every answer names the endpoint that served it and
// the router's own overhead.
#include <string>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kStreamBody[] =
    R"({"model":"openai:gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})";
constexpr char kStreamBodyWithUsage[] =
    R"({"model":"openai:gpt-4o","stream":true,"stream_options":{"include_usage":true},)"
    R"("messages":[{"role":"user","content":"hi"}]})";

constexpr char kEvent1[] =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
    "\"finish_reason\":null}]}\n\n";
constexpr char kEvent2[] =
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\","
    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n";

using StreamKeepaliveTest = RouterTest;

// The second event arrives in two halves with a pause between them.
Reply SecondEventStalls(const RecordedRequest&) {
  const std::string e2 = kEvent2;
  Reply r;
  r.content_type = "text/event-stream";
  r.chunked = true;
  r.chunks = {kEvent1 + e2.substr(0, 40), e2.substr(40)};
  r.delay_between_chunks_ms = 1200;
  return r;
}

TEST_F(StreamKeepaliveTest, APauseBetweenEventsGetsCommentsAndTheStreamStaysValid) {
  StartAll("server:\n  stream_keepalive: 300ms\n");
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {kEvent1, kEvent2};
    r.delay_between_chunks_ms = 1200;  // a reasoning pause between events
    return r;
  });
  HttpResponse r = Chat(kStreamBody);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  size_t first = r.body.find(": keep-alive\n\n");
  ASSERT_NE(first, std::string::npos) << r.body;
  // Only between whole events: after the first event, before the second.
  EXPECT_GT(first, r.body.find("Hel"));
  EXPECT_LT(first, r.body.find("\"lo\""));
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
}

TEST_F(StreamKeepaliveTest, NeverInsideAnEventThatStalls) {
  // The client asks for usage itself, so the stream is relayed as it comes
  // (otherwise the router holds a partial event back: see the next test).
  StartAll("server:\n  stream_keepalive: 300ms\n");
  const std::string e2 = kEvent2;
  upstream_->SetHandler(SecondEventStalls);
  HttpResponse r = Chat(kStreamBodyWithUsage);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(": keep-alive"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(std::string(kEvent1) + e2), std::string::npos) << r.body;
}

TEST_F(StreamKeepaliveTest, AHeldPartialEventLeavesTheClientBetweenEvents) {
  // The router asked for usage the client did not: it relays whole events
  // only, so while the second event is incomplete the client is between
  // events and a keep-alive there is safe.
  StartAll("server:\n  stream_keepalive: 300ms\n");
  const std::string e2 = kEvent2;
  upstream_->SetHandler(SecondEventStalls);
  HttpResponse r = Chat(kStreamBody);
  ASSERT_EQ(r.status, 200) << r.body;
  // Event 1, then only keep-alive comments, then event 2 whole.
  std::string body = r.body;
  ASSERT_EQ(body.rfind(kEvent1, 0), 0u) << body;
  ASSERT_GT(body.size(), std::string(kEvent1).size() + e2.size());
  EXPECT_EQ(body.substr(body.size() - e2.size()), e2) << body;
  std::string between = body.substr(std::string(kEvent1).size(),
                                    body.size() - e2.size() - std::string(kEvent1).size());
  ASSERT_FALSE(between.empty());
  for (size_t at = 0; at < between.size(); at += 14) {
    EXPECT_EQ(between.substr(at, 14), ": keep-alive\n\n") << body;
  }
}

TEST_F(StreamKeepaliveTest, OffWhenConfiguredOff) {
  StartAll("server:\n  stream_keepalive: 0\n");
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {kEvent1, kEvent2};
    r.delay_between_chunks_ms = 800;
    return r;
  });
  HttpResponse r = Chat(kStreamBody);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(": keep-alive"), std::string::npos) << r.body;
}

TEST_F(StreamKeepaliveTest, AnswersNameTheServingEndpointAndTheRouterOverhead) {
  StartAll();
  HttpResponse r =
      Chat(R"({"model":"openai:gpt-4o","messages":[]})", {{"x-bitrouter-request-id", "trace-42"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-bitrouter-provider"), "openai:gpt-4o");
  EXPECT_EQ(r.Header("x-bitrouter-request-id"), "trace-42");
  std::string overhead = r.Header("x-bitrouter-overhead-us");
  ASSERT_FALSE(overhead.empty());
  long us = std::stol(overhead);
  EXPECT_GE(us, 0);
  EXPECT_LT(us, 1'000'000) << "overhead excludes the upstream's time";
  // The request id travelled upstream too.
  ASSERT_EQ(upstream_->request_count(), 1u);
  EXPECT_EQ(upstream_->requests()[0].Header("x-bitrouter-request-id"), "trace-42");
}

}  // namespace
}  // namespace bitrouter::testing
