// Conformance of the usage-record methods: SQLite and PostgreSQL give the
// same answers to the same calls (ordering, percentiles, status matches,
// follower semantics, group kinds, unknown costs, schema handling).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/controld/store/store_backends.h"

namespace bitrouter::store {
namespace {

class StoreUsageTest : public StoreTest {
 protected:
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
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreUsageTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreUsageTest, SchemaIsLatestAndReopenKeepsIt) {
  auto version = store_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, 6);
  EXPECT_EQ(SqliteStore::LatestSchemaVersion(), PgStore::LatestSchemaVersion());
  Append({FullRecord(1, 1000)});
  store_ = NewStore();
  ASSERT_TRUE(store_->Open().ok());
  EXPECT_EQ(*store_->SchemaVersion(), 6);
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"req-1"}));              // not re-created
  EXPECT_EQ(store_->Open().code(), absl::StatusCode::kFailedPrecondition);  // already open
}

TEST_P(StoreUsageTest, RefusesNewerSchema) {
  EXPECT_EQ(Raw("INSERT INTO schema_migrations VALUES (999, 0)"), "");
  auto store = NewStore();
  absl::Status status = store->Open();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("schema version 999"), std::string::npos) << status;
}

TEST_P(StoreUsageTest, Version1DatabaseGainsTheLaterMigrations) {
  Append({Row("kept", 1, "m", "p")});
  store_.reset();
  // Back to what a version-1 bitrouterd left (the same SQL in both dialects).
  ASSERT_EQ(Raw("DROP INDEX usage_records_model_time; DROP INDEX usage_records_status_time; "
                "DROP TABLE keys; DROP TABLE key_revision; DROP TABLE budget_leases; "
                "ALTER TABLE usage_records DROP COLUMN guardrails; "
                "ALTER TABLE usage_records DROP COLUMN route_category; "
                "ALTER TABLE usage_records DROP COLUMN route_model; "
                "DELETE FROM schema_migrations WHERE version >= 2"),
            "");
  EXPECT_EQ(Raw("SELECT MAX(version) FROM schema_migrations"), "1");
  store_ = NewStore();
  absl::Status status = store_->Open();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store_->SchemaVersion(), 6);
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM schema_migrations"), "6");
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(*store_->MaxKeyRevision(), 0);
  KeyRecord k;
  k.id = "key_a";
  k.name = "a";
  k.hash_hex = std::string(64, 'a');
  k.mcp_tools = {"fs:read_*"};  // migration 5
  EXPECT_EQ(*store_->InsertKey(k), 1);
  ASSERT_EQ(store_->ListKeys()->size(), 1u);
  EXPECT_EQ(store_->ListKeys()->front().mcp_tools, k.mcp_tools);
}

TEST_P(StoreUsageTest, Version5DatabaseGainsTheRouteColumns) {
  Append({Row("old", 1, "m", "p")});
  store_.reset();
  // What a version-5 bitrouterd left: no route columns.
  ASSERT_EQ(Raw("ALTER TABLE usage_records DROP COLUMN route_category; "
                "ALTER TABLE usage_records DROP COLUMN route_model; "
                "DELETE FROM schema_migrations WHERE version >= 6"),
            "");
  store_ = NewStore();
  absl::Status status = store_->Open();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(*store_->SchemaVersion(), 6);
  UsageRecord classified = FullRecord(7, 2000);
  classified.route_category = "vision";
  classified.route_model = "qwen/qwen3-vl-235b-a22b-thinking";
  Append({classified});
  auto rows = store_->Newest(10, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].route_category, "vision");
  EXPECT_EQ((*rows)[0].route_model, "qwen/qwen3-vl-235b-a22b-thinking");
  EXPECT_EQ((*rows)[1].request_id, "old");  // the old row reads as not classified
  EXPECT_EQ((*rows)[1].route_category, "");
  EXPECT_EQ((*rows)[1].route_model, "");
}

