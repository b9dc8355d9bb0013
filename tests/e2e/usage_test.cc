// Issue 14 through the real binaries: one usage record per request, written
// by bitrouterd into its SQLite store from the workers' batches, with the
// tokens the fake upstream reported and the cost the catalog prices give,
// for each client protocol against an upstream of each protocol, streamed
// and not; estimates when the client leaves; failover attempts; the
// include_usage the router adds to a Chat stream; a stalled store that
// drops and counts while requests keep succeeding; retention.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controld/store/sqlite_store.h"
#include "shared/common/wall_clock.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/usage_answers.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

using store::UsageRecord;

// Prices per million tokens: input 2, cache read 1, cache write 4, output
// 10, reasoning 20 (so each token in a bucket is that many micro-USD).
constexpr char kPricing[] =
    "        pricing:\n"
    "          input_tokens: {no_cache: 2, cache_read: 1, cache_write: 4}\n"
    "          output_tokens: {text: 10, reasoning: 20}\n";

std::string Provider(const std::string& name, const std::string& protocol, const std::string& base,
                     const std::string& model) {
  return "  " + name + ":\n    api_protocol: " + protocol + "\n    api_base: " + base +
         "\n    api_key: key-" + name + "\n    models:\n      " + model + ":\n" + kPricing;
}

enum class Client { kChat, kResponses, kMessages, kGemini };

struct Upstream {
  std::string model;     // as the client names it
  std::string protocol;  // as the record names it
  std::string provider;
  std::string upstream_model;
  int64_t cache_read, cache_write, reasoning, cost;
};

// Every upstream reports prompt 100 and completion 20 (usage_answers.h).
const std::vector<Upstream>& Upstreams() {
  static const std::vector<Upstream> u = {
      // uncached 60x2 + read 40x1 + text 15x10 + reasoning 5x20
      {"oai:m-chat", "chat", "oai", "m-chat", 40, 0, 5, 410},
      // uncached 60x2 + read 30x1 + write 10x4 + text 20x10
      {"ant:m-msg", "messages", "ant", "m-msg", 30, 10, 0, 390},
      {"rsp:m-resp", "responses", "rsp", "m-resp", 40, 0, 5, 410},
      {"gem:m-gem", "gemini", "gem", "m-gem", 40, 0, 5, 410},
  };
  return u;
}

class UsageTest : public RouterTest {
 protected:
  void StartUsage(const std::string& extra_yaml = "", int workers = 2,
                  std::map<std::string, std::string> env = {}) {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler(usage_answers::Answer);
    const std::string base = upstream_->base_url();
    RouterProcess::Options o;
    o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", base}};
    for (auto& [k, v] : env) o.env[k] = v;
    o.config_yaml = "providers:\n" + Provider("oai", "openai", base, "m-chat") +
                    Provider("ant", "anthropic", base, "m-msg") +
                    Provider("rsp", "openai_responses", base, "m-resp") +
                    Provider("gem", "google", base, "m-gem") + extra_yaml;
    o.workers = workers;
    o.home = home_;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }

  std::string DbPath() const { return router_->home() + "/bitrouter.db"; }

  std::vector<UsageRecord> Records() {
    store::SqliteStore db(DbPath());
    if (!db.Open().ok()) return {};
    auto rows = db.Newest(100000, {});
    return rows.ok() ? *rows : std::vector<UsageRecord>{};
  }

  // Waits (bounded) for the record of `request_id`.
  std::optional<UsageRecord> RecordOf(const std::string& request_id, int timeout_ms = 5000) {
    std::optional<UsageRecord> found;
    WaitUntil(
        [&] {
          for (UsageRecord& r : Records()) {
            if (r.request_id == request_id) {
              found = std::move(r);
              return true;
            }
          }
          return false;
        },
        timeout_ms);
    return found;
  }

