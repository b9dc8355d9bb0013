// Hostile clients and upstreams against the real binaries (issues 9 and 10):
// each case asserts on what the client (and the fake upstream) saw, that the
// worker's pid did not change, and that a well-behaved client is still served.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kHello[] =
    R"({"model":"openai:gpt-4o","messages":[{"role":"user","content":"hi"}]})";

int ConnectRaw(int port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Closes with RST (SO_LINGER 0), as a client that vanishes would.
void Reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

// Reads until EOF/reset or `timeout_ms`; returns the bytes.
std::string ReadAll(int fd, int timeout_ms) {
  timeval tv{0, 100 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    break;  // reset
  }
  return out;
}

// Under AddressSanitizer freed memory sits in its quarantine and the heap is
// its own, so resident-size bounds are checked in the regular build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRssIsMeaningful = false;
#else
constexpr bool kRssIsMeaningful = true;
#endif

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

Reply Raw(std::string bytes, bool close = false) {
  Reply r;
  r.kind = Reply::Kind::kRaw;
  r.body = std::move(bytes);
  r.close_connection = close;
  return r;
}

std::string JsonHead(size_t length) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(length) + "\r\n\r\n";
}

class WorkerHardeningTest : public RouterTest {
 protected:
  pid_t OnlyWorker() {
    auto pids = router_->WorkerPids();
    EXPECT_EQ(pids.size(), 1u);
    return pids.empty() ? -1 : pids[0];
  }
  // The worker is the same process and still serves a well-behaved client.
  void ExpectHealthy(pid_t worker) {
    HttpResponse r = Chat(kHello);
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    auto pids = router_->WorkerPids();
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_EQ(pids[0], worker) << "the worker was replaced (crashed):\n" << router_->Log();
  }
};

// 9.1: a failed write closes the connection; the pipelined request behind it
// must never be dispatched on the closed connection.
TEST_F(WorkerHardeningTest, PipelinedRequestAfterResetNeverCrashes) {
  StartAll();
  pid_t worker = OnlyWorker();
  std::string pipelined =
      BuildRequest("GET", "/health", "") + BuildRequest("POST", kChatPath, kHello);
  for (int i = 0; i < 60; ++i) {
    int fd = ConnectRaw(router_->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, pipelined);
    Reset(fd);
    if (i % 10 == 0) ExpectHealthy(worker);
  }
  ExpectHealthy(worker);
}

