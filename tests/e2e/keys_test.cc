// Issue 15 through the real binaries: virtual keys issued by bitrouterctl,
// enforced by every worker from its snapshot (401 / 403 / 429 / 402 in the
// client's shape), revocation reaching every worker at once, RPM exact for
// the node under concurrent load on two workers, budgets exact under
// concurrency (spend never passes the budget, since each request's real cost
// is below the worst case it reserved), skip_auth refused off loopback.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/keys_fixture.h"
#include "tests/e2e/usage_answers.h"

namespace bitrouter::testing {
namespace {

struct Key {
  std::string id;
  std::string secret;
};

class KeysTest : public RouterTest {
 protected:
  void StartKeys(const std::string& server_yaml = "  skip_auth: false\n", int workers = 2,
                 int delay_ms = 0, bool listen_flag = true) {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler([delay_ms](const RecordedRequest& req) {
      Reply r = usage_answers::Answer(req);
      r.delay_before_headers_ms = delay_ms;
      return r;
    });
    const std::string base = upstream_->base_url();
    RouterProcess::Options o;
    o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", base}};
    o.config_yaml = "server:\n" + server_yaml +
                    "providers:\n"
                    "  oai:\n    api_protocol: openai\n    api_base: " +
                    base + "\n    api_key: key-oai\n    models:\n      m-chat:\n" + kKeysPricing +
                    "      m-free: {}\n"
                    "  ant:\n    api_protocol: anthropic\n    api_base: " +
                    base + "\n    api_key: key-ant\n    models:\n      m-msg:\n" + kKeysPricing +
                    "models:\n  mixed:\n    endpoints:\n"
                    "      - {provider: oai, model_id: m-chat}\n"
                    "      - {provider: ant, model_id: m-msg}\n";
    o.workers = workers;
    o.listen_flag = listen_flag;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }

  Key Create(std::vector<std::string> args) {
    std::vector<std::string> all = {"key", "create", "--json"};
    all.insert(all.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(router_->Ctl(all, &out), 0) << out;
    Key k{JsonField(out, "id"), JsonField(out, "secret")};
    EXPECT_EQ(k.secret.rfind("brvk_", 0), 0u) << out;
    EXPECT_EQ(k.secret.size(), 48u) << out;
    return k;
  }

  static std::string Body(const std::string& model, int max_tokens = 50) {
    return R"({"model":")" + model + R"(","max_tokens":)" + std::to_string(max_tokens) +
           R"(,"messages":[{"role":"user","content":"hi"}]})";
  }
  HttpResponse As(const Key& k, const std::string& model = "oai:m-chat") {
    return Chat(Body(model), {{"Authorization", "Bearer " + k.secret}});
  }
};

TEST_F(KeysTest, EveryCredentialStyleOnEveryInferenceEndpointAnd401sWithAChallenge) {
  StartKeys();
  Key k = Create({"--name", "agent-1"});
  // No key, a wrong key, a key that is not ours: 401 with the challenge, in
  // the client's shape.
  for (const HeaderList& h : {HeaderList{}, HeaderList{{"Authorization", "Bearer brvk_nope"}},
                              HeaderList{{"Authorization", "Bearer sk-someone-else"}}}) {
    HttpResponse r = Chat(Body("oai:m-chat"), h);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer realm=\"bitrouter\"");
    EXPECT_NE(r.body.find("\"authentication_error\""), std::string::npos) << r.body;
  }
  HttpResponse msg401 = Fetch(router_->port(), "POST", "/v1/messages", Body("oai:m-chat"));
  EXPECT_EQ(msg401.status, 401);
  EXPECT_NE(msg401.body.find("\"type\":\"error\""), std::string::npos) << msg401.body;

