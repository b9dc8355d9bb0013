#include "controld/store/sqlite_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/attempts_json.h"
#include "controld/store/usage_store.h"
#include "gtest/gtest.h"

namespace bitrouter::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br_store_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_path_ = dir_ + "/bitrouter.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string db_path_;
};

// Runs SQL through a second connection, as another process would.
void ExecRaw(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

UsageRecord FullRecord(int n, int64_t time_ms) {
  UsageRecord r;
  r.request_id = absl::StrCat("req-", n);
  r.time_unix_ms = time_ms;
  r.key_id = n % 2 == 0 ? "" : "key-1";
  r.client_protocol = "chat";
  r.model_requested = n % 3 == 0 ? "gpt-4o" : "claude-sonnet";
  r.provider = "openai";
  r.upstream_model = "gpt-4o-2024-08-06";
  r.upstream_protocol = "responses";
  r.attempts = {{"anthropic/claude", 0, "connect", 1500 + n},
                {"openai/gpt-4o \"quoted\"\n", 200, "", 250000}};
  r.final_status = 200;
  r.streamed = n % 2 == 1;
  r.bytes_in = 1000 + n;
  r.bytes_out = 5000 + n;
  r.time_to_first_byte_us = 12345 + n;
  r.total_latency_us = 800000 + n;
  r.router_overhead_us = 321 + n;
  r.prompt_tokens = 100 + n;
  r.completion_tokens = 50 + n;
  r.reasoning_tokens = 10;
  r.cache_read_tokens = 20;
  r.cache_write_tokens = 5;
  r.usage_origin = n % 2 == 0 ? UsageOrigin::kProvider : UsageOrigin::kEstimated;
  r.cost_micro_usd = 4321 + n;
  return r;
}

TEST_F(SqliteStoreTest, MigratesOnceAndReopenKeepsVersion) {
  {
    SqliteStore store(db_path_);
    ASSERT_TRUE(store.Open().ok());
    auto version = store.SchemaVersion();
    ASSERT_TRUE(version.ok()) << version.status();
    EXPECT_EQ(*version, SqliteStore::LatestSchemaVersion());
    ASSERT_TRUE(store.Append({FullRecord(1, 1000)}).ok());
  }
  SqliteStore again(db_path_);
  absl::Status status = again.Open();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*again.SchemaVersion(), SqliteStore::LatestSchemaVersion());
  auto rows = again.Newest(10, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 1u);  // reopening did not re-run the create
  // WAL is on: SQLite keeps a -wal file next to an open WAL database.
  EXPECT_TRUE(std::filesystem::exists(db_path_ + "-wal"));
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  {
    SqliteStore store(db_path_);
    ASSERT_TRUE(store.Open().ok());
  }
  // Pretend a newer bitrouterd migrated the file.
  ExecRaw(db_path_, "INSERT INTO schema_migrations VALUES (999, 0)");
  SqliteStore store(db_path_);
  absl::Status status = store.Open();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("schema version 999"), std::string::npos) << status;
}

TEST_F(SqliteStoreTest, AppendThenNewestRoundTripsEveryField) {
  SqliteStore store(db_path_);
  ASSERT_TRUE(store.Open().ok());
  std::vector<UsageRecord> batch;
  for (int n = 0; n < 6; ++n) batch.push_back(FullRecord(n, 1000 + n * 10));
  batch[2].cost_micro_usd.reset();  // unknown stays unknown, not 0
  batch[3].time_to_first_byte_us.reset();
  batch[4].attempts.clear();
  batch[4].provider.clear();
  batch[4].upstream_model.clear();
  batch[4].upstream_protocol.clear();
  batch[4].final_status = 502;
  absl::Status status = store.Append(batch);
  ASSERT_TRUE(status.ok()) << status;

  auto rows = store.Newest(100, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), batch.size());
  for (size_t i = 0; i < rows->size(); ++i) {
    UsageRecord got = (*rows)[i];
    const UsageRecord& want = batch[batch.size() - 1 - i];  // newest first
    EXPECT_GT(got.row_id, 0);
    got.row_id = 0;
    EXPECT_EQ(got, want) << "row " << i << " request " << want.request_id;
  }
  EXPECT_FALSE((*rows)[3].cost_micro_usd.has_value());
  EXPECT_FALSE((*rows)[2].time_to_first_byte_us.has_value());

  auto limited = store.Newest(2, {});
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[0].request_id, "req-5");

  UsageFilter by_model;
  by_model.model_requested = "gpt-4o";
  auto models = store.Newest(100, by_model);
  ASSERT_TRUE(models.ok());
  ASSERT_EQ(models->size(), 2u);  // n = 0, 3
  EXPECT_EQ((*models)[0].request_id, "req-3");

  UsageFilter by_key_since;
  by_key_since.key_id = "key-1";
  by_key_since.since_unix_ms = 1020;
  auto keyed = store.Newest(100, by_key_since);
  ASSERT_TRUE(keyed.ok());
  ASSERT_EQ(keyed->size(), 2u);  // n = 3, 5
  EXPECT_EQ((*keyed)[1].request_id, "req-3");
}

TEST_F(SqliteStoreTest, SameTimeOrdersByInsertion) {
  SqliteStore store(db_path_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Append({FullRecord(1, 500), FullRecord(2, 500)}).ok());
  auto rows = store.Newest(10, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].request_id, "req-2");
}