// 9.1, deterministic: the worker stops reading a client that pipelines more
// than it buffers, so it learns of the client's reset only when the answer
// to the first request fails to write; the pipelined request behind it must
// then never be dispatched.
TEST_F(WorkerHardeningTest, PipelinedRequestBehindAFailedWriteIsNeverDispatched) {
  StartAll();
  pid_t worker = OnlyWorker();
  upstream_->SetHandler([](const RecordedRequest& req) {
    Reply r = DefaultReply(req);
    if (req.body.find("slow") != std::string::npos) r.delay_before_headers_ms = 300;
    return r;
  });
  std::string slow = BuildRequest("POST", kChatPath, R"({"model":"openai:slow","messages":[]})");
  std::string big = "{\"model\":\"openai:gpt-4o\",\"messages\":[],\"pad\":\"" +
                    std::string(1u << 20, 'p') + "\"}";
  std::string pipelined = slow + BuildRequest("POST", kChatPath, big);
  for (int i = 0; i < 3; ++i) {
    int fd = ConnectRaw(router_->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, pipelined);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the worker stopped reading
    Reset(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the slow answer arrives
    ExpectHealthy(worker);
  }
  upstream_->SetHandler(nullptr);
  // The request behind the failed write (read whole, stopping the reads:
  // pipelined bytes over 1 MiB) never went anywhere.
  for (const RecordedRequest& req : upstream_->requests()) {
    EXPECT_EQ(req.body.find("\"pad\""), std::string::npos) << "dispatched on a closed connection";
  }
}

// 10.1: a translated stream that completes while its client resets.
TEST_F(WorkerHardeningTest, TranslatedStreamCompletingAsClientResets) {
  StartAll();
  pid_t worker = OnlyWorker();
  std::string body =
      R"({"model":"openai:gpt-4o","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  std::string request =
      BuildRequest("POST", "/v1/messages", body, {{"anthropic-version", "2023-06-01"}});
  for (int i = 0; i < 60; ++i) {
    int fd = ConnectRaw(router_->port());
    ASSERT_GE(fd, 0);
    SendAll(fd, request);
    // Vanish at varying moments around the end of the stream.
    if (i % 3 != 0) std::this_thread::sleep_for(std::chrono::microseconds(200 * (i % 7)));
    Reset(fd);
  }
  ExpectHealthy(worker);
}

// 9.2: a passthrough stream that never completes its first event is cut at
// the event cap (not buffered without limit), and the worker stays small.
TEST_F(WorkerHardeningTest, EndlessFirstStreamEventIsCapped) {
  StartAll();
  pid_t worker = OnlyWorker();
  std::string endless = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: ";
  endless.append(24u << 20, 'x');  // 24 MiB, no blank line, then close
  upstream_->SetHandler([&](const RecordedRequest&) { return Raw(endless, true); });
  long before = RssKiB(worker);
  HttpResponse r = Chat(R"({"model":"openai:gpt-4o","stream":true,"messages":[]})", {}, 30000);
  EXPECT_EQ(r.status, 502) << r.error << r.body;
  EXPECT_NE(r.body.find("no complete stream event"), std::string::npos) << r.body;
  long after = RssKiB(worker);
  if (kRssIsMeaningful) {
    EXPECT_LT(after - before, 80 * 1024) << "worker RSS grew from " << before << " to " << after;
  }
  upstream_->SetHandler(nullptr);
  ExpectHealthy(worker);
}

// 9.3: interim 1xx answers are skipped; 101 is a protocol error; a body
// delimited by connection close is accepted.
TEST_F(WorkerHardeningTest, UpstreamInterimResponsesAndCloseDelimitedBodies) {
  StartAll();
  pid_t worker = OnlyWorker();
  std::string json = ChatCompletionJson("gpt-4o", "after interim");
  upstream_->SetHandler([&](const RecordedRequest&) {
    return Raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" +
               JsonHead(json.size()) + json);
  });
  HttpResponse r = Chat(kHello);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_NE(r.body.find("after interim"), std::string::npos) << r.body;
  EXPECT_EQ(r.Header("link"), "");

  // An interim answer has no body, whatever its headers claim (found by the
  // upstream fuzzer), and a status below 100 is a broken upstream.
  upstream_->SetHandler([&](const RecordedRequest&) {
    return Raw("HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n" + JsonHead(json.size()) +
               json);
  });
  r = Chat(kHello);
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_NE(r.body.find("after interim"), std::string::npos) << r.body;
  upstream_->SetHandler([&](const RecordedRequest&) {
    return Raw("HTTP/1.1 000 Zero\r\nContent-Length: 2\r\n\r\n{}");
  });
  r = Chat(kHello);
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("invalid status code"), std::string::npos) << r.body;

  upstream_->SetHandler([&](const RecordedRequest&) {
    return Raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + json, true);
  });
  r = Chat(kHello);
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_NE(r.body.find("after interim"), std::string::npos) << r.body;

  upstream_->SetHandler([&](const RecordedRequest&) {
    return Raw(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        true);
  });
  r = Chat(kHello);
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("101"), std::string::npos) << r.body;
  upstream_->SetHandler(nullptr);
  ExpectHealthy(worker);
}

// 9.4: HEAD answers carry headers and no body, so keep-alive stays in sync.
TEST_F(WorkerHardeningTest, HeadHasNoBodyAndKeepsTheConnectionInSync) {
  StartAll();
  HttpClient c;
  ASSERT_TRUE(c.Connect(router_->port()));
  for (const char* path : {"/health", "/v1/models", "/no/such/path", "/"}) {
    ASSERT_TRUE(c.SendRaw(BuildRequest("HEAD", path, "")));
    HttpResponse h = c.ReadResponse(5000);
    EXPECT_TRUE(h.complete) << path << " " << h.error;
    EXPECT_TRUE(h.body.empty()) << path;
    EXPECT_NE(h.Header("content-length"), "") << path;
    // The next request on the same connection parses cleanly.
    ASSERT_TRUE(c.SendRaw(BuildRequest("GET", "/health", "")));
    HttpResponse g = c.ReadResponse(5000);
    EXPECT_EQ(g.status, 200) << path << " " << g.error;
    EXPECT_EQ(g.body, R"({"status":"ok"})") << path;
  }
  // Raw check: after a HEAD response's headers, the very next bytes are the
  // next response's status line (no body in between).
  int fd = ConnectRaw(router_->port());
  SendAll(fd, BuildRequest("HEAD", "/health", "") +
                  BuildRequest("GET", "/health", "", {{"Connection", "close"}}));
  std::string all = ReadAll(fd, 5000);
  ::close(fd);
  size_t first_end = all.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << all;
  EXPECT_EQ(all.compare(first_end + 4, 9, "HTTP/1.1 "), 0) << all;
}

