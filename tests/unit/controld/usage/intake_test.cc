// UsageIntake: batches committed before they are acknowledged, piled-up
// batches written together, failed writes retried in order, queries on the
// store thread, retention, bounded queue, and the write rate into SQLite.
#include "controld/usage/intake.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>

#include "controld/store/sqlite_store.h"
#include "shared/common/wall_clock.h"

namespace bitrouter::controld {
namespace {

store::UsageRecord Rec(const std::string& id, int64_t time_ms = 0) {
  store::UsageRecord r;
  r.request_id = id;
  r.time_unix_ms = time_ms == 0 ? UnixMillis() : time_ms;
  r.client_protocol = "chat";
  r.model_requested = "openai:gpt-4o";
  r.provider = "openai";
  r.upstream_model = "gpt-4o";
  r.attempts = {{"openai:gpt-4o", 200, "", 1234}};
  r.final_status = 200;
  r.prompt_tokens = 100;
  r.completion_tokens = 20;
  r.cost_micro_usd = 410;
  return r;
}

// A store that fails its first `failures` Appends, then delegates.
class FlakyStore : public store::UsageStore {
 public:
  FlakyStore(std::unique_ptr<store::UsageStore> inner, int failures)
      : inner_(std::move(inner)), failures_(failures) {}
  absl::Status Open() override { return inner_->Open(); }
  absl::StatusOr<int64_t> SchemaVersion() override { return inner_->SchemaVersion(); }
  absl::Status Append(const std::vector<store::UsageRecord>& r) override {
    ++appends;
    if (failures_-- > 0) return absl::UnavailableError("database is locked");
    return inner_->Append(r);
  }
  absl::StatusOr<int64_t> PruneBefore(int64_t ms) override { return inner_->PruneBefore(ms); }
  absl::StatusOr<std::vector<store::UsageRecord>> Newest(int limit,
                                                         const store::UsageFilter& f) override {
    return inner_->Newest(limit, f);
  }
  absl::StatusOr<std::vector<store::UsageSummaryRow>> Summarize(
      const store::UsageSummaryQuery& q) override {
    return inner_->Summarize(q);
  }
  absl::StatusOr<int64_t> MaxRowId() override { return inner_->MaxRowId(); }
  absl::StatusOr<int64_t> InsertKey(const store::KeyRecord& k) override {
    return inner_->InsertKey(k);
  }
  absl::StatusOr<int64_t> UpdateKey(const store::KeyRecord& k) override {
    return inner_->UpdateKey(k);
  }
  absl::StatusOr<std::vector<store::KeyRecord>> ListKeys() override { return inner_->ListKeys(); }
  absl::StatusOr<int64_t> MaxKeyRevision() override { return inner_->MaxKeyRevision(); }
  absl::StatusOr<store::LeaseGrant> SyncLease(const store::LeaseRequest& r) override {
    return inner_->SyncLease(r);
  }
  absl::Status DropLeases(const std::string& node) override { return inner_->DropLeases(node); }
  std::atomic<int> appends{0};