  // One request of `client` protocol for `model`, with request id `id`.
  HttpResponse Send(Client client, const std::string& model, bool stream, const std::string& id,
                    int timeout_ms = 10000) {
    HeaderList h = {{"x-bitrouter-request-id", id}};
    std::string s = stream ? "true" : "false";
    switch (client) {
      case Client::kChat:
        return Fetch(router_->port(), "POST", "/v1/chat/completions",
                     R"({"model":")" + model + R"(","stream":)" + s +
                         R"(,"messages":[{"role":"user","content":"hi"}]})",
                     h, timeout_ms);
      case Client::kResponses:
        return Fetch(router_->port(), "POST", "/v1/responses",
                     R"({"model":")" + model + R"(","stream":)" + s + R"(,"input":"hi"})", h,
                     timeout_ms);
      case Client::kMessages:
        h.push_back({"anthropic-version", "2023-06-01"});
        return Fetch(router_->port(), "POST", "/v1/messages",
                     R"({"model":")" + model + R"(","stream":)" + s +
                         R"(,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]})",
                     h, timeout_ms);
      case Client::kGemini:
        return Fetch(router_->port(), "POST",
                     "/v1beta/models/" + model +
                         (stream ? ":streamGenerateContent?alt=sse" : ":generateContent"),
                     R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})", h, timeout_ms);
    }
    return {};
  }

  std::string home_;  // set to reuse a home (restart and retention tests)
};

TEST_F(UsageTest, EveryClientProtocolAgainstEveryUpstreamStreamedAndNot) {
  StartUsage();
  const Client clients[] = {Client::kChat, Client::kResponses, Client::kMessages, Client::kGemini};
  const char* client_names[] = {"chat", "responses", "messages", "gemini"};
  int n = 0;
  for (int c = 0; c < 4; ++c) {
    for (const Upstream& up : Upstreams()) {
      for (bool stream : {false, true}) {
        std::string id = "req-" + std::to_string(++n);
        SCOPED_TRACE(std::string(client_names[c]) + " -> " + up.protocol +
                     (stream ? " stream" : " json") + " " + id);
        HttpResponse r = Send(clients[c], up.model, stream, id);
        ASSERT_EQ(r.status, 200) << r.body;
        ASSERT_TRUE(r.complete);
        std::optional<UsageRecord> rec = RecordOf(id);
        ASSERT_TRUE(rec.has_value()) << router_->Log();
        EXPECT_EQ(rec->client_protocol, client_names[c]);
        EXPECT_EQ(rec->model_requested, up.model);
        EXPECT_EQ(rec->provider, up.provider);
        EXPECT_EQ(rec->upstream_model, up.upstream_model);
        EXPECT_EQ(rec->upstream_protocol, up.protocol);
        EXPECT_EQ(rec->final_status, 200);
        EXPECT_EQ(rec->streamed, stream);
        EXPECT_EQ(rec->usage_origin, store::UsageOrigin::kProvider);
        EXPECT_EQ(rec->prompt_tokens, 100);
        EXPECT_EQ(rec->completion_tokens, 20);
        EXPECT_EQ(rec->reasoning_tokens, up.reasoning);
        EXPECT_EQ(rec->cache_read_tokens, up.cache_read);
        EXPECT_EQ(rec->cache_write_tokens, up.cache_write);
        EXPECT_EQ(rec->cost_micro_usd, std::optional<int64_t>(up.cost));
        ASSERT_EQ(rec->attempts.size(), 1u);
        EXPECT_EQ(rec->attempts[0].endpoint, up.provider + ":" + up.upstream_model);
        EXPECT_EQ(rec->attempts[0].http_status, 200);
        EXPECT_TRUE(rec->time_to_first_byte_us.has_value());
        EXPECT_EQ(rec->bytes_out, static_cast<int64_t>(r.body.size()));
        EXPECT_GT(rec->bytes_in, 0);
        EXPECT_GE(rec->total_latency_us, rec->router_overhead_us);
      }
    }
  }
  // /metrics says the same, whichever of the two workers answers the scrape.
  for (int scrape = 0; scrape < 4; ++scrape) {
    HttpResponse m = Fetch(router_->port(), "GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    PromText p = ParsePrometheusText(m.body);
    ASSERT_TRUE(p.ok()) << p.ErrorText();
    EXPECT_EQ(p.Sum("bitrouter_requests_total", {{"status", "200"}}), n);
    EXPECT_EQ(p.Sum("bitrouter_requests_total", {{"streamed", "true"}}), n / 2);
    EXPECT_EQ(p.Sum("bitrouter_upstream_attempts_total", {{"outcome", "ok"}}), n);
    for (const Upstream& up : Upstreams()) {
      PromLabels l = {{"provider", up.provider}, {"model", up.upstream_model}};
      l["kind"] = "prompt";
      EXPECT_EQ(p.Sum("bitrouter_tokens_total", l), 100.0 * 8) << up.provider;
      l["kind"] = "cache_write";
      EXPECT_EQ(p.Sum("bitrouter_tokens_total", l), 8.0 * up.cache_write) << up.provider;
      l.erase("kind");
      EXPECT_NEAR(p.Sum("bitrouter_cost_usd_total", l), 8 * up.cost * 1e-6, 1e-9) << up.provider;
    }
    EXPECT_EQ(p.Sum("bitrouter_router_overhead_seconds_count"), n);
    EXPECT_EQ(p.Sum("bitrouter_active_streams"), 0);
  }
}

TEST_F(UsageTest, AChatStreamGetsUsageWithoutShowingTheClientAnExtraChunk) {
  StartUsage();
  HttpResponse r = Send(Client::kChat, "oai:m-chat", true, "no-usage-asked");
  ASSERT_EQ(r.status, 200) << r.body;
  // The upstream was asked for usage; the client, who did not ask, never
  // sees the usage-only chunk, and the stream is otherwise byte for byte.
  std::vector<RecordedRequest> seen = upstream_->requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.back().body.find(R"("stream_options":{"include_usage":true})"), std::string::npos)
      << seen.back().body;
  std::string expected;
  for (const std::string& c : usage_answers::ChatStream(false)) expected += c;
  EXPECT_EQ(r.body, expected);
  std::optional<UsageRecord> rec = RecordOf("no-usage-asked");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->usage_origin, store::UsageOrigin::kProvider);
  EXPECT_EQ(rec->prompt_tokens, 100);
  EXPECT_EQ(rec->cost_micro_usd, std::optional<int64_t>(410));

  // A client that asked gets the chunk, untouched.
  r = Fetch(router_->port(), "POST", kChatPath,
            R"({"model":"oai:m-chat","stream":true,"stream_options":{"include_usage":true},)"
            R"("messages":[{"role":"user","content":"hi"}]})",
            {{"x-bitrouter-request-id", "usage-asked"}});
  ASSERT_EQ(r.status, 200);
  expected.clear();
  for (const std::string& c : usage_answers::ChatStream(true)) expected += c;
  EXPECT_EQ(r.body, expected);
  ASSERT_TRUE(RecordOf("usage-asked").has_value());
}