// 9.8: while an endpoint waits out a 429's Retry-After, requests get 429 with
// the remaining wait (not 503); an upstream's Retry-After is capped.
TEST_F(WorkerHardeningTest, RateLimitStaysARateLimitWhileWaiting) {
  StartAll("upstream:\n  max_retry_after: 2s\n");
  pid_t worker = OnlyWorker();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 429;
    r.headers = {{"Retry-After", "100000"}};
    r.body = R"({"error":{"message":"slow down","type":"rate_limit_error"}})";
    return r;
  });
  HttpResponse r = Chat(kHello);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.Header("retry-after"), "2") << "capped at upstream.max_retry_after";
  size_t seen = upstream_->request_count();
  r = Chat(kHello);
  EXPECT_EQ(r.status, 429) << "waiting out a rate limit is still a rate limit: " << r.body;
  int wait = std::atoi(r.Header("retry-after").c_str());
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 2);
  EXPECT_EQ(upstream_->request_count(), seen) << "the endpoint was not skipped";
  upstream_->SetHandler(nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ExpectHealthy(worker);
}

// 10.5: a half-open probe that gets a 429 still settles the probe.
TEST_F(WorkerHardeningTest, BreakerProbeAnswered429DoesNotStickOpen) {
  StartAll("upstream:\n  circuit_breaker: {failures: 1, cooldown: 300ms}\n");
  pid_t worker = OnlyWorker();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 500;
    r.body = R"({"error":{"message":"boom"}})";
    return r;
  });
  EXPECT_EQ(Chat(kHello).status, 502);  // opens the breaker
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 429;
    r.body = R"({"error":{"message":"busy"}})";
    return r;
  });
  EXPECT_EQ(Chat(kHello).status, 429);  // the probe
  upstream_->SetHandler(nullptr);
  // The breaker is still half-open (no verdict), so the next request probes again.
  HttpResponse r = Chat(kHello);
  EXPECT_EQ(r.status, 200) << r.body;
  ExpectHealthy(worker);
}

