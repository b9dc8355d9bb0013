// PostgreSQL-only behaviour of PgStore: several nodes at once (concurrent
// leases, concurrent migration), outages (no hang, reconnect), secrets kept
// out of errors, and the SQLite backend's answers on the same random input.
#include <libpq-fe.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/pg_store.h"
#include "controld/store/sqlite_store.h"
#include "controld/store/usage_store.h"
#include "gtest/gtest.h"
#include "tests/support/pg_server.h"

namespace bitrouter::store {
namespace {

using Clock = std::chrono::steady_clock;

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = testing::PgServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    static int databases = 0;
    auto url = server_->CreateDatabase(absl::StrCat("pg_", ++databases));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }

  static inline std::unique_ptr<testing::PgServer> server_;
  std::string url_;
};

UsageRecord Record(int n, int64_t time_ms) {
  UsageRecord r;
  r.request_id = absl::StrCat("req-", n);
  r.time_unix_ms = time_ms;
  r.client_protocol = "chat";
  r.model_requested = "m";
  r.provider = "p";
  r.upstream_model = "m-up";
  r.upstream_protocol = "chat";
  r.final_status = 200;
  r.total_latency_us = 1000;
  return r;
}

KeyRecord BudgetKey() {
  KeyRecord k;
  k.id = "key_a";
  k.name = "a";
  k.hash_hex = std::string(64, 'a');
  k.prefix = "brvk_aaaaaaa";
  k.budget_micro_usd = 100'000;
  return k;
}

TEST_F(PgStoreTest, NodesOpeningAFreshDatabaseAtOnceAllSucceed) {
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<PgStore>> stores;
  for (int i = 0; i < kNodes; ++i) stores.push_back(std::make_unique<PgStore>(url_));
  std::vector<absl::Status> results(kNodes);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kNodes) std::this_thread::yield();
      results[i] = stores[i]->Open();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(results[i].ok()) << results[i];
    EXPECT_EQ(*stores[i]->SchemaVersion(), PgStore::LatestSchemaVersion());
  }
  PGconn* conn = PQconnectdb(url_.c_str());
  PGresult* r = PQexec(conn,
                       "SELECT string_agg(version::text, ',' ORDER BY version) FROM "
                       "schema_migrations");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "1,2,3,4,5,6");  // each step once
  PQclear(r);
  PQfinish(conn);
}

// Two nodes renew leases on one key as fast as they can. After every grant,
// with the key's row locked (no grant can commit meanwhile), the spend plus
// all live leases must stay within the budget plus what the nodes' needs
// exceeded their share by (need is never taken away, so only it may
// overshoot).
TEST_F(PgStoreTest, ConcurrentLeasesNeverOvercommit) {
  PgStore setup(url_);
  ASSERT_TRUE(setup.Open().ok());
  ASSERT_TRUE(setup.InsertKey(BudgetKey()).ok());
  UsageRecord spent = Record(0, 1);
  spent.key_id = "key_a";
  spent.cost_micro_usd = 7'000;
  ASSERT_TRUE(setup.Append({spent}).ok());
  constexpr int64_t kBudget = 100'000;
  constexpr int kRounds = 200;

  // Per node: at least the overshoot of its lease as committed right now.
  std::atomic<int64_t> allowance[2] = {0, 0};
  std::atomic<int64_t> now{1'000'000};
  std::atomic<int> violations{0};
  std::atomic<int> errors{0};
  std::mutex first_mu;
  std::string first;
  auto node = [&](int me) {
    PgStore store(url_);
    if (!store.Open().ok()) {
      ++errors;
      return;
    }
    PGconn* check = PQconnectdb(url_.c_str());
    std::mt19937 rng(me + 1);
    for (int i = 0; i < kRounds; ++i) {
      LeaseRequest req;
      req.node_id = absl::StrCat("n", me);
      req.key_id = "key_a";
      req.budget_micro_usd = kBudget;
      req.need_micro_usd = std::uniform_int_distribution<int64_t>(0, 40'000)(rng);
      req.now_unix_ms = now.fetch_add(1);
      req.live_window_ms = 1'000'000'000;
      // Before the call the old lease or the new one may be committed.
      allowance[me] = std::max(allowance[me].load(), req.need_micro_usd);
      auto grant = store.SyncLease(req);
      if (!grant.ok() || grant->lease_micro_usd < req.need_micro_usd) {
        std::lock_guard<std::mutex> lock(first_mu);
        if (first.empty()) first = grant.ok() ? "need taken away" : grant.status().ToString();
        ++errors;
        continue;
      }
      const int64_t available = kBudget - grant->spent_micro_usd - grant->others_micro_usd;
      allowance[me] = std::max<int64_t>(0, req.need_micro_usd - available);

      PQclear(PQexec(check, "BEGIN"));
      PQclear(PQexec(check, "SELECT 1 FROM keys WHERE id = 'key_a' FOR UPDATE"));
      PGresult* r = PQexec(check,
                           "SELECT (SELECT SUM(cost_micro_usd) FROM usage_records WHERE key_id = "
                           "'key_a') + (SELECT COALESCE(SUM(lease_micro_usd), 0) FROM "
                           "budget_leases WHERE key_id = 'key_a')");
      const int64_t total = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
      const int64_t limit = kBudget + allowance[0].load() + allowance[1].load();
      PQclear(r);
      PQclear(PQexec(check, "COMMIT"));
      if (total < 0 || total > limit) {
        std::lock_guard<std::mutex> lock(first_mu);
        if (first.empty()) first = absl::StrCat("total ", total, " > limit ", limit);
        ++violations;
      }
    }
    PQfinish(check);
  };
  std::thread a(node, 0), b(node, 1);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0) << first;
  EXPECT_EQ(violations.load(), 0) << first;
}

