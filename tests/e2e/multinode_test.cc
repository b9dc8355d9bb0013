// Issue 15, several nodes: two bitrouterd sharing one PostgreSQL (a real
// server the test starts from the Debian package, on a Unix socket in a temp
// directory). A key created on one node is enforced on the other within a
// second; a budget holds across both under concurrent load; usage from both
// is visible on either; the database stopped mid-load never fails a request,
// and once it is back the usage queued meanwhile is written.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/keys_fixture.h"
#include "tests/e2e/usage_answers.h"
#include "tests/support/pg_server.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

// "requests":N in `usage --json`'s total row, less its "errors":N (the
// refusals while a node waited for its share of a budget).
int64_t Requests(const std::string& json) {
  size_t at = json.find("\"requests\":");
  size_t err = json.find("\"errors\":");
  if (at == std::string::npos || err == std::string::npos) return -1;
  return std::atoll(json.c_str() + at + 11) - std::atoll(json.c_str() + err + 9);
}

class MultiNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = PgServer::Start();
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = std::move(*pg);
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler([this](const RecordedRequest& req) {
      Reply r = usage_answers::Answer(req);
      r.delay_before_headers_ms = delay_ms_.load();
      return r;
    });
    for (int i = 0; i < 2; ++i) {
      RouterProcess::Options o;
      const std::string base = upstream_->base_url();
      o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", base}};
      o.config_yaml =
          "server:\n  skip_auth: false\nproviders:\n  oai:\n    api_protocol: openai\n"
          "    api_base: " +
          base + "\n    api_key: key-oai\n    models:\n      m-chat:\n" + kKeysPricing;
      o.workers = 2;
      o.extra_args = {"--db", pg_->url()};
      nodes_.push_back(std::make_unique<RouterProcess>(o));
      std::string error;
      ASSERT_TRUE(nodes_.back()->Start(&error)) << error;
    }
  }
  void TearDown() override {
    for (auto& n : nodes_) {
      int code = n->Stop();
      EXPECT_EQ(code, 0) << n->Log();
      std::string log = n->Log();
      EXPECT_EQ(log.find("ERROR: AddressSanitizer"), std::string::npos) << log;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << log;
      EXPECT_EQ(log.find(kTestKey), std::string::npos) << log;
    }
    nodes_.clear();
    if (upstream_ != nullptr) upstream_->Stop();
  }

  std::string CreateKey(RouterProcess& node, std::vector<std::string> args, std::string* id) {
    std::vector<std::string> all = {"key", "create", "--json"};
    all.insert(all.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(node.Ctl(all, &out), 0) << out;
    if (id != nullptr) *id = JsonField(out, "id");
    return JsonField(out, "secret");
  }
  static std::string Body() {
    return R"({"model":"oai:m-chat","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})";
  }
  int Post(RouterProcess& node, const std::string& secret) {
    return Fetch(node.port(), "POST", kChatPath, Body(), {{"Authorization", "Bearer " + secret}},
                 20000)
        .status;
  }

  std::unique_ptr<PgServer> pg_;
  std::unique_ptr<FakeUpstream> upstream_;
  std::vector<std::unique_ptr<RouterProcess>> nodes_;
  std::atomic<int> delay_ms_{0};
};

TEST_F(MultiNodeTest, AKeyMadeOnOneNodeWorksOnTheOtherAndUsageIsShared) {
  RouterProcess& a = *nodes_[0];
  RouterProcess& b = *nodes_[1];
  std::string id;
  std::string secret = CreateKey(a, {"--name", "roamer"}, &id);
  EXPECT_EQ(Post(a, secret), 200);
  // Node b polls the store every 500 ms: within a second it serves the key.
  EXPECT_TRUE(WaitUntil([&] { return Post(b, secret) == 200; }, 1500));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post(b, secret), 200);
  // Usage from both nodes, seen from either.
  std::string out;
  EXPECT_TRUE(WaitUntil(
      [&] {
        a.Ctl({"usage", "--json"}, &out);
        return Requests(out) >= 5;  // successes
      },
      5000))
      << out;
  ASSERT_EQ(b.Ctl({"requests", "--key", id, "--json"}, &out), 0) << out;
  size_t rows = 0;
  for (size_t at = out.find("\"key_id\":\"" + id); at != std::string::npos;
       at = out.find("\"key_id\":\"" + id, at + 1)) {
    ++rows;
  }
  EXPECT_GE(rows, 5u) << out;
  // Revoked on b: refused on a within a second.
  ASSERT_EQ(b.Ctl({"key", "revoke", "roamer"}, &out), 0) << out;
  EXPECT_EQ(Post(b, secret), 401);
  EXPECT_TRUE(WaitUntil([&] { return Post(a, secret) == 401; }, 1500));
}

