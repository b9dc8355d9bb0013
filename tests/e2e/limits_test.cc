// Bad client input through the real binaries: every case gets a clear error
// or a clean close, and the worker keeps serving everyone else.
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kFastTimeouts[] = R"(
server:
  header_timeout: 300ms
  keepalive_timeout: 2s
)";

class LimitsTest : public RouterTest {
 protected:
  // The worker still answers a normal request.
  void ExpectStillServing() {
    HttpResponse r = Chat(R"({"model":"openai:gpt-4o","messages":[]})");
    EXPECT_EQ(r.status, 200) << r.error << r.body;
  }
};

TEST_F(LimitsTest, BodyOverSixteenMebibytesIs413) {
  StartAll();
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  // The declared length alone is enough: refused before the body is read.
  ASSERT_TRUE(
      client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     "Content-Length: 16777217\r\n\r\n{\"model\":"));
  HttpResponse r = client.ReadResponse();
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("request_too_large"), std::string::npos) << r.body;
  EXPECT_EQ(r.Header("connection"), "close");
  EXPECT_TRUE(client.WaitForClose(2000));
  ExpectStillServing();
}

TEST_F(LimitsTest, ChunkedBodyOverTheLimitIs413) {
  StartAll();
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  ASSERT_TRUE(
      client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
  std::string chunk(1 << 20, 'a');
  char size[16];
  snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  std::string framed = std::string(size) + chunk + "\r\n";
  bool refused = false;
  for (int i = 0; i < 18 && !refused; ++i) refused = !client.SendRaw(framed);
  HttpResponse r = client.ReadResponse();
  EXPECT_EQ(r.status, 413) << r.error;
  ExpectStillServing();
}

TEST_F(LimitsTest, OversizedHeadersAre431) {
  StartAll();
  HttpResponse big =
      Fetch(router_->port(), "GET", "/health", {}, {{"x-big", std::string(70000, 'a')}});
  EXPECT_EQ(big.status, 431);
  HeaderList many;
  for (int i = 0; i < 120; ++i) many.emplace_back("x-h" + std::to_string(i), "v");
  HttpResponse count = Fetch(router_->port(), "GET", "/health", {}, many);
  EXPECT_EQ(count.status, 431);
  EXPECT_NE(count.body.find("request headers"), std::string::npos) << count.body;
  ExpectStillServing();
}

TEST_F(LimitsTest, GarbageBytesGet400AndClose) {
  StartAll();
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  static constexpr char kTlsHelloLike[] =
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n";
  ASSERT_TRUE(client.SendRaw(std::string(kTlsHelloLike, sizeof(kTlsHelloLike) - 1)));
  HttpResponse r = client.ReadResponse();
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed HTTP request"), std::string::npos) << r.body;
  EXPECT_TRUE(client.WaitForClose(2000));
  ExpectStillServing();
}

TEST_F(LimitsTest, SlowClientThatNeverFinishesItsHeadersGets408) {
  StartAll(kFastTimeouts);
  HttpClient client;
  ASSERT_TRUE(client.Connect(router_->port()));
  ASSERT_TRUE(client.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  HttpResponse r = client.ReadResponse(5000);
  EXPECT_EQ(r.status, 408) << r.error;
  EXPECT_TRUE(client.WaitForClose(2000));
  // A connection that sends nothing at all is closed too.
  HttpClient idle;
  ASSERT_TRUE(idle.Connect(router_->port()));
  EXPECT_TRUE(idle.WaitForClose(5000));
  ExpectStillServing();
}

TEST_F(LimitsTest, ClientDisconnectMidStreamCancelsTheUpstream) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    for (int i = 0; i < 200; ++i) r.chunks.push_back("data: {\"n\":" + std::to_string(i) + "}\n\n");
    r.delay_between_chunks_ms = 50;
    return r;
  });
  {
    HttpClient client;
    ASSERT_TRUE(client.Connect(router_->port()));
    ASSERT_TRUE(client.SendRaw(BuildRequest(
        "POST", kChatPath, R"({"model":"openai:gpt-4o","stream":true,"messages":[]})")));
    int seen = 0;
    // Read a couple of events, then hang up mid-stream.
    std::thread closer([&] {
      WaitUntil([&] { return seen >= 2; }, 5000);
      shutdown(client.fd(), SHUT_RDWR);
    });
    client.ReadResponseStreaming([&](std::string_view) { ++seen; }, 5000);
    closer.join();
    EXPECT_GE(seen, 2);
  }
  // The router closed its upstream connection instead of reading on.
  EXPECT_TRUE(upstream_->WaitForClientAborts(1, 5000));
  upstream_->SetHandler(nullptr);
  ExpectStillServing();
}

}  // namespace
}  // namespace bitrouter::testing