// 9.5: a big body of tiny parts is refused before it can hold the loop, and
// the memory a large translated request grew is returned afterwards.
TEST_F(WorkerHardeningTest, BigBodiesOfTinyPartsAreBoundedAndMemoryReturns) {
  StartAll();
  pid_t worker = OnlyWorker();
  auto body_with_parts = [](size_t n) {
    std::string parts;
    parts.reserve(n * 28);
    for (size_t i = 0; i < n; ++i)
      parts += std::string(i ? "," : "") + R"({"type":"text","text":"a"})";
    return R"({"model":"openai:gpt-4o","max_tokens":10,"messages":[{"role":"user","content":[)" +
           parts + "]}]}";
  };
  HeaderList anthropic = {{"anthropic-version", "2023-06-01"}};
  long before = RssKiB(worker);
  std::string huge = body_with_parts(500'000);  // ~13 MiB
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = Fetch(router_->port(), "POST", "/v1/messages/count_tokens", huge, anthropic);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_NE(r.body.find("JSON objects"), std::string::npos) << r.body.substr(0, 300);
    r = Fetch(router_->port(), "POST", "/v1/messages", huge, anthropic);  // translated to Chat
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
  }
  std::string edge = body_with_parts(90'000);  // within the budget: served
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = Fetch(router_->port(), "POST", "/v1/messages/count_tokens", edge, anthropic);
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
    r = Fetch(router_->port(), "POST", "/v1/messages", edge, anthropic, 20000);
    EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  long after = RssKiB(worker);
  if (kRssIsMeaningful) {
    EXPECT_LT(after - before, 40 * 1024) << "worker RSS went from " << before << " to " << after;
  }
  ExpectHealthy(worker);
}

// 10.6: model names are bounded; distinct names do not grow the worker.
TEST_F(WorkerHardeningTest, ModelNamesAreBoundedAndDoNotGrowState) {
  StartAll();
  pid_t worker = OnlyWorker();
  HttpResponse r = Chat(R"({"model":"has space","messages":[]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("invalid_model"), std::string::npos) << r.body;
  long before = RssKiB(worker);
  for (int i = 0; i < 150; ++i) {
    std::string model = "openai:" + std::to_string(i) + std::string(256 << 10, 'm');
    r = Chat("{\"model\":\"" + model + "\",\"messages\":[]}");
    ASSERT_EQ(r.status, 400) << r.body.substr(0, 200);
  }
  for (int i = 0; i < 150; ++i) {
    r = Chat("{\"model\":\"openai:distinct-" + std::to_string(i) + "\",\"messages\":[]}");
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 200);
  }
  long after = RssKiB(worker);
  if (kRssIsMeaningful) {
    EXPECT_LT(after - before, 16 * 1024) << "worker RSS grew from " << before << " to " << after;
  }
  ExpectHealthy(worker);
}

// 10.2 (+ the suspected next-address case): connect() failing at once inside
// the attempt must fail over, not hang.
TEST_F(WorkerHardeningTest, SynchronousConnectFailureFailsOver) {
  // A broadcast address: Linux refuses a TCP connect to it at once
  // (ENETUNREACH) without sending a packet.
  StartAll(
      "providers:\n  openai:\n    allow_insecure_http: true\n"
      "models:\n  rescue:\n    strategy: priority\n    endpoints:\n"
      "      - provider: openai\n        model_id: gpt-4o\n"
      "        api_base: http://255.255.255.255:9/v1\n"
      "      - provider: openai\n        model_id: gpt-4o-mini\n");
  pid_t worker = OnlyWorker();
  for (int i = 0; i < 3; ++i) {
    HttpResponse r =
        Chat(R"({"model":"rescue","messages":[{"role":"user","content":"hi"}]})", {}, 8000);
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_NE(r.body.find("gpt-4o-mini"), std::string::npos) << r.body;
  }
  ExpectHealthy(worker);
}

// 10.7: while the client is slow, the upstream idle clock is stopped: our own
// backpressure is never an upstream timeout.
TEST_F(WorkerHardeningTest, SlowClientIsNotAnUpstreamTimeout) {
  StartAll(
      "upstream:\n  timeouts: {idle: 700ms}\n  circuit_breaker: {failures: 1, cooldown: 60s}\n");
  pid_t worker = OnlyWorker();
  std::vector<std::string> words(4000, std::string(3000, 'w'));  // ~12 MiB of SSE
  upstream_->SetHandler([&](const RecordedRequest& req) {
    Reply r;
    r.chunked = true;
    r.content_type = "text/event-stream";
    r.chunks = ChatCompletionSseChunks(JsonStringField(req.body, "model"), words, false);
    return r;
  });
  int fd = ConnectRaw(router_->port(), 4096);
  ASSERT_GE(fd, 0);
  SendAll(fd, BuildRequest("POST", kChatPath,
                           R"({"model":"openai:gpt-4o","stream":true,"messages":[]})",
                           {{"Connection", "close"}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // read nothing meanwhile
  std::string all = ReadAll(fd, 20000);
  ::close(fd);
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos)
      << all.substr(all.size() > 300 ? all.size() - 300 : 0);
  EXPECT_EQ(all.find("upstream_timeout"), std::string::npos);
  upstream_->SetHandler(nullptr);
  ExpectHealthy(worker);  // the breaker (1 failure) did not open
}

// 10.3: an upstream connection whose stream completed in the same read that
// paused it (the client is slow) goes back to the pool reading, so the next
// request on it is answered.
TEST_F(WorkerHardeningTest, PooledConnectionIsReturnedReading) {
  StartAll("upstream:\n  timeouts: {first_byte: 1s}\n");
  pid_t worker = OnlyWorker();
  std::string big = ChatCompletionJson("gpt-4o", std::string(3u << 20, 'b'));
  std::string sse;
  for (const std::string& c : ChatCompletionSseChunks("gpt-4o", {"one", "two"})) sse += c;
  std::string stream_reply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: " +
      std::to_string(sse.size()) + "\r\n\r\n" + sse;
  upstream_->SetHandler([&](const RecordedRequest& req) {
    if (req.body.find("\"big\"") != std::string::npos) {
      Reply r;
      r.body = big;
      return r;
    }
    if (req.body.find("\"stream\":true") != std::string::npos) return Raw(stream_reply);
    return DefaultReply(req);
  });
  // A slow client: a 3 MiB answer it does not read fills its queue, then its
  // pipelined stream arrives whole in one upstream read and pauses it.
  int fd = ConnectRaw(router_->port(), 4096);
  ASSERT_GE(fd, 0);
  SendAll(fd, BuildRequest("POST", kChatPath, R"({"model":"openai:big","messages":[]})") +
                  BuildRequest("POST", kChatPath,
                               R"({"model":"openai:gpt-4o","stream":true,"messages":[]})",
                               {{"Connection", "close"}}));
  ASSERT_TRUE(upstream_->WaitForRequests(2, 5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Another client reuses the pooled connection.
  HttpResponse r = Chat(kHello, {}, 8000);
  EXPECT_EQ(r.status, 200) << r.body;
  std::string all = ReadAll(fd, 20000);
  ::close(fd);
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos);
  upstream_->SetHandler(nullptr);
  ExpectHealthy(worker);
}

// 10.8: a client that never reads is dropped after the send timeout.
TEST_F(WorkerHardeningTest, ClientThatNeverReadsIsDropped) {
  StartAll("server:\n  send_timeout: 500ms\n");
  pid_t worker = OnlyWorker();
  std::string big = "{\"id\":\"x\",\"object\":\"chat.completion\",\"pad\":\"" +
                    std::string(24u << 20, 'p') + "\"}";
  upstream_->SetHandler([&](const RecordedRequest&) {
    Reply r;
    r.body = big;
    return r;
  });
  int fd = ConnectRaw(router_->port(), 4096);
  ASSERT_GE(fd, 0);
  SendAll(fd, BuildRequest("POST", kChatPath, kHello));
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  std::string got = ReadAll(fd, 10000);
  ::close(fd);
  EXPECT_LT(got.size(), big.size()) << "the whole answer was kept for a client that never read";
  EXPECT_NE(router_->Log().find("send timeout"), std::string::npos) << router_->Log();
  upstream_->SetHandler(nullptr);
  ExpectHealthy(worker);
}

// 10.9: the header timeout is for headers; a body that keeps arriving is read,
// a body that stops arriving gets 408 after the body timeout.
TEST_F(WorkerHardeningTest, HeaderTimeoutDoesNotLimitAProgressingBody) {
  StartAll("server:\n  header_timeout: 300ms\n  body_timeout: 400ms\n");
  pid_t worker = OnlyWorker();
  std::string body = kHello;
  int fd = ConnectRaw(router_->port());
  ASSERT_GE(fd, 0);
  std::string head = BuildRequest("POST", kChatPath, body, {{"Connection", "close"}});
  head.resize(head.size() - body.size());
  SendAll(fd, head);
  for (char c : body) {  // ~1.4 s in all, well past the header timeout
    SendAll(fd, std::string_view(&c, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(1400 / body.size()));
  }
  std::string got = ReadAll(fd, 5000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;

  fd = ConnectRaw(router_->port());
  SendAll(fd, head + body.substr(0, 10));  // then silence
  got = ReadAll(fd, 5000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  EXPECT_NE(got.find("request body"), std::string::npos) << got;
  ExpectHealthy(worker);
}

// 9.11: one access line per request, without keys or bodies; can be turned off.
TEST_F(WorkerHardeningTest, AccessLogLinePerRequest) {
  StartAll();
  HttpResponse r = Chat(kHello);
  ASSERT_EQ(r.status, 200);
  std::string id = r.Header("x-bitrouter-request-id");
  EXPECT_EQ(Chat(R"({"model":"nope:none","messages":[]})").status, 404);
  std::string log;
  for (int i = 0; i < 50; ++i) {  // the worker writes log lines from a background thread
    log = router_->Log();
    if (log.find("status=404") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  size_t at = log.find("access id=" + id);
  ASSERT_NE(at, std::string::npos) << log;
  std::string line = log.substr(at, log.find('\n', at) - at);
  for (const char* field :
       {"proto=chat", "model=\"openai:gpt-4o\"", "endpoint=\"openai:gpt-4o\"", "status=200",
        "attempts=1", "bytes_in=", "bytes_out=", "ttfb_ms=", "duration_ms="}) {
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  }
  EXPECT_EQ(line.find("hi"), std::string::npos) << "no body in the access log: " << line;
  EXPECT_NE(log.find("status=404"), std::string::npos) << log;
}

TEST_F(WorkerHardeningTest, AccessLogCanBeTurnedOff) {
  StartAll("server:\n  access_log: false\n");
  ASSERT_EQ(Chat(kHello).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(router_->Log().find("access id="), std::string::npos) << router_->Log();
}

}  // namespace
}  // namespace bitrouter::testing
