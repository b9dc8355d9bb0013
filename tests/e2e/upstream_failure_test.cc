// Upstreams that fail: refused, hung, reset, broken chunked, and TLS with and
// without a trusted certificate. A failure before the response head keeps
// its real status; a failure after it is never reported as a success.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/tls_cert.h"

namespace bitrouter::testing {
namespace {

constexpr char kShortTimeouts[] = R"(
upstream:
  timeouts:
    connect: 2s
    first_byte: 400ms
    idle: 400ms
)";

constexpr char kStreamBody[] = R"({"model":"openai:gpt-4o","stream":true,"messages":[]})";
constexpr char kJsonBody[] = R"({"model":"openai:gpt-4o","messages":[]})";

using UpstreamFailureTest = RouterTest;

TEST(UpstreamConnectTest, RefusedConnectionIs502) {
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey},
           {"OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(UnusedLoopbackPort()) + "/v1"}};
  RouterProcess router(o);
  std::string error;
  ASSERT_TRUE(router.Start(&error)) << error;
  HttpResponse r = Fetch(router.port(), "POST", kChatPath, kJsonBody);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find(R"("code":"upstream_connect_failed")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("connection refused"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(kTestKey), std::string::npos);
  EXPECT_EQ(router.Stop(), 0);
}

TEST_F(UpstreamFailureTest, HungUpstreamIs504) {
  StartAll(kShortTimeouts);
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kHang;
    return r;
  });
  HttpResponse r = Chat(kJsonBody);
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find(R"("code":"upstream_timeout")"), std::string::npos) << r.body;
  upstream_->SetHandler(nullptr);
  EXPECT_EQ(Chat(kJsonBody).status, 200);
}

TEST_F(UpstreamFailureTest, ResetBeforeResponseIs502) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kResetBeforeResponse;
    return r;
  });
  HttpResponse r = Chat(kJsonBody);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("upstream_error"), std::string::npos) << r.body;
}

TEST_F(UpstreamFailureTest, ResetMidJsonBodyIsCaughtBeforeAnythingIsSent) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kResetMidBody;
    r.body = std::string(4000, 'x');
    return r;
  });
  // A JSON answer is validated whole before it is committed, so a cut body
  // is a failed attempt (502 here: there is no other endpoint), never a
  // truncated 200.
  HttpResponse r = Chat(kJsonBody);
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("connection reset"), std::string::npos) << r.body;
}

TEST_F(UpstreamFailureTest, TerminalWordsInAnswerTextDoNotEndACutStream) {
  StartAll();
  // An agent asks about SSE: the answer text holds the very words that end
  // a stream (`data: [DONE]`, `"finish_reason":"stop"` escaped), then the
  // upstream is cut. The client must see the cut, not a clean end.
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kResetMidBody;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"end with data: [DONE] "
        "after \\\"finish_reason\\\":\\\"stop\\\" and message_stop\"}}]}\n\n"};
    return r;
  });
  HttpResponse r = Chat(kStreamBody);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a cut stream must not end with the terminal chunk";
  EXPECT_NE(r.body.find("data: {\"error\":{"), std::string::npos) << r.body;
}

TEST_F(UpstreamFailureTest, BrokenChunkedStreamEndsWithAnErrorEventAndNoTerminator) {
  StartAll();
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kBrokenChunked;
    r.content_type = "text/event-stream";
    r.chunks = {"data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"};
    return r;
  });
  HttpResponse r = Chat(kStreamBody);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a failed stream must not end with the terminal chunk";
  EXPECT_NE(r.body.find("data: {\"choices\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("data: {\"error\":{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("malformed HTTP response"), std::string::npos) << r.body;
}

TEST_F(UpstreamFailureTest, StalledStreamHitsTheIdleTimeout) {
  StartAll(kShortTimeouts);
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    // A content event first: after it only the idle gap is timed.
    r.chunks = {"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n",
                "data: [DONE]\n\n"};
    r.delay_between_chunks_ms = 3000;  // longer than idle: 400ms
    return r;
  });
  HttpResponse r = Chat(kStreamBody);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.body.find("upstream_timeout"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

class TlsUpstreamTest : public RouterTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br-cert-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string error;
    ASSERT_TRUE(GenerateSelfSignedCert(dir_, &cert_, &key_, &error)) << error;
  }
  void TearDown() override {
    RouterTest::TearDown();
    unlink(cert_.c_str());
    unlink(key_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, cert_, key_;
};

TEST_F(TlsUpstreamTest, TrustedSelfSignedUpstreamServesJsonAndStreams) {
  StartAll("upstream:\n  ca_file: " + cert_ + "\n", 1, {true, cert_, key_});
  ASSERT_EQ(upstream_->base_url().rfind("https://", 0), 0u);
  HttpResponse r = Chat(kJsonBody);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, ChatCompletionJson("gpt-4o", "Hello from fake upstream"));
  HttpResponse s = Chat(kStreamBody);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_TRUE(s.complete);
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos);
  // Both went over one pooled TLS connection.
  EXPECT_EQ(upstream_->connections_accepted(), 1);
}

TEST_F(TlsUpstreamTest, HostNameIsResolvedVerifiedAndSentAsSni) {
  // "localhost" goes through async DNS, SNI and certificate host-name checks.
  upstream_ = std::make_unique<FakeUpstream>(FakeUpstream::Options{true, cert_, key_});
  ASSERT_TRUE(upstream_->Start());
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey},
           {"OPENAI_BASE_URL", "https://localhost:" + std::to_string(upstream_->port()) + "/v1"}};
  o.config_yaml = "upstream:\n  ca_file: " + cert_ + "\n";
  router_ = std::make_unique<RouterProcess>(o);
  std::string error;
  ASSERT_TRUE(router_->Start(&error)) << error;
  HttpResponse r = Chat(kJsonBody);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(upstream_->request_count(), 1u);
  EXPECT_EQ(upstream_->requests()[0].Header("host"),
            "localhost:" + std::to_string(upstream_->port()));
}

TEST_F(TlsUpstreamTest, UntrustedCertificateIs502) {
  StartAll("", 1, {true, cert_, key_});
  HttpResponse r = Chat(kJsonBody);
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find(R"("code":"upstream_tls_failed")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("certificate verify failed"), std::string::npos) << r.body;
  EXPECT_EQ(upstream_->request_count(), 0u);
}

}  // namespace
}  // namespace bitrouter::testing