TEST_P(StoreUsageTest, CallsBeforeOpenFail) {
  auto store = NewStore();
  EXPECT_EQ(store->Append({FullRecord(1, 1)}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->PruneBefore(1).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Newest(1, {}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Summarize({}).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->MaxRowId().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->ListKeys().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->SyncLease({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreUsageTest, AppendThenNewestRoundTripsEveryField) {
  std::vector<UsageRecord> batch;
  for (int n = 0; n < 6; ++n) batch.push_back(FullRecord(n, 1000 + n * 10));
  batch[2].cost_micro_usd.reset();  // unknown stays unknown, not 0
  batch[3].time_to_first_byte_us.reset();
  batch[4].attempts.clear();
  batch[4].provider.clear();
  batch[4].upstream_model.clear();
  batch[4].upstream_protocol.clear();
  batch[4].final_status = 502;
  batch[5].model_requested = "mödel 'quoted' \"x\" ; DROP TABLE keys; -- ✓";
  batch[5].cost_micro_usd = int64_t{1} << 53;
  Append(batch);
  Append({});  // an empty batch is no error

  auto rows = store_->Newest(100, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), batch.size());
  for (size_t i = 0; i < rows->size(); ++i) {
    UsageRecord got = (*rows)[i];
    const UsageRecord& want = batch[batch.size() - 1 - i];  // newest first
    EXPECT_GT(got.row_id, 0);
    got.row_id = 0;
    EXPECT_EQ(got, want) << "row " << i << " request " << want.request_id;
  }
  EXPECT_EQ(Ids(2, {}), (std::vector<std::string>{"req-5", "req-4"}));
  EXPECT_TRUE(Ids(0, {}).empty());

  UsageFilter by_model;
  by_model.model_requested = "gpt-4o";
  EXPECT_EQ(Ids(100, by_model), (std::vector<std::string>{"req-3", "req-0"}));
  UsageFilter by_key_since;
  by_key_since.key_id = "key-1";
  by_key_since.since_unix_ms = 1020;
  EXPECT_EQ(Ids(100, by_key_since), (std::vector<std::string>{"req-5", "req-3"}));
}

TEST_P(StoreUsageTest, SameTimeOrdersByInsertion) {
  Append({FullRecord(1, 500), FullRecord(2, 500)});
  Append({FullRecord(3, 500)});
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"req-3", "req-2", "req-1"}));
}

TEST_P(StoreUsageTest, PruneBeforeDeletesOnlyOlderRows) {
  Append({FullRecord(1, 100), FullRecord(2, 199), FullRecord(3, 200), FullRecord(4, 300)});
  auto pruned = store_->PruneBefore(200);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2);
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"req-4", "req-3"}));  // the bound is kept
  EXPECT_EQ(*store_->PruneBefore(200), 0);
}

TEST_P(StoreUsageTest, FailedBatchLeavesNothing) {
  Append({FullRecord(1, 1)});
  // A batch is one transaction: a row that fails takes its batch-mates with it.
  const std::string trigger =
      GetParam() == Backend::kSqlite
          ? "CREATE TRIGGER refuse BEFORE INSERT ON usage_records WHEN NEW.request_id = 'req-3' "
            "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
          : "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
            "NEW.request_id = 'req-3' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; "
            "END $$; CREATE TRIGGER refuse BEFORE INSERT ON usage_records FOR EACH ROW EXECUTE "
            "FUNCTION refuse()";
  ASSERT_EQ(Raw(trigger), "");
  absl::Status status = store_->Append({FullRecord(2, 2), FullRecord(3, 3), FullRecord(4, 4)});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("refused by test"), std::string::npos) << status;
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"req-1"}));
  Append({FullRecord(5, 5)});  // the store recovers after the failure
  EXPECT_EQ(Ids(10, {}), (std::vector<std::string>{"req-5", "req-1"}));
}

TEST_P(StoreUsageTest, TotalSumsEveryKindOverTheWindow) {
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
  Append({a, b, Row("before", 999, "m", "p"), Row("at_end", 2000, "m", "p")});

  UsageSummaryQuery query;
  query.from_unix_ms = 1000;  // inclusive
  query.to_unix_ms = 2000;    // exclusive
  std::vector<UsageSummaryRow> rows = Summarize(query);
  ASSERT_EQ(rows.size(), 1u);
  UsageSummaryRow want;
  want.requests = 2;
  want.errors = 1;
  want.estimated = 1;
  want.prompt_tokens = 101;
  want.completion_tokens = 22;
  want.reasoning_tokens = 7;
  want.cache_read_tokens = 48;
  want.cache_write_tokens = 21;
  want.cost_micro_usd = 1'500'001;
  want.cost_unknown = 1;
  want.latency_p50_us = 1000;
  want.latency_p99_us = 1000;
  want.ttfb_p50_us = 100;
  want.ttfb_p99_us = 100;
  EXPECT_EQ(rows[0], want);

  UsageSummaryQuery from_only;
  from_only.from_unix_ms = 1000;
  EXPECT_EQ(Summarize(from_only)[0].requests, 3);
  UsageSummaryQuery to_only;
  to_only.to_unix_ms = 1000;
  EXPECT_EQ(Summarize(to_only)[0].requests, 1);
  EXPECT_EQ(Summarize({})[0].requests, 4);
}