TEST_F(SqliteStoreTest, PruneBeforeDeletesOnlyOlderRows) {
  SqliteStore store(db_path_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(
      store.Append({FullRecord(1, 100), FullRecord(2, 199), FullRecord(3, 200), FullRecord(4, 300)})
          .ok());
  auto pruned = store.PruneBefore(200);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2);
  auto rows = store.Newest(10, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].request_id, "req-4");
  EXPECT_EQ((*rows)[1].request_id, "req-3");  // exactly at the bound: kept
  auto again = store.PruneBefore(200);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST_F(SqliteStoreTest, CorruptFileIsAClearError) {
  {
    std::ofstream out(db_path_, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "this is not a database ";
  }
  SqliteStore store(db_path_);
  absl::Status status = store.Open();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find(db_path_), std::string::npos) << status;
  EXPECT_NE(status.message().find("not a database"), std::string::npos) << status;
}

TEST_F(SqliteStoreTest, UnopenablePathIsAClearError) {
  const std::string path = dir_ + "/missing-dir/bitrouter.db";
  auto made = MakeStore(path, "");
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kPermissionDenied) << made.status();
  EXPECT_NE(made.status().message().find(path), std::string::npos) << made.status();
  EXPECT_NE(made.status().message().find("unable to open"), std::string::npos) << made.status();

  // A directory where the file should be.
  auto dir = MakeStore(dir_, "");
  EXPECT_FALSE(dir.ok());
}

TEST_F(SqliteStoreTest, CallsBeforeOpenFail) {
  SqliteStore store(db_path_);
  EXPECT_EQ(store.Append({FullRecord(1, 1)}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.PruneBefore(1).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store.Newest(1, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, MakeStoreUrls) {
  auto by_default = MakeStore("", db_path_);
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_TRUE(std::filesystem::exists(db_path_));

  const std::string other = dir_ + "/other.db";
  auto by_url = MakeStore(absl::StrCat("sqlite://", other), "");
  ASSERT_TRUE(by_url.ok()) << by_url.status();
  EXPECT_TRUE(std::filesystem::exists(other));

  // PostgreSQL URIs go to PgStore, which opens at once: no server behind
  // this socket directory is a load error (store_conformance_test covers a
  // real server).
  const std::string no_server = absl::StrCat("?host=", dir_, "/no-such-dir&port=5");
  auto pg = MakeStore(absl::StrCat("postgres://user@/bitrouter", no_server), db_path_);
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), absl::StatusCode::kUnavailable) << pg.status();
  EXPECT_NE(pg.status().message().find("no-such-dir"), std::string::npos) << pg.status();
  EXPECT_EQ(MakeStore(absl::StrCat("postgresql:///x", no_server), db_path_).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(MakeStore("mysql://db/x", db_path_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeStore("sqlite://", db_path_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, FailedBatchLeavesNothing) {
  SqliteStore store(db_path_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Append({FullRecord(1, 1)}).ok());
  // A batch is one transaction: a row that fails takes its batch-mates with it.
  ExecRaw(db_path_,
          "CREATE TRIGGER refuse BEFORE INSERT ON usage_records WHEN NEW.request_id = 'req-3' "
          "BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
  absl::Status status = store.Append({FullRecord(2, 2), FullRecord(3, 3), FullRecord(4, 4)});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("refused by test"), std::string::npos) << status;
  auto rows = store.Newest(10, {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].request_id, "req-1");
  // The reused insert statement recovers after the failure.
  ASSERT_TRUE(store.Append({FullRecord(5, 5)}).ok());
  EXPECT_EQ(store.Newest(10, {})->size(), 2u);
}

TEST(AttemptsJsonTest, RejectsForeignText) {
  EXPECT_EQ(AttemptsFromJson("{}").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AttemptsFromJson("[{\"endpoint\":1}]").status().code(), absl::StatusCode::kDataLoss);
  auto empty = AttemptsFromJson("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// Not a timed assertion (house rule): prints the measured rate. The issue
// asks bitrouterd to sustain >= 20,000 rows/s.
TEST_F(SqliteStoreTest, ThroughputReport) {
  SqliteStore store(db_path_);
  ASSERT_TRUE(store.Open().ok());
  constexpr int kRows = 20000;
  constexpr int kBatch = 500;
  std::vector<std::vector<UsageRecord>> batches;
  for (int b = 0; b < kRows / kBatch; ++b) {
    std::vector<UsageRecord>& batch = batches.emplace_back();
    for (int i = 0; i < kBatch; ++i) batch.push_back(FullRecord(b * kBatch + i, 1000 + b));
  }
  auto start = std::chrono::steady_clock::now();
  for (const auto& batch : batches) ASSERT_TRUE(store.Append(batch).ok());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t rate = static_cast<int64_t>(kRows / seconds);
  RecordProperty("rows_per_second", std::to_string(rate));
  std::printf("usage store: %d rows in batches of %d: %.3f s, %lld rows/s\n", kRows, kBatch,
              seconds, static_cast<long long>(rate));
  auto rows = store.Newest(kRows + 1, {});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), static_cast<size_t>(kRows));
}

}  // namespace
}  // namespace bitrouter::store

namespace bitrouter::store {
namespace {

TEST(RedactedUrlTest, PasswordsNeverShow) {
  EXPECT_EQ(RedactedUrl("postgres://u:s3cret@db:5432/x"), "postgres://u:***@db:5432/x");
  EXPECT_EQ(RedactedUrl("postgresql://u:p@ss@db/x?sslmode=require"),
            "postgresql://u:***@db/x?sslmode=require");
  EXPECT_EQ(RedactedUrl("postgresql:///x?host=/tmp&password=s3cret&port=5"),
            "postgresql:///x?host=/tmp&password=***&port=5");
  EXPECT_EQ(RedactedUrl("postgres://db/x?PassWord=s3cret"), "postgres://db/x?PassWord=***");
  EXPECT_EQ(RedactedUrl("postgres://u@db/x"), "postgres://u@db/x");
  EXPECT_EQ(RedactedUrl("/var/lib/bitrouter.db"), "/var/lib/bitrouter.db");
}

}  // namespace
}  // namespace bitrouter::store