  EXPECT_EQ(As(k).status, 200);
  // Model lists and token counts need the key too; /health and /metrics do not.
  EXPECT_EQ(Fetch(router_->port(), "GET", "/v1/models").status, 401);
  EXPECT_EQ(Fetch(router_->port(), "GET", "/v1/models", "", {{"x-api-key", k.secret}}).status, 200);
  EXPECT_EQ(Fetch(router_->port(), "POST", "/v1/messages/count_tokens", Body("ant:m-msg")).status,
            401);
  EXPECT_EQ(Fetch(router_->port(), "GET", "/health").status, 200);
  EXPECT_EQ(Fetch(router_->port(), "GET", "/metrics").status, 200);
  EXPECT_EQ(Fetch(router_->port(), "POST", "/v1/messages", Body("ant:m-msg"),
                  {{"x-api-key", k.secret}, {"anthropic-version", "2023-06-01"}})
                .status,
            200);
  EXPECT_EQ(
      Fetch(router_->port(), "POST", "/v1/responses", R"({"model":"oai:m-chat","input":"hi"})",
            {{"Authorization", "Bearer " + k.secret}})
          .status,
      200);
  const std::string gemini = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";
  EXPECT_EQ(Fetch(router_->port(), "POST", "/v1beta/models/oai:m-chat:generateContent", gemini,
                  {{"x-goog-api-key", k.secret}})
                .status,
            200);
  EXPECT_EQ(Fetch(router_->port(), "POST",
                  "/v1beta/models/oai:m-chat:generateContent?key=" + k.secret, gemini)
                .status,
            200);
  // The secret is never logged; the list shows its prefix only.
  std::string out;
  ASSERT_EQ(router_->Ctl({"key", "list"}, &out), 0) << out;
  EXPECT_NE(out.find("agent-1"), std::string::npos) << out;
  EXPECT_EQ(out.find(k.secret), std::string::npos) << out;
  EXPECT_NE(out.find(k.secret.substr(0, 12)), std::string::npos) << out;
  EXPECT_EQ(router_->Log().find(k.secret), std::string::npos);
  // Records carry the key's id: usage --by key and requests --key.
  EXPECT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"usage", "--by", "key", "--json"}, &out);
        return out.find("\"group\":\"" + k.id + "\"") != std::string::npos;
      },
      5000))
      << out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"requests", "--key", k.id, "--json"}, &out);
        return out.find("\"key_id\":\"" + k.id + "\"") != std::string::npos;
      },
      5000))
      << out;
  ASSERT_EQ(router_->Ctl({"requests", "--key", "key_0000000000000000", "--json"}, &out), 0);
  EXPECT_EQ(out.find("\"key_id\""), std::string::npos) << out;
}

TEST_F(KeysTest, RevokedAndUpdatedKeysAreEnforcedByEveryWorkerAtOnce) {
  StartKeys("  skip_auth: false\n", /*workers=*/3);
  Key k = Create({"--name", "short-lived"});
  for (int i = 0; i < 12; ++i) ASSERT_EQ(As(k).status, 200);
  std::string out;
  ASSERT_EQ(router_->Ctl({"key", "update", "short-lived", "--models", "ant:*"}, &out), 0) << out;
  // When ctl returns every worker ACKed the snapshot: each new connection
  // (spread over the three workers) sees the change.
  for (int i = 0; i < 12; ++i) {
    HttpResponse r = As(k);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_NE(r.body.find("outside this key's scope"), std::string::npos) << r.body;
  }
  ASSERT_EQ(router_->Ctl({"key", "revoke", k.id}, &out), 0) << out;
  EXPECT_NE(out.find("revoked"), std::string::npos) << out;
  for (int i = 0; i < 12; ++i) EXPECT_EQ(As(k, "ant:m-msg").status, 401);
  ASSERT_EQ(router_->Ctl({"key", "show", k.id, "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"state\":\"revoked\""), std::string::npos) << out;
  EXPECT_NE(router_->Ctl({"key", "revoke", k.id}, &out), 0) << "revoked twice";
}

TEST_F(KeysTest, ScopeCoversEveryEndpointAModelResolvesToRuntimeRoutesIncluded) {
  StartKeys();
  Key k = Create({"--name", "oai-only", "--models", "oai:m-*"});
  EXPECT_EQ(As(k, "oai:m-chat").status, 200);
  EXPECT_EQ(As(k, "m-chat").status, 200) << "a bare catalog id resolves to oai:m-chat";
  // A virtual model whose second endpoint is outside the scope: refused,
  // even though the first would serve.
  HttpResponse mixed = As(k, "mixed");
  EXPECT_EQ(mixed.status, 403) << mixed.body;
  EXPECT_NE(mixed.body.find("ant:m-msg"), std::string::npos) << mixed.body;
  EXPECT_EQ(As(k, "ant:m-msg").status, 403);
  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "add", "sneaky", "ant:m-msg"}, &out), 0) << out;
  EXPECT_EQ(As(k, "sneaky").status, 403) << "a runtime route cannot widen a key";
  ASSERT_EQ(router_->Ctl({"route", "add", "fine", "oai:m-chat"}, &out), 0) << out;
  EXPECT_EQ(As(k, "fine").status, 200);
  EXPECT_EQ(upstream_->request_count(), 3u) << "refused requests never went upstream";
}