TEST_P(StoreUsageTest, EmptyWindowIsOneZeroTotalAndNoGroups) {
  UsageSummaryQuery query;
  EXPECT_EQ(Summarize(query), std::vector<UsageSummaryRow>{UsageSummaryRow{}});  // empty table
  Append({Row("a", 1000, "m", "p")});
  query.from_unix_ms = 5000;
  EXPECT_EQ(Summarize(query), std::vector<UsageSummaryRow>{UsageSummaryRow{}});
  for (UsageGroupBy by : {UsageGroupBy::kKey, UsageGroupBy::kModel, UsageGroupBy::kProvider,
                          UsageGroupBy::kEndpoint}) {
    query.group_by = by;
    EXPECT_TRUE(Summarize(query).empty());
  }
}

TEST_P(StoreUsageTest, GroupsByEachDimensionSortedByRequestsThenBytes) {
  std::vector<UsageRecord> rows;
  for (int i = 0; i < 3; ++i) rows.push_back(Row(absl::StrCat("g", i), 10 + i, "gpt", "openai"));
  for (int i = 0; i < 2; ++i) rows.push_back(Row(absl::StrCat("c", i), 20 + i, "claude", "ant"));
  rows.push_back(Row("d", 30, "gpt", "azure"));
  rows.push_back(Row("none", 31, "nothing", "", 404));  // no endpoint answered
  // Ties ordered by bytes ("B" < "_" < "a"), whatever the server's collation.
  rows.push_back(Row("t1", 40, "a-model", "Bprov"));
  rows.push_back(Row("t2", 41, "_model", "_prov"));
  rows.push_back(Row("t3", 42, "B-model", "aprov"));
  rows[0].key_id = "k1";
  rows[1].key_id = "k1";
  rows[3].key_id = "k2";
  rows[7].key_id = "K2";
  Append(rows);

  auto groups = [&](UsageGroupBy by) {
    UsageSummaryQuery query;
    query.group_by = by;
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& r : Summarize(query)) out.emplace_back(r.group, r.requests);
    return out;
  };
  using G = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(groups(UsageGroupBy::kModel), (G{{"gpt", 4},
                                             {"claude", 2},
                                             {"B-model", 1},
                                             {"_model", 1},
                                             {"a-model", 1},
                                             {"nothing", 1}}));
  EXPECT_EQ(groups(UsageGroupBy::kProvider), (G{{"openai", 3},
                                                {"ant", 2},
                                                {"", 1},
                                                {"Bprov", 1},
                                                {"_prov", 1},
                                                {"aprov", 1},
                                                {"azure", 1}}));
  EXPECT_EQ(groups(UsageGroupBy::kEndpoint), (G{{"openai:gpt-up", 3},
                                                {"ant:claude-up", 2},
                                                {"", 1},
                                                {"Bprov:a-model-up", 1},
                                                {"_prov:_model-up", 1},
                                                {"aprov:B-model-up", 1},
                                                {"azure:gpt-up", 1}}));
  EXPECT_EQ(groups(UsageGroupBy::kKey), (G{{"", 6}, {"k1", 2}, {"K2", 1}, {"k2", 1}}));

  UsageSummaryQuery by_model;
  by_model.group_by = UsageGroupBy::kModel;
  std::vector<UsageSummaryRow> models = Summarize(by_model);
  ASSERT_EQ(models.size(), 6u);
  EXPECT_EQ(models[0].prompt_tokens, 40);
  EXPECT_EQ(models[0].cost_micro_usd, 28);
  EXPECT_EQ(models[5].errors, 1);
  EXPECT_EQ(models[0].errors, 0);
}

