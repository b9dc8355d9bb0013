// SqliteStore reads: Summarize (bitrouterctl usage) and Newest with status
// and after_row_id filters (bitrouterctl requests [--tail]).
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controld/store/sqlite_store.h"
#include "controld/store/usage_store.h"
#include "gtest/gtest.h"

namespace bitrouter::store {
namespace {

class SqliteQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br_query_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = std::make_unique<SqliteStore>(dir_ + "/bitrouter.db");
    absl::Status status = store_->Open();
    ASSERT_TRUE(status.ok()) << status;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Append(const std::vector<UsageRecord>& rows) {
    absl::Status status = store_->Append(rows);
    ASSERT_TRUE(status.ok()) << status;
  }
  std::vector<UsageSummaryRow> Summarize(const UsageSummaryQuery& query) {
    auto rows = store_->Summarize(query);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<UsageSummaryRow>{};
  }
  std::vector<std::string> Ids(int limit, const UsageFilter& filter) {
    auto rows = store_->Newest(limit, filter);
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<std::string> ids;
    if (rows.ok()) {
      for (const UsageRecord& r : *rows) ids.push_back(r.request_id);
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<SqliteStore> store_;
};

UsageRecord Row(const std::string& id, int64_t time_ms, const std::string& model,
                const std::string& provider, int status = 200) {
  UsageRecord r;
  r.request_id = id;
  r.time_unix_ms = time_ms;
  r.client_protocol = "chat";
  r.model_requested = model;
  r.provider = provider;
  r.upstream_model = provider.empty() ? "" : model + "-up";
  r.upstream_protocol = provider.empty() ? "" : "chat";
  r.final_status = status;
  r.total_latency_us = 1000;
  r.time_to_first_byte_us = 100;
  r.prompt_tokens = 10;
  r.completion_tokens = 5;
  r.cost_micro_usd = 7;
  return r;
}

TEST_F(SqliteQueryTest, TotalSumsEveryKindOverTheWindow) {
  UsageRecord a = Row("a", 1000, "m", "p");
  a.prompt_tokens = 100;
  a.completion_tokens = 20;
  a.reasoning_tokens = 3;
  a.cache_read_tokens = 40;
  a.cache_write_tokens = 5;
  a.cost_micro_usd = 1'500'001;
  UsageRecord b = Row("b", 1999, "m", "p", 502);
  b.prompt_tokens = 1;
  b.completion_tokens = 2;
  b.reasoning_tokens = 4;
  b.cache_read_tokens = 8;
  b.cache_write_tokens = 16;
  b.cost_micro_usd.reset();  // unknown: counted, not summed as 0
  b.usage_origin = UsageOrigin::kEstimated;
  UsageRecord before = Row("before", 999, "m", "p");
  UsageRecord at_end = Row("at_end", 2000, "m", "p");
  Append({a, b, before, at_end});

  UsageSummaryQuery query;
  query.from_unix_ms = 1000;  // inclusive
  query.to_unix_ms = 2000;    // exclusive
  std::vector<UsageSummaryRow> rows = Summarize(query);
  ASSERT_EQ(rows.size(), 1u);
  const UsageSummaryRow& t = rows[0];
  EXPECT_EQ(t.group, "");
  EXPECT_EQ(t.requests, 2);
  EXPECT_EQ(t.errors, 1);
  EXPECT_EQ(t.estimated, 1);
  EXPECT_EQ(t.prompt_tokens, 101);
  EXPECT_EQ(t.completion_tokens, 22);
  EXPECT_EQ(t.reasoning_tokens, 7);
  EXPECT_EQ(t.cache_read_tokens, 48);
  EXPECT_EQ(t.cache_write_tokens, 21);
  EXPECT_EQ(t.cost_micro_usd, 1'500'001);
  EXPECT_EQ(t.cost_unknown, 1);

  // Unbounded on either side.
  UsageSummaryQuery from_only;
  from_only.from_unix_ms = 1000;
  EXPECT_EQ(Summarize(from_only)[0].requests, 3);
  UsageSummaryQuery to_only;
  to_only.to_unix_ms = 1000;
  EXPECT_EQ(Summarize(to_only)[0].requests, 1);
  EXPECT_EQ(Summarize({})[0].requests, 4);
}

TEST_F(SqliteQueryTest, EmptyWindowIsOneZeroTotalAndNoGroups) {
  Append({Row("a", 1000, "m", "p")});
  UsageSummaryQuery query;
  query.from_unix_ms = 5000;
  std::vector<UsageSummaryRow> rows = Summarize(query);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], UsageSummaryRow{});
  EXPECT_FALSE(rows[0].ttfb_p50_us.has_value());
  query.group_by = UsageGroupBy::kModel;
  EXPECT_TRUE(Summarize(query).empty());
}

TEST_F(SqliteQueryTest, GroupsByEachDimensionSortedByRequests) {
  std::vector<UsageRecord> rows;
  for (int i = 0; i < 3; ++i) rows.push_back(Row(absl::StrCat("g", i), 10 + i, "gpt", "openai"));
  for (int i = 0; i < 2; ++i) rows.push_back(Row(absl::StrCat("c", i), 20 + i, "claude", "ant"));
  rows.push_back(Row("d", 30, "gpt", "azure"));
  rows.push_back(Row("none", 31, "nothing", "", 404));  // no endpoint answered
  rows[0].key_id = "k1";
  rows[1].key_id = "k1";
  rows[3].key_id = "k2";
  Append(rows);

  auto groups = [&](UsageGroupBy by) {
    UsageSummaryQuery query;
    query.group_by = by;
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& r : Summarize(query)) out.emplace_back(r.group, r.requests);
    return out;
  };
  using G = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(groups(UsageGroupBy::kModel), (G{{"gpt", 4}, {"claude", 2}, {"nothing", 1}}));
  EXPECT_EQ(groups(UsageGroupBy::kProvider),
            (G{{"openai", 3}, {"ant", 2}, {"", 1}, {"azure", 1}}));  // ties by name
  EXPECT_EQ(groups(UsageGroupBy::kEndpoint),
            (G{{"openai:gpt-up", 3}, {"ant:claude-up", 2}, {"", 1}, {"azure:gpt-up", 1}}));
  EXPECT_EQ(groups(UsageGroupBy::kKey), (G{{"", 4}, {"k1", 2}, {"k2", 1}}));