TEST_F(PgStoreTest, OutageIsUnavailableWithoutHangAndTheNextCallReconnects) {
  PgStore store(url_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Append({Record(1, 1)}).ok());
  ASSERT_TRUE(store.InsertKey(BudgetKey()).ok());

  ASSERT_TRUE(server_->Stop().ok());
  auto t0 = Clock::now();
  absl::Status append = store.Append({Record(2, 2)});
  EXPECT_EQ(append.code(), absl::StatusCode::kUnavailable) << append;
  EXPECT_NE(append.message().find(server_->dir()), std::string::npos) << append;  // the host
  EXPECT_EQ(store.Newest(10, {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Summarize({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.MaxKeyRevision().status().code(), absl::StatusCode::kUnavailable);
  LeaseRequest req;
  req.node_id = "n1";
  req.key_id = "key_a";
  EXPECT_EQ(store.SyncLease(req).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.DropLeases("n1").code(), absl::StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));

  ASSERT_TRUE(server_->StartAgain().ok());
  auto rows = store.Newest(10, {});  // reconnects
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 1u);  // the failed batch left nothing
  ASSERT_TRUE(store.Append({Record(3, 3)}).ok());
  EXPECT_EQ(store.Newest(10, {})->size(), 2u);
  EXPECT_TRUE(store.SyncLease(req).ok());

  // A restart between two calls: the idle connection is dead but looks
  // fine; the next call finds out, reconnects and succeeds.
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->StartAgain().ok());
  EXPECT_TRUE(store.Newest(10, {}).ok());
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->StartAgain().ok());
  EXPECT_TRUE(store.Append({Record(4, 4)}).ok());
  ASSERT_TRUE(server_->Stop().ok());
  ASSERT_TRUE(server_->StartAgain().ok());
  EXPECT_TRUE(store.SyncLease(req).ok());
  EXPECT_EQ(store.Newest(10, {})->size(), 3u);
}

TEST_F(PgStoreTest, UnreachableAtStartIsAClearError) {
  PgStore store(absl::StrCat("postgresql:///x?host=", server_->dir(), "/gone&port=5"));
  absl::Status status = store.Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("cannot connect"), std::string::npos) << status;
  EXPECT_NE(status.message().find(server_->dir() + "/gone"), std::string::npos) << status;
  EXPECT_EQ(store.Newest(1, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PgStoreTest, ThePasswordNeverAppearsInAnError) {
  const std::string dir = "/nonexistent-br-pg-dir";
  const std::vector<std::string> uris = {
      absl::StrCat("postgresql://bob:S3cretPw%21x@/db?host=", dir, "&port=5999"),
      absl::StrCat("postgres://bob:S3cretPw@/db?host=", dir, "&port=5999&connect_timeout=1"),
      absl::StrCat("postgresql:///db?host=", dir, "&password=S3cretPw"),
      "postgresql://bob:S3cretPw%zz@/db",                   // libpq cannot parse it
      "postgresql://bob:S3cretPw@/db?host=/x&bogus_opt=1",  // nor this
  };
  for (const std::string& uri : uris) {
    PgStore store(uri);
    EXPECT_EQ(store.target().find("S3cret"), std::string::npos) << store.target();
    absl::Status status = store.Open();
    EXPECT_FALSE(status.ok()) << uri;
    EXPECT_EQ(status.message().find("S3cret"), std::string::npos) << status;
    auto made = MakeStore(uri, "/tmp/unused.db");
    EXPECT_FALSE(made.ok());
    EXPECT_EQ(made.status().message().find("S3cret"), std::string::npos) << made.status();
  }
  PgStore store(uris[0]);
  absl::Status status = store.Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find(dir), std::string::npos) << status;  // names the host
  EXPECT_EQ(PgStore(uris[3]).Open().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PgStoreTest, ALockHeldElsewhereTimesOutInsteadOfHanging) {
  PgStore store(url_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.InsertKey(BudgetKey()).ok());
  PGconn* holder = PQconnectdb(url_.c_str());
  PQclear(PQexec(holder, "BEGIN"));
  PQclear(PQexec(holder, "SELECT 1 FROM keys WHERE id = 'key_a' FOR UPDATE"));
  LeaseRequest req;
  req.node_id = "n1";
  req.key_id = "key_a";
  auto t0 = Clock::now();
  auto grant = store.SyncLease(req);
  EXPECT_EQ(grant.status().code(), absl::StatusCode::kUnavailable) << grant.status();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(8));  // statement_timeout is 5 s
  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
  EXPECT_TRUE(store.SyncLease(req).ok());  // same connection, usable again
}