// Nearest rank for every group size 1..120 and a few large ones, against
// the definition computed here: p50/p99 at rank ceil(p * n / 100).
TEST_P(StoreUsageTest, NearestRankPercentilesForEveryGroupSize) {
  std::vector<int> sizes;
  for (int n = 1; n <= 120; ++n) sizes.push_back(n);
  for (int n : {199, 200, 300, 700, 1000, 1100}) sizes.push_back(n);
  std::vector<UsageRecord> rows;
  for (int n : sizes) {
    for (int i = 0; i < n; ++i) {
      UsageRecord r = Row(absl::StrCat(n, "-", i), i, absl::StrCat("n", n), "p");
      r.total_latency_us = (i * 7919) % n + 1;  // 1..n, shuffled
      r.time_to_first_byte_us = ((i * 7919) % n + 1) * 10;
      if (i % 3 == 1) r.time_to_first_byte_us.reset();
      rows.push_back(r);
    }
  }
  Append(rows);
  UsageSummaryQuery query;
  query.group_by = UsageGroupBy::kModel;
  auto rank = [](std::vector<int64_t> v, int p) {
    std::sort(v.begin(), v.end());
    size_t r = std::max<size_t>(1, (static_cast<size_t>(p) * v.size() + 99) / 100);
    return v[r - 1];
  };
  int checked = 0;
  for (const UsageSummaryRow& g : Summarize(query)) {
    std::vector<int64_t> latencies, ttfbs;
    for (const UsageRecord& r : rows) {
      if (r.model_requested != g.group) continue;
      latencies.push_back(r.total_latency_us);
      if (r.time_to_first_byte_us) ttfbs.push_back(*r.time_to_first_byte_us);
    }
    ASSERT_EQ(g.requests, static_cast<int64_t>(latencies.size())) << g.group;
    EXPECT_EQ(g.latency_p50_us, rank(latencies, 50)) << g.group;
    EXPECT_EQ(g.latency_p99_us, rank(latencies, 99)) << g.group;
    if (ttfbs.empty()) {
      EXPECT_FALSE(g.ttfb_p50_us.has_value()) << g.group;  // no byte sent: no TTFB, not 0
      EXPECT_FALSE(g.ttfb_p99_us.has_value()) << g.group;
    } else {
      EXPECT_EQ(g.ttfb_p50_us, rank(ttfbs, 50)) << g.group;
      EXPECT_EQ(g.ttfb_p99_us, rank(ttfbs, 99)) << g.group;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(sizes.size()));
}

TEST_P(StoreUsageTest, NewestByStatusExactClassAndError) {
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
  bad.status = {StatusMatch::Kind::kClass, 0};
  EXPECT_EQ(store_->Newest(10, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreUsageTest, AfterRowIdIsOldestFirstAndFiltered) {
  // Time order differs from arrival order: a follower goes by arrival.
  Append({Row("first", 500, "a", "p"), Row("second", 100, "b", "p", 503),
          Row("third", 300, "a", "p")});
  auto all = store_->Newest(10, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].request_id, "first");  // newest by time
  const int64_t first_id = (*all)[0].row_id;

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
  f.status = {};
  f.since_unix_ms = 200;
  EXPECT_EQ(Ids(10, f), (std::vector<std::string>{"third"}));

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

TEST_P(StoreUsageTest, MaxRowIdIsTheFollowersStart) {
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
  Append({Row("c", 5, "m", "p")});
  EXPECT_EQ(Ids(10, follow), (std::vector<std::string>{"c"}));
}

// Two stores on one database (two nodes, or bitrouterd and a reader): what
// one appends the other reads, and a large batch goes in whole.
TEST_P(StoreUsageTest, SecondConnectionSeesLargeBatch) {
  std::vector<UsageRecord> batch;
  for (int n = 0; n < 2500; ++n) batch.push_back(FullRecord(n, 10'000 + n));
  Append(batch);
  auto other = NewStore();
  ASSERT_TRUE(other->Open().ok());
  auto rows = other->Newest(5000, {});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), batch.size());
  EXPECT_EQ(rows->front().request_id, "req-2499");
  EXPECT_EQ(rows->back().request_id, "req-0");
  EXPECT_EQ(*other->MaxRowId(), *store_->MaxRowId());
}

}  // namespace
}  // namespace bitrouter::store