  UsageSummaryQuery by_model;
  by_model.group_by = UsageGroupBy::kModel;
  std::vector<UsageSummaryRow> models = Summarize(by_model);
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0].prompt_tokens, 40);
  EXPECT_EQ(models[0].cost_micro_usd, 28);
  EXPECT_EQ(models[2].errors, 1);
  EXPECT_EQ(models[0].errors, 0);
}

TEST_F(SqliteQueryTest, NearestRankPercentiles) {
  std::vector<UsageRecord> rows;
  // Latencies 1..100 in shuffled order; ttfb 10..1000 with every tenth missing.
  for (int i = 0; i < 100; ++i) {
    int v = (i * 37) % 100 + 1;
    UsageRecord r = Row(absl::StrCat("r", i), 100 + i, "m", "p");
    r.total_latency_us = v;
    r.time_to_first_byte_us = v * 10;
    if (v % 10 == 0) r.time_to_first_byte_us.reset();
    rows.push_back(r);
  }
  UsageRecord single = Row("single", 50, "one", "p");
  single.total_latency_us = 777;
  single.time_to_first_byte_us.reset();
  rows.push_back(single);
  Append(rows);

  UsageSummaryQuery query;
  query.group_by = UsageGroupBy::kModel;
  std::vector<UsageSummaryRow> groups = Summarize(query);
  ASSERT_EQ(groups.size(), 2u);
  const UsageSummaryRow& m = groups[0];
  EXPECT_EQ(m.group, "m");
  EXPECT_EQ(m.latency_p50_us, 50);  // rank ceil(0.50 * 100) = 50
  EXPECT_EQ(m.latency_p99_us, 99);  // rank ceil(0.99 * 100) = 99
  // 90 ttfb values: 10..990 without multiples of 100. Rank 45 -> 490 (the
  // 45th of 10,20,..,90,110,..); rank ceil(89.1) = 90 -> 990.
  EXPECT_EQ(m.ttfb_p50_us, 490);
  EXPECT_EQ(m.ttfb_p99_us, 990);
  const UsageSummaryRow& one = groups[1];
  EXPECT_EQ(one.latency_p50_us, 777);
  EXPECT_EQ(one.latency_p99_us, 777);
  EXPECT_FALSE(one.ttfb_p50_us.has_value());  // no byte ever sent: no TTFB, not 0
  EXPECT_FALSE(one.ttfb_p99_us.has_value());

  // Two values: p50 is the lower (rank 1), p99 the upper (rank 2).
  UsageSummaryQuery window;
  window.from_unix_ms = 100;
  window.to_unix_ms = 102;
  std::vector<UsageSummaryRow> two = Summarize(window);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].latency_p50_us, 1);  // r0 = 1, r1 = 38
  EXPECT_EQ(two[0].latency_p99_us, 38);
}

