// The OpenAI hop through the real binaries: JSON, SSE relay, splicing,
// keep-alive, pipelining, chunked request bodies, /health and /v1/models.
#include <chrono>
#include <thread>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

using ProxyTest = RouterTest;

TEST_F(ProxyTest, JsonAnswerComesBackFromTheUpstream) {
  StartAll();
  std::string body =
      R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.5})";
  HttpResponse r = Chat(body, {{"x-bitrouter-request-id", "req-123"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, ChatCompletionJson("gpt-4o-mini", "Hello from fake upstream"));
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-bitrouter-request-id"), "req-123");
  ASSERT_EQ(upstream_->request_count(), 1u);
  RecordedRequest up = upstream_->requests()[0];
  EXPECT_EQ(up.method, "POST");
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_EQ(up.Header("authorization"), std::string("Bearer ") + kTestKey);
  EXPECT_EQ(up.Header("x-bitrouter-request-id"), "req-123");
  // Only the model value changed; every other byte is forwarded as sent.
  EXPECT_EQ(
      up.body,
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":0.5})");
}

TEST_F(ProxyTest, GeneratesARequestIdWhenAbsentOrInvalid) {
  StartAll();
  HttpResponse a = Chat(R"({"model":"openai:m","messages":[]})");
  HttpResponse b = Chat(R"({"model":"openai:m","messages":[]})",
                        {{"x-bitrouter-request-id", "bad id " + std::string(200, 'x')}});
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  EXPECT_FALSE(a.Header("x-bitrouter-request-id").empty());
  EXPECT_NE(a.Header("x-bitrouter-request-id"), b.Header("x-bitrouter-request-id"));
  EXPECT_EQ(b.Header("x-bitrouter-request-id").find(' '), std::string::npos);
  EXPECT_LE(b.Header("x-bitrouter-request-id").size(), 128u);
}

TEST_F(ProxyTest, UpstreamErrorStatusAndBodyAreRelayed) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 401;
    r.body =
        R"({"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}})";
    return r;
  });
  HttpResponse r = Chat(R"({"model":"openai:gpt-4o","messages":[]})");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("invalid_api_key"), std::string::npos);
}

TEST_F(ProxyTest, SseStreamIsRelayedByteForByteAsItArrives) {
  StartAll();
  std::vector<std::string> chunks = ChatCompletionSseChunks("gpt-4o", {"Hel", "lo", " wor", "ld"});
  upstream_->SetHandler([&](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = chunks;
    r.delay_between_chunks_ms = 150;
    return r;
  });
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  ASSERT_TRUE(client.SendRaw(
      BuildRequest("POST", kChatPath, R"({"model":"openai:gpt-4o","stream":true,"messages":[]})")));
  std::string expected;
  for (const auto& c : chunks) expected += c;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::chrono::milliseconds> arrivals;
  HttpResponse r = client.ReadResponseStreaming(
      [&](std::string_view) {
        arrivals.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start));
      },
      10000);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  // Not buffered whole: the first event reached the client long before the last.
  ASSERT_GE(arrivals.size(), 2u);
  EXPECT_GE((arrivals.back() - arrivals.front()).count(), 400);
}

TEST_F(ProxyTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  StartAll();
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  std::string pipeline;
  for (int i = 0; i < 5; ++i) {
    pipeline += BuildRequest("POST", kChatPath,
                             R"({"model":"openai:m)" + std::to_string(i) + R"(","messages":[]})");
  }
  pipeline += BuildRequest("GET", "/health", "");
  ASSERT_TRUE(client.SendRaw(pipeline));
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = client.ReadResponse();
    ASSERT_EQ(r.status, 200) << i << " " << r.error;
    EXPECT_EQ(JsonStringField(r.body, "model"), "m" + std::to_string(i));
  }
  HttpResponse health = client.ReadResponse();
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  // The connection stays usable, and upstream connections are pooled.
  ASSERT_TRUE(
      client.SendRaw(BuildRequest("POST", kChatPath, R"({"model":"openai:again","messages":[]})")));
  EXPECT_EQ(client.ReadResponse().status, 200);
  EXPECT_EQ(upstream_->connections_accepted(), 1);
}

TEST_F(ProxyTest, ChunkedRequestBodyIsAccepted) {
  StartAll();
  std::string body =
      R"({"model":"openai:gpt-4o","messages":[{"role":"user","content":"chunked"}]})";
  std::string raw =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  raw += "10\r\n" + body.substr(0, 16) + "\r\n";
  char size[16];
  snprintf(size, sizeof(size), "%zx", body.size() - 16);
  raw += std::string(size) + "\r\n" + body.substr(16) + "\r\n0\r\n\r\n";
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  ASSERT_TRUE(client.SendRaw(raw));
  HttpResponse r = client.ReadResponse();
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(upstream_->request_count(), 1u);
  EXPECT_EQ(upstream_->requests()[0].body,
            R"({"model":"gpt-4o","messages":[{"role":"user","content":"chunked"}]})");
}

TEST_F(ProxyTest, HealthAndModels) {
  StartAll();
  HttpResponse h = Fetch(router_->port(), "GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  HttpResponse m = Fetch(router_->port(), "GET", "/v1/models");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body.rfind(R"({"object":"list","data":[)", 0), 0u) << m.body;
  EXPECT_NE(m.body.find(R"("id":"openai:gpt-4o-mini","object":"model")"), std::string::npos);
  // Only active providers are listed.
  EXPECT_EQ(m.body.find("anthropic:"), std::string::npos);
}

TEST_F(ProxyTest, RoutingErrorsAreOpenAIShaped) {
  StartAll();
  HttpResponse bad = Chat(R"({"model":"openai:x","messages":[})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find(R"("type":"invalid_request_error")"), std::string::npos) << bad.body;
  EXPECT_EQ(Chat(R"({"messages":[]})").status, 400);
  EXPECT_EQ(Chat(R"({"model":42})").status, 400);
  EXPECT_EQ(Chat(R"([1,2])").status, 400);
  HttpResponse unknown = Chat(R"({"model":"nosuch:x","messages":[]})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("nosuch"), std::string::npos);
  EXPECT_NE(unknown.body.find(R"("code":"model_not_found")"), std::string::npos);
  HttpResponse inactive = Chat(R"({"model":"anthropic:claude","messages":[]})");
  EXPECT_EQ(inactive.status, 404);
  HttpResponse bare = Chat(R"({"model":"no-such-model","messages":[]})");
  EXPECT_EQ(bare.status, 404);
  EXPECT_NE(bare.body.find("no active provider lists it"), std::string::npos) << bare.body;
  EXPECT_EQ(Fetch(router_->port(), "GET", "/nope").status, 404);
  HttpResponse wrong = Fetch(router_->port(), "GET", kChatPath);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "POST");
  // Nothing reached the upstream.
  EXPECT_EQ(upstream_->request_count(), 0u);
}

}  // namespace
}  // namespace bitrouter::testing