 private:
  std::unique_ptr<store::UsageStore> inner_;
  int failures_;
};

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brintakeXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }
  std::unique_ptr<store::UsageStore> Sqlite() {
    auto s = std::make_unique<store::SqliteStore>(dir_ + "/u.db");
    EXPECT_TRUE(s->Open().ok());
    return s;
  }
  std::vector<store::UsageRecord> All(UsageIntake& intake) {
    std::vector<store::UsageRecord> out;
    EXPECT_TRUE(intake
                    .Run([&](store::UsageStore& st) -> absl::Status {
                      auto rows = st.Newest(1'000'000, {});
                      if (!rows.ok()) return rows.status();
                      out = std::move(*rows);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }
  std::string dir_;
};

TEST_F(IntakeTest, AcknowledgesOnlyWhatIsCommitted) {
  UsageIntake intake(Sqlite(), {});
  intake.Start();
  std::promise<absl::Status> done;
  ASSERT_TRUE(
      intake.Submit({Rec("a"), Rec("b")}, [&](const absl::Status& s) { done.set_value(s); }));
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(All(intake).size(), 2u);
  EXPECT_EQ(intake.stats().rows_written, 2u);
}

TEST_F(IntakeTest, AFailedWriteIsRetriedAndAnsweredOnce) {
  auto flaky = std::make_unique<FlakyStore>(Sqlite(), 2);
  FlakyStore* f = flaky.get();
  UsageIntake intake(std::move(flaky), {});
  intake.Start();
  std::atomic<int> answers{0};
  std::atomic<bool> ok{false};
  ASSERT_TRUE(intake.Submit({Rec("x")}, [&](const absl::Status& s) {
    ok = s.ok();
    ++answers;
  }));
  ASSERT_TRUE(intake.Submit({Rec("y")}, [&](const absl::Status& s) {
    ok = ok && s.ok();
    ++answers;
  }));
  for (int i = 0; i < 100 && answers < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(answers, 2);
  EXPECT_TRUE(ok);
  EXPECT_GE(f->appends, 3);
  EXPECT_EQ(intake.stats().write_errors, 2u);
  auto rows = All(intake);
  ASSERT_EQ(rows.size(), 2u);  // each once, none lost, none doubled
}

TEST_F(IntakeTest, RefusesBeyondItsBoundButNeverTheFirstBatch) {
  UsageIntake::Options o;
  o.max_queued_records = 3;
  auto flaky = std::make_unique<FlakyStore>(Sqlite(), 1'000'000);  // a dead store
  UsageIntake intake(std::move(flaky), o);
  // Not started: nothing drains.
  EXPECT_TRUE(intake.Submit({Rec("1"), Rec("2"), Rec("3"), Rec("4")}, nullptr));
  EXPECT_FALSE(intake.Submit({Rec("5")}, nullptr));
  EXPECT_EQ(intake.stats().refused_batches, 1u);
  intake.Stop(std::chrono::milliseconds(0));
}

TEST_F(IntakeTest, StopWritesWhatIsQueued) {
  {
    UsageIntake intake(Sqlite(), {});
    intake.Start();
    for (int i = 0; i < 50; ++i) intake.Submit({Rec("r" + std::to_string(i))}, nullptr);
    intake.Stop();
  }
  store::SqliteStore check(dir_ + "/u.db");
  ASSERT_TRUE(check.Open().ok());
  EXPECT_EQ(check.Newest(1000, {})->size(), 50u);
}

TEST_F(IntakeTest, RetentionPrunesOldRows) {
  UsageIntake::Options o;
  o.retention = std::chrono::hours(24);
  o.prune_every = std::chrono::hours(1);
  UsageIntake intake(Sqlite(), o);
  intake.Start();
  std::promise<void> done;
  intake.Submit({Rec("old", UnixMillis() - 2 * 86'400'000), Rec("new")},
                [&](const absl::Status&) { done.set_value(); });
  done.get_future().wait();
  // The periodic prune may have run after the write already; either way
  // exactly the old row went.
  ASSERT_TRUE(intake.PruneNow().ok());
  EXPECT_EQ(intake.stats().rows_pruned, 1u);
  auto rows = All(intake);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].request_id, "new");
}

// Issue 14's target: >= 20,000 rows/s into SQLite through the intake, in
// batches of 512 as workers send them. Printed, and checked loosely (a
// shared 2-core CI machine must not turn this into a flaky timing test).
TEST_F(IntakeTest, WriteRate) {
  UsageIntake intake(Sqlite(), {});
  intake.Start();
  constexpr int kBatches = 200, kPer = 512;
  std::vector<std::vector<store::UsageRecord>> batches(kBatches);
  for (int b = 0; b < kBatches; ++b) {
    for (int i = 0; i < kPer; ++i) batches[b].push_back(Rec("b" + std::to_string(b * kPer + i)));
  }
  std::atomic<int> acked{0};
  auto t0 = std::chrono::steady_clock::now();
  for (auto& b : batches) {
    while (!intake.Submit(b, [&](const absl::Status&) { ++acked; })) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  for (int i = 0; i < 6000 && acked < kBatches; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(acked, kBatches);
  double rate = kBatches * kPer / secs;
  std::printf("usage intake: %d rows in %.3f s = %.0f rows/s\n", kBatches * kPer, secs, rate);
  EXPECT_GT(rate, 2'000);
}

}  // namespace
}  // namespace bitrouter::controld