TEST_F(MultiNodeTest, ABudgetHoldsAcrossBothNodesUnderConcurrentLoad) {
  delay_ms_ = 200;  // a wave of requests is in flight at once on both nodes
  std::string secret = CreateKey(*nodes_[0], {"--name", "shared", "--budget-usd", "0.01"}, nullptr);
  // The other node learns the key within a second and has its share of the
  // budget once the first node renewed its lease (idle: every second).
  ASSERT_TRUE(WaitUntil([&] { return Post(*nodes_[1], secret) == 200; }, 4000))
      << Fetch(nodes_[1]->port(), "POST", kChatPath, Body(),
               {{"Authorization", "Bearer " + secret}})
             .body;
  std::atomic<int> ok{1}, refused{0}, other{0};
  for (int wave = 0; wave < 5; ++wave) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] {
        int s = Post(*nodes_[i % 2], secret);
        (s == 200 ? ok : s == 402 ? refused : other)++;
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(refused.load(), 0);
  // The leases of both nodes plus the stored spend never pass the budget,
  // and each request costs less than the worst case it reserved.
  EXPECT_LE(ok.load() * kAnswerCost, 10'000) << ok.load() << " requests served";
  EXPECT_GE(ok.load(), 8);
  // Neither node strands what the other does not use: one at a time, the
  // budget is spent down to less than one worst case (~1,100) on either.
  delay_ms_ = 0;
  for (int i = 0; i < 40; ++i) {
    int s = Post(*nodes_[i % 2], secret);
    if (s == 200) ++ok;
    if (s != 200) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a lease renewal
      if (Post(*nodes_[i % 2], secret) == 200) {
        ++ok;
        continue;
      }
      if (Post(*nodes_[(i + 1) % 2], secret) == 200) {
        ++ok;
        continue;
      }
      break;
    }
  }
  EXPECT_LE(ok.load() * kAnswerCost, 10'000);
  EXPECT_GE(ok.load() * kAnswerCost, 10'000 - 2 * 1'200) << ok.load();
}

TEST_F(MultiNodeTest, TheDatabaseStoppedMidLoadFailsNoRequestAndUsageIsWrittenWhenBack) {
  std::string secret = CreateKey(*nodes_[0], {"--name", "steady", "--budget-usd", "100"}, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return Post(*nodes_[1], secret) == 200; }, 4000));
  int sent = 1;
  for (int i = 0; i < 10; ++i, ++sent) ASSERT_EQ(Post(*nodes_[i % 2], secret), 200);
  ASSERT_TRUE(pg_->Stop().ok());
  // Requests keep succeeding on both nodes while the store is down.
  for (int i = 0; i < 20; ++i, ++sent) {
    EXPECT_EQ(Post(*nodes_[i % 2], secret), 200) << "request " << i << " during the outage";
  }
  // Both nodes say so.
  std::string out;
  EXPECT_TRUE(WaitUntil(
      [&] {
        nodes_[0]->Ctl({"status"}, &out);
        return out.find("UNAVAILABLE") != std::string::npos;
      },
      15000))
      << out;
  HttpResponse metrics = Fetch(nodes_[1]->port(), "GET", "/metrics");
  EXPECT_TRUE(WaitUntil(
      [&] {
        metrics = Fetch(nodes_[1]->port(), "GET", "/metrics");
        return ParsePrometheusText(metrics.body).Sum("bitrouter_store_up") == 0;
      },
      15000))
      << metrics.body;
  ASSERT_TRUE(pg_->StartAgain().ok());
  for (int i = 0; i < 4; ++i, ++sent) EXPECT_EQ(Post(*nodes_[i % 2], secret), 200);
  // Every request of both nodes reaches the shared store.
  EXPECT_TRUE(WaitUntil(
      [&] {
        nodes_[1]->Ctl({"usage", "--json"}, &out);
        return Requests(out) == sent;
      },
      20000))
      << out << " expected " << sent;
  EXPECT_TRUE(WaitUntil(
      [&] {
        nodes_[0]->Ctl({"status"}, &out);
        return out.find("UNAVAILABLE") == std::string::npos;
      },
      10000))
      << out;
}

}  // namespace
}  // namespace bitrouter::testing