TEST_F(SqliteQueryTest, NewestByStatusExactClassAndError) {
  Append({Row("ok", 1, "m", "p", 200), Row("created", 2, "m", "p", 201),
          Row("limited", 3, "m", "p", 429), Row("bad", 4, "m", "p", 400),
          Row("gateway", 5, "m", "p", 502), Row("unavail", 6, "m", "p", 503),
          Row("nothing", 7, "m", "", 0)});
  UsageFilter f;
  f.status = {StatusMatch::Kind::kExact, 429};
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"limited"}));
  f.status = {StatusMatch::Kind::kClass, 5};
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"unavail", "gateway"}));
  f.status = {StatusMatch::Kind::kClass, 2};
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"created", "ok"}));
  f.status = {StatusMatch::Kind::kNot2xx, 0};
  EXPECT_EQ(Ids(10, f),
            (std::vector<std::string>{"nothing", "unavail", "gateway", "bad", "limited"}));
  EXPECT_EQ(Ids(2, f), (std::vector<std::string>{"nothing", "unavail"}));
  f.model_requested = "other";
  EXPECT_TRUE(Ids(10, f).empty());

  UsageFilter bad;
  bad.status = {StatusMatch::Kind::kClass, 6};
  EXPECT_EQ(store_->Newest(10, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteQueryTest, AfterRowIdIsOldestFirstAndFiltered) {
  // Time order differs from arrival order: a follower goes by arrival.
  Append({Row("first", 500, "a", "p"), Row("second", 100, "b", "p", 503),
          Row("third", 300, "a", "p")});
  auto all = store_->Newest(10, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].request_id, "first");  // newest by time
  int64_t first_id = (*all)[0].row_id;

  UsageFilter f;
  f.after_row_id = 0;
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(Ids(2, f), (std::vector<std::string>{"first", "second"}));
  f.after_row_id = first_id;
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"second", "third"}));
  f.model_requested = "a";
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"third"}));
  f.model_requested.clear();
  f.status = {StatusMatch::Kind::kNot2xx, 0};
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"second"}));

  Append({Row("fourth", 1, "a", "p")});
  UsageFilter next;
  next.after_row_id = (*all)[1].row_id;  // "third", the last one a follower saw
  EXPECT_EQ(Ids(10, next), (std::vector<std::string>{"fourth"}));
  auto fourth = store_->Newest(1, next);
  ASSERT_TRUE(fourth.ok());
  ASSERT_EQ(fourth->size(), 1u);
  next.after_row_id = (*fourth)[0].row_id;
  EXPECT_TRUE(Ids(10, next).empty());
}

TEST_F(SqliteQueryTest, MaxRowIdIsTheFollowersStart) {
  auto empty = store_->MaxRowId();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(*empty, 0);
  Append({Row("a", 500, "m", "p"), Row("b", 100, "m", "p")});
  auto newest = store_->Newest(10, {});
  ASSERT_TRUE(newest.ok());
  auto max = store_->MaxRowId();
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, std::max((*newest)[0].row_id, (*newest)[1].row_id));
  UsageFilter follow;
  follow.after_row_id = *max;
  EXPECT_TRUE(Ids(10, follow).empty());
}

// Runs SQL through a second connection and returns the first column of the
// first row as text ("" when none).
std::string QueryRaw(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_exec(
      db, sql,
      [](void* arg, int, char** values, char**) {
        if (values[0] != nullptr) *static_cast<std::string*>(arg) = values[0];
        return 0;
      },
      &out, nullptr);
  sqlite3_close(db);
  return out;
}

TEST_F(SqliteQueryTest, Version1FileGainsTheQueryIndexes) {
  const std::string path = dir_ + "/bitrouter.db";
  Append({Row("kept", 1, "m", "p")});
  store_.reset();
  // Back to what a version-1 bitrouterd left.
  QueryRaw(path,
           "DROP INDEX usage_records_model_time; DROP INDEX usage_records_status_time; "
           "DROP TABLE keys; DROP TABLE key_revision; DROP TABLE budget_leases; "
           "ALTER TABLE usage_records DROP COLUMN guardrails; "
           "ALTER TABLE usage_records DROP COLUMN route_category; "
           "ALTER TABLE usage_records DROP COLUMN route_model; "
           "DELETE FROM schema_migrations WHERE version >= 2");
  EXPECT_EQ(QueryRaw(path, "SELECT MAX(version) FROM schema_migrations"), "1");

  store_ = std::make_unique<SqliteStore>(path);
  absl::Status status = store_->Open();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store_->SchemaVersion(), SqliteStore::LatestSchemaVersion());
  EXPECT_EQ(QueryRaw(path,
                     "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                     "('usage_records_model_time', 'usage_records_status_time')"),
            "2");
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"kept"}));
}

}  // namespace
}  // namespace bitrouter::store