TEST_F(UsageTest, AClientThatLeavesMidStreamGetsAnEstimatedRecord) {
  StartUsage("", 1);
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    // Stalls after the text delta.
    std::vector<std::string> events = usage_answers::MessagesStream();
    r.chunks = {events[0] + events[1] + events[2], events[3] + events[4] + events[5]};
    r.delay_between_chunks_ms = 3000;
    return r;
  });
  // Gives up after 800 ms: the text delta arrived, the usage never did.
  HttpResponse r = Send(Client::kMessages, "ant:m-msg", true, "left-early", 800);
  EXPECT_FALSE(r.complete);
  std::optional<UsageRecord> rec = RecordOf("left-early");
  ASSERT_TRUE(rec.has_value()) << router_->Log();
  EXPECT_EQ(rec->usage_origin, store::UsageOrigin::kEstimated);
  // message_start reported the input side already: prompt is the provider's.
  EXPECT_EQ(rec->prompt_tokens, 100);
  EXPECT_GT(rec->completion_tokens, 0);  // "Hello there", estimated
  EXPECT_LT(rec->completion_tokens, 20);
  EXPECT_EQ(rec->final_status, 200);
}

TEST_F(UsageTest, FailoverAttemptsAndRefusedRequestsAreRecorded) {
  StartUsage(
      "models:\n  pair:\n    strategy: priority\n    endpoints:\n"
      "      - {provider: oai, model_id: broken}\n      - {provider: oai, model_id: m-chat}\n",
      1);
  upstream_->SetHandler([](const RecordedRequest& req) {
    if (req.body.find("\"broken\"") != std::string::npos) {
      Reply r;
      r.status = 503;
      r.body = R"({"error":{"message":"overloaded"}})";
      return r;
    }
    return usage_answers::Answer(req);
  });
  HttpResponse r = Send(Client::kChat, "pair", false, "failed-over");
  ASSERT_EQ(r.status, 200) << r.body;
  std::optional<UsageRecord> rec = RecordOf("failed-over");
  ASSERT_TRUE(rec.has_value());
  ASSERT_EQ(rec->attempts.size(), 2u);
  EXPECT_EQ(rec->attempts[0].endpoint, "oai:broken");
  EXPECT_EQ(rec->attempts[0].http_status, 503);
  EXPECT_EQ(rec->attempts[1].endpoint, "oai:m-chat");
  EXPECT_EQ(rec->attempts[1].http_status, 200);
  EXPECT_EQ(rec->upstream_model, "m-chat");
  EXPECT_EQ(rec->cost_micro_usd, std::optional<int64_t>(410));

  // Refused before routing: a record with the status and no tokens.
  r = Fetch(router_->port(), "POST", kChatPath, R"({"model":"has space","messages":[]})",
            {{"x-bitrouter-request-id", "refused"}});
  ASSERT_EQ(r.status, 400);
  rec = RecordOf("refused");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->final_status, 400);
  EXPECT_EQ(rec->prompt_tokens, 0);
  EXPECT_TRUE(rec->attempts.empty());

  // Every endpoint failed: the aggregate status, both attempts, no cost.
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 500;
    r.body = R"({"error":{"message":"down"}})";
    return r;
  });
  r = Send(Client::kChat, "pair", false, "all-failed");
  EXPECT_EQ(r.status, 502);
  rec = RecordOf("all-failed");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->final_status, 502);
  EXPECT_GE(rec->attempts.size(), 2u);  // the last endpoint is retried once
  EXPECT_EQ(rec->provider, "");
  EXPECT_EQ(rec->cost_micro_usd, std::optional<int64_t>(0));
}