TEST_F(KeysTest, AnExpiredKeyIs401) {
  StartKeys();
  Key k = Create({"--name", "brief", "--expires", "2s"});
  EXPECT_EQ(As(k).status, 200);
  ASSERT_TRUE(WaitUntil([&] { return As(k).status == 401; }, 4000));
  HttpResponse r = As(k);
  EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
  std::string out;
  ASSERT_EQ(router_->Ctl({"key", "show", "brief", "--json"}, &out), 0) << out;
  EXPECT_NE(out.find("\"state\":\"expired\""), std::string::npos) << out;
}

// Runs `n` requests at once, each on its own connection; returns the statuses.
std::vector<int> Burst(int port, int n, const std::string& body, const HeaderList& headers,
                       std::vector<std::string>* retry_after = nullptr) {
  std::vector<int> statuses(n);
  std::vector<std::string> retry(n);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      HttpResponse r = Fetch(port, "POST", kChatPath, body, headers, 20000);
      statuses[i] = r.status;
      retry[i] = r.Header("Retry-After");
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  if (retry_after != nullptr) *retry_after = retry;
  return statuses;
}

TEST_F(KeysTest, RpmIsOneLimitForTheNodeAcrossWorkers) {
  StartKeys("  skip_auth: false\n", /*workers=*/2);
  Key k = Create({"--name", "ten-a-minute", "--rpm", "10"});
  std::vector<std::string> retry;
  std::vector<int> statuses = Burst(router_->port(), 40, KeysTest::Body("oai:m-chat"),
                                    {{"Authorization", "Bearer " + k.secret}}, &retry);
  int ok = 0, limited = 0;
  for (size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == 200) ++ok;
    if (statuses[i] == 429) {
      ++limited;
      EXPECT_FALSE(retry[i].empty()) << "429 without Retry-After";
      EXPECT_GE(std::atoi(retry[i].c_str()), 1);
      EXPECT_LE(std::atoi(retry[i].c_str()), 7) << "the next slot opens 6 s later";
    }
  }
  // Exactly ten, not ten per worker.
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(limited, 30);
  // Another key has its own limit.
  Key other = Create({"--name", "other", "--rpm", "10"});
  EXPECT_EQ(As(other).status, 200);
}