// PostgreSQL text holds neither NUL nor invalid UTF-8 (SQLite keeps any
// bytes): such a record is stored with U+FFFD rather than failing its batch
// on every retry.
TEST_F(PgStoreTest, BytesThatAreNotUtf8DoNotPoisonABatch) {
  PgStore store(url_);
  ASSERT_TRUE(store.Open().ok());
  UsageRecord r = Record(1, 1);
  r.model_requested = std::string("bad\xff\xc3(", 6) + std::string(1, '\0') + "é✓";
  ASSERT_TRUE(store.Append({r, Record(2, 2)}).ok());
  auto rows = store.Newest(10, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].model_requested, "bad\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBDé✓");
}

// The same pseudo-random input into both backends gives the same answers,
// row ids included, for every query shape the ctl commands use.
TEST_F(PgStoreTest, SameInputSameAnswersAsSqlite) {
  char tmpl[] = "/tmp/br_cross_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  SqliteStore lite(dir + "/bitrouter.db");
  PgStore pg(url_);
  ASSERT_TRUE(lite.Open().ok());
  ASSERT_TRUE(pg.Open().ok());
  std::vector<UsageStore*> both = {&lite, &pg};

  std::mt19937 rng(42);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const char* models[] = {"gpt-4o", "claude", "Gemini", "_x", "gpt-4o-mini"};
  const char* providers[] = {"", "openai", "anthropic", "Azure"};
  const char* keys[] = {"", "key_a", "key_B"};
  const int statuses[] = {200, 200, 200, 201, 0, 400, 429, 500, 502, 503};
  for (int batch = 0; batch < 6; ++batch) {
    std::vector<UsageRecord> rows;
    for (int i = 0; i < 400; ++i) {
      UsageRecord r = Record(batch * 1000 + i, 1000 + pick(500));  // many equal times
      r.model_requested = models[pick(5)];
      r.provider = providers[pick(4)];
      r.upstream_model =
          r.provider.empty() ? "" : r.model_requested + "-" + std::to_string(pick(2));
      r.key_id = keys[pick(3)];
      r.final_status = statuses[pick(10)];
      r.total_latency_us = pick(100000);
      if (pick(4) != 0) r.time_to_first_byte_us = pick(5000);
      if (pick(5) != 0) r.cost_micro_usd = pick(1000000);
      r.usage_origin = pick(3) == 0 ? UsageOrigin::kEstimated : UsageOrigin::kProvider;
      r.prompt_tokens = pick(5000);
      r.completion_tokens = pick(500);
      r.streamed = pick(2) == 1;
      rows.push_back(r);
    }
    for (UsageStore* s : both) ASSERT_TRUE(s->Append(rows).ok());
  }
  auto same_newest = [&](int limit, const UsageFilter& f, const std::string& what) {
    auto a = lite.Newest(limit, f);
    auto b = pg.Newest(limit, f);
    ASSERT_TRUE(a.ok() && b.ok()) << what << a.status() << b.status();
    EXPECT_EQ(*a, *b) << what;
  };
  auto same_summary = [&](const UsageSummaryQuery& q, const std::string& what) {
    auto a = lite.Summarize(q);
    auto b = pg.Summarize(q);
    ASSERT_TRUE(a.ok() && b.ok()) << what << a.status() << b.status();
    EXPECT_EQ(*a, *b) << what;
  };
  for (int round = 0; round < 2; ++round) {
    same_newest(5000, {}, "all");
    same_newest(7, {}, "limit");
    UsageFilter f;
    f.model_requested = "claude";
    f.key_id = "key_B";
    f.since_unix_ms = 1200;
    same_newest(100, f, "model+key+since");
    for (StatusMatch m :
         {StatusMatch{StatusMatch::Kind::kExact, 429}, StatusMatch{StatusMatch::Kind::kClass, 5},
          StatusMatch{StatusMatch::Kind::kNot2xx, 0}}) {
      UsageFilter sf;
      sf.status = m;
      same_newest(50, sf, "status");
      sf.after_row_id = 777;
      same_newest(50, sf, "status+follow");
    }
    for (UsageGroupBy by : {UsageGroupBy::kNone, UsageGroupBy::kKey, UsageGroupBy::kModel,
                            UsageGroupBy::kProvider, UsageGroupBy::kEndpoint}) {
      UsageSummaryQuery q;
      q.group_by = by;
      same_summary(q, "unbounded");
      q.from_unix_ms = 1100;
      q.to_unix_ms = 1300;
      same_summary(q, "window");
    }
    EXPECT_EQ(*lite.MaxRowId(), *pg.MaxRowId());
    EXPECT_EQ(*lite.PruneBefore(1250), *pg.PruneBefore(1250));  // then again on what is left
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bitrouter::store