TEST_F(UsageTest, AModelWithoutAPriceHasAnUnknownCostNeverZero) {
  StartUsage("", 1);
  HttpResponse r = Send(Client::kChat, "oai:not-in-catalog", false, "no-price");
  ASSERT_EQ(r.status, 200) << r.body;
  std::optional<UsageRecord> rec = RecordOf("no-price");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->prompt_tokens, 100);
  EXPECT_FALSE(rec->cost_micro_usd.has_value());
}

TEST_F(UsageTest, AStalledStoreDropsAndCountsWhileRequestsSucceed) {
  StartUsage("", 1, {{"BITROUTER_USAGE_QUEUE", "4"}});
  ASSERT_EQ(Send(Client::kChat, "oai:m-chat", false, "before").status, 200);
  ASSERT_TRUE(RecordOf("before").has_value());
  // Another process holds the database's write lock: bitrouterd's commits
  // wait (and fail after the busy timeout, and retry).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) {
    HttpResponse r = Send(Client::kChat, "oai:m-chat", false, "stalled-" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Requests never waited for the store (bounded loosely: 40 local requests).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  // The drops are reported with the next batch once the store takes it.
  EXPECT_TRUE(WaitUntil([&] { return router_->Log().find("dropped") != std::string::npos; }, 20000))
      << router_->Log();
  // New requests are recorded again.
  ASSERT_EQ(Send(Client::kChat, "oai:m-chat", false, "after").status, 200);
  ASSERT_TRUE(RecordOf("after", 20000).has_value()) << [&] {
    std::string ids;
    for (const UsageRecord& r : Records()) ids += r.request_id + " ";
    return ids + "\n" + router_->Log();
  }();
  int stalled = 0;
  for (const UsageRecord& r : Records()) stalled += r.request_id.rfind("stalled-", 0) == 0;
  EXPECT_LT(stalled, 40);
  EXPECT_GT(stalled, 0);
  PromText p = ParsePrometheusText(Fetch(router_->port(), "GET", "/metrics").body);
  EXPECT_EQ(p.Sum("bitrouter_usage_records_dropped_total"), 40 - stalled);
  EXPECT_GT(p.Sum("bitrouter_store_rows_written_total"), stalled);
  EXPECT_EQ(p.Sum("bitrouter_requests_total", {{"status", "200"}}), 42);
}

TEST_F(UsageTest, AcknowledgedRecordsSurviveARestartAndRetentionPrunes) {
  char tmpl[] = "/tmp/brusageXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  home_ = tmpl;
  // A row older than the retention, seeded before bitrouterd starts.
  {
    store::SqliteStore db(home_ + "/bitrouter.db");
    ASSERT_TRUE(db.Open().ok());
    UsageRecord old;
    old.request_id = "ancient";
    old.time_unix_ms = UnixMillis() - int64_t{10} * 86'400'000;
    ASSERT_TRUE(db.Append({old}).ok());
  }
  StartUsage("database:\n  retention: 7d\n", 1);
  ASSERT_EQ(Send(Client::kChat, "oai:m-chat", false, "kept").status, 200);
  ASSERT_TRUE(RecordOf("kept").has_value());
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const UsageRecord& r : Records()) {
          if (r.request_id == "ancient") return false;
        }
        return true;
      },
      5000))
      << "the 10-day-old row outlived a 7-day retention";
  // Requests answered right before a stop are in the store after it.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Send(Client::kChat, "oai:m-chat", false, "last-" + std::to_string(i)).status, 200);
  }
  ASSERT_EQ(router_->Stop(), 0) << router_->Log();
  int last = 0;
  for (const UsageRecord& r : Records()) last += r.request_id.rfind("last-", 0) == 0;
  EXPECT_EQ(last, 5);
  router_.reset();
  std::string rm = "rm -rf " + home_;
  (void)std::system(rm.c_str());
}