TEST_F(KeysTest, TpmAdmitsWhileTheMinutesTokensLastThenWaits) {
  StartKeys("  skip_auth: false\n", /*workers=*/2);
  // Each answer uses 120 tokens (prompt 100 + completion 20): at 200 per
  // minute the first two are admitted (the second one puts the key in
  // debt), the third waits until the debt has drained (~12 s).
  Key k = Create({"--name", "tokens", "--tpm", "200"});
  // (A worker charges the tokens just after writing the answer: a pause
  // between requests keeps this client from overtaking it.)
  EXPECT_EQ(As(k).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(As(k).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  HttpResponse r = As(k);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("200 tokens per minute"), std::string::npos) << r.body;
  int wait = std::atoi(r.Header("Retry-After").c_str());
  EXPECT_GE(wait, 10);
  EXPECT_LE(wait, 13);
  EXPECT_EQ(upstream_->request_count(), 2u);
}

TEST_F(KeysTest, BudgetIsExactUnderConcurrencyAcrossWorkers) {
  // Each answer is held 300 ms, so a wave of requests is in flight at once.
  StartKeys("  skip_auth: false\n", /*workers=*/2, /*delay_ms=*/300);
  // 10,000 micro-USD. Each request reserves about 1,100 (26 prompt tokens at
  // 4 + 50 output tokens at 20) and costs 410.
  Key k = Create({"--name", "capped", "--budget-usd", "0.01"});
  const HeaderList auth = {{"Authorization", "Bearer " + k.secret}};
  int ok = 0, refused = 0;
  for (int wave = 0; wave < 4; ++wave) {
    for (int s : Burst(router_->port(), 16, KeysTest::Body("oai:m-chat"), auth)) {
      ok += s == 200;
      refused += s == 402;
      EXPECT_TRUE(s == 200 || s == 402) << s;
    }
  }
  // The bound: spend never passes the budget (every admitted request's real
  // cost is below what it reserved).
  EXPECT_LE(ok * kAnswerCost, 10'000);
  EXPECT_GE(ok, 9) << "the first wave fits nine worst cases";
  EXPECT_GT(refused, 0) << "waves of 16 do not fit";
  // One at a time, requests are admitted while spend + a worst case fits:
  // 21 x 410 + ~1,100 <= 10,000 < 22 x 410 + ~1,100, so exactly 22 in all.
  HttpResponse last;
  for (int i = 0; i < 30; ++i) {
    last = As(k);
    if (last.status != 200) {
      // A worker settles a request just after writing its answer; give a
      // settlement that lost the race with this client a moment.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      last = As(k);
      if (last.status != 200) break;
    }
    ++ok;
  }
  EXPECT_EQ(last.status, 402) << last.body;
  EXPECT_NE(last.body.find("budget"), std::string::npos);
  EXPECT_NE(last.body.find("\"insufficient_quota\""), std::string::npos) << last.body;
  EXPECT_EQ(ok, 22);
  // What key show reports is what the records say the requests cost.
  char spent[64];
  std::snprintf(spent, sizeof(spent), "\"spent_usd\":%.6f", ok * kAnswerCost / 1e6);
  std::string out;
  ASSERT_EQ(router_->Ctl({"key", "show", "capped", "--json"}, &out), 0) << out;
  EXPECT_NE(out.find(spent), std::string::npos) << out;
  EXPECT_NE(out.find("\"reserved_usd\":0.000000"), std::string::npos) << out;
}

TEST_F(KeysTest, ABudgetKeyIsRefusedAModelWithoutAPriceAndSaysSo) {
  StartKeys();
  std::string out;
  ASSERT_EQ(router_->Ctl({"key", "create", "--name", "priced", "--budget-usd", "1"}, &out), 0);
  EXPECT_NE(out.find("cannot be enforced"), std::string::npos) << out;
  EXPECT_NE(out.find("oai:m-free"), std::string::npos) << out;
  Key k{JsonField(out, "id"), out.substr(0, out.find('\n'))};
  HttpResponse r = As(k, "oai:m-free");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("no known price"), std::string::npos) << r.body;
  EXPECT_EQ(As(k, "oai:m-chat").status, 200);
}

TEST_F(KeysTest, SkipAuthIsRefusedOffLoopbackAtStartAndOnReload) {
  RouterProcess::Options o;
  o.extra_args = {};
  o.listen_flag = false;
  o.config_yaml = "server:\n  listen: 0.0.0.0:0\n";
  RouterProcess refused(o);
  EXPECT_EQ(refused.RunToExit(), 2);
  EXPECT_NE(refused.Log().find("skip_auth"), std::string::npos) << refused.Log();
  EXPECT_NE(refused.Log().find("loopback"), std::string::npos) << refused.Log();

  // A running loopback router refuses a reload onto 0.0.0.0 with skip_auth
  // (the config names the listener: no --listen flag overrides it).
  StartKeys("  listen: 127.0.0.1:0\n  skip_auth: true\n", 1, 0, /*listen_flag=*/false);
  {
    std::ofstream f(router_->home() + "/bitrouter.yaml");
    f << "server:\n  listen: 0.0.0.0:0\n  skip_auth: true\n";
  }
  std::string out;
  EXPECT_NE(router_->Ctl({"reload"}, &out), 0) << out;
  EXPECT_NE(out.find("skip_auth"), std::string::npos) << out;
  EXPECT_EQ(Chat(Body("oai:m-chat")).status, 200) << "still serving the old config";
}

}  // namespace
}  // namespace bitrouter::testing