TEST_F(UsageTest, TheStoreIsWhereDbSaysAndABadUrlStopsTheStart) {
  char tmpl[] = "/tmp/brdbXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  upstream_ = std::make_unique<FakeUpstream>();
  ASSERT_TRUE(upstream_->Start());
  upstream_->SetHandler(usage_answers::Answer);
  RouterProcess::Options o;
  o.env = {{"OPENAI_API_KEY", kTestKey},
           {"OPENAI_BASE_URL", upstream_->base_url()},
           {"BITROUTER_DATABASE_URL", "sqlite://" + dir + "/from-env.db"}};
  // --db wins over the environment, which wins over database.url.
  o.config_yaml = "database:\n  url: sqlite://" + dir + "/from-file.db\n";
  o.extra_args = {"--db", "sqlite://" + dir + "/from-flag.db?mode=rwc"};
  router_ = std::make_unique<RouterProcess>(o);
  std::string error;
  ASSERT_TRUE(router_->Start(&error)) << error;
  ASSERT_EQ(Fetch(router_->port(), "POST", kChatPath,
                  R"({"model":"openai:gpt-4o","messages":[{"role":"user","content":"hi"}]})",
                  {{"x-bitrouter-request-id", "where"}})
                .status,
            200);
  EXPECT_TRUE(WaitUntil(
      [&] {
        store::SqliteStore db(dir + "/from-flag.db");
        if (!db.Open().ok()) return false;
        auto rows = db.Newest(10, {});
        return rows.ok() && rows->size() == 1 && (*rows)[0].request_id == "where";
      },
      5000));
  EXPECT_NE(access((dir + "/from-env.db").c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/from-file.db").c_str(), F_OK), 0);
  ASSERT_EQ(router_->Stop(), 0);
  router_.reset();

  RouterProcess::Options bad;
  bad.env = {{"BITROUTER_DATABASE_URL", "mysql://db/x"}};
  RouterProcess refused(bad);
  EXPECT_NE(refused.RunToExit(), 0);
  EXPECT_NE(refused.Log().find("unknown scheme"), std::string::npos) << refused.Log();
  (void)std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace bitrouter::testing
