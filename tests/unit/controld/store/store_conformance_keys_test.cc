// Conformance of virtual keys and budget leases: SQLite and PostgreSQL give
// the same answers (revisions, AlreadyExists / NotFound, lease arithmetic).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/controld/store/store_backends.h"

namespace bitrouter::store {
namespace {

KeyRecord Key(const std::string& id, const std::string& name, int64_t created) {
  KeyRecord k;
  k.id = id;
  k.name = name;
  k.hash_hex = std::string(64, id.back());
  k.prefix = "brvk_" + id.substr(0, 7);
  k.models = {"openai:*", "anthropic:claude-*"};
  k.mcp_tools = {"github", "fs:read_*", "virtual:search*"};
  k.budget_micro_usd = 5'000'000;
  k.budget_period = "month";
  k.rpm = 60;
  k.expires_unix_ms = 9'000'000'000'000;
  k.created_unix_ms = created;
  k.updated_unix_ms = created;
  return k;
}

class StoreKeysTest : public StoreTest {
 protected:
  // A key with a budget for the lease tests.
  void AddBudgetKey(const std::string& id) {
    auto r = store_->InsertKey(Key(id, "name-" + id, 1));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  LeaseGrant Sync(const std::string& node, int64_t budget, int64_t need, int64_t now,
                  const std::string& key = "key_a", int64_t period_start = 0) {
    LeaseRequest r;
    r.node_id = node;
    r.key_id = key;
    r.budget_micro_usd = budget;
    r.need_micro_usd = need;
    r.now_unix_ms = now;
    r.period_start_unix_ms = period_start;
    r.live_window_ms = 10'000;
    auto grant = store_->SyncLease(r);
    EXPECT_TRUE(grant.ok()) << grant.status();
    return grant.ok() ? *grant : LeaseGrant{};
  }
  UsageRecord Spend(const std::string& key, int64_t time, std::optional<int64_t> cost) {
    UsageRecord r = Row(absl::StrCat("spend-", ++spends_), time, "m", "p");
    r.key_id = key;
    r.cost_micro_usd = cost;
    return r;
  }
  int spends_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreKeysTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

TEST_P(StoreKeysTest, InsertListAndRevisionsIncrease) {
  EXPECT_EQ(*store_->MaxKeyRevision(), 0);
  EXPECT_TRUE(store_->ListKeys()->empty());
  KeyRecord a = Key("key_a", "alpha", 200);
  KeyRecord b = Key("key_b", "beta", 100);
  b.models.clear();     // every model
  b.mcp_tools.clear();  // every MCP tool
  b.budget_micro_usd.reset();
  b.budget_period = "total";
  b.rpm.reset();
  b.tpm = 1000;
  b.expires_unix_ms.reset();
  b.revoked_unix_ms = 150;
  auto ra = store_->InsertKey(a);
  ASSERT_TRUE(ra.ok()) << ra.status();
  auto rb = store_->InsertKey(b);
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(*ra, 1);
  EXPECT_EQ(*rb, 2);
  EXPECT_EQ(*store_->MaxKeyRevision(), 2);
  a.revision = *ra;
  b.revision = *rb;
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::vector<KeyRecord>{b, a}));  // by created_unix_ms
}

TEST_P(StoreKeysTest, ListOrdersByCreatedThenIdBytes) {
  for (const char* id : {"key_b", "key_A", "key__", "key_a"}) {
    ASSERT_TRUE(store_->InsertKey(Key(id, absl::StrCat("n", id), 5)).ok()) << id;
  }
  ASSERT_TRUE(store_->InsertKey(Key("key_0", "first", 1)).ok());
  std::vector<std::string> ids;
  auto keys = store_->ListKeys();  // named: a range-for over *temporary would dangle
  ASSERT_TRUE(keys.ok()) << keys.status();
  for (const KeyRecord& k : *keys) ids.push_back(k.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"key_0", "key_A", "key__", "key_a", "key_b"}));
}

TEST_P(StoreKeysTest, UpdateReplacesFieldsAndTakesANewRevision) {
  ASSERT_TRUE(store_->InsertKey(Key("key_a", "alpha", 100)).ok());
  ASSERT_TRUE(store_->InsertKey(Key("key_b", "beta", 100)).ok());
  KeyRecord changed = Key("key_a", "alpha2", 100);
  changed.hash_hex = std::string(64, 'f');  // ignored: never replaced
  changed.prefix = "brvk_other";            // ignored
  changed.created_unix_ms = 7;              // ignored
  changed.models = {"gpt-4o*"};
  changed.mcp_tools = {"docs:*"};  // replaced, like models
  changed.budget_micro_usd.reset();
  changed.budget_period = "day";
  changed.rpm.reset();
  changed.tpm = 5;
  changed.expires_unix_ms.reset();
  changed.updated_unix_ms = 300;
  changed.revoked_unix_ms = 300;
  auto revision = store_->UpdateKey(changed);
  ASSERT_TRUE(revision.ok()) << revision.status();
  EXPECT_EQ(*revision, 3);
  EXPECT_EQ(*store_->MaxKeyRevision(), 3);

  KeyRecord want = changed;
  want.hash_hex = Key("key_a", "", 0).hash_hex;
  want.prefix = Key("key_a", "", 0).prefix;
  want.created_unix_ms = 100;
  want.revision = 3;
  auto keys = store_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0], want);
}

TEST_P(StoreKeysTest, DuplicatesAreAlreadyExistsAndUnknownIsNotFound) {
  ASSERT_TRUE(store_->InsertKey(Key("key_a", "alpha", 1)).ok());
  ASSERT_TRUE(store_->InsertKey(Key("key_b", "beta", 1)).ok());
  KeyRecord same_name = Key("key_c", "alpha", 1);
  EXPECT_EQ(store_->InsertKey(same_name).status().code(), absl::StatusCode::kAlreadyExists);
  KeyRecord same_hash = Key("key_d", "delta", 1);
  same_hash.hash_hex = Key("key_a", "", 0).hash_hex;
  EXPECT_EQ(store_->InsertKey(same_hash).status().code(), absl::StatusCode::kAlreadyExists);
  KeyRecord same_id = Key("key_a", "other", 1);
  same_id.hash_hex = std::string(64, '9');
  EXPECT_EQ(store_->InsertKey(same_id).status().code(), absl::StatusCode::kAlreadyExists);

  KeyRecord rename = Key("key_b", "alpha", 1);  // another key's name
  EXPECT_EQ(store_->UpdateKey(rename).status().code(), absl::StatusCode::kAlreadyExists);
  auto missing = store_->UpdateKey(Key("key_zz", "zz", 1));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  // Failed writes take no revision and change nothing.
  EXPECT_EQ(*store_->MaxKeyRevision(), 2);
  EXPECT_EQ(store_->ListKeys()->size(), 2u);
  EXPECT_EQ(*store_->InsertKey(Key("key_e", "epsilon", 1)), 3);
}

TEST_P(StoreKeysTest, OneNodeGetsTheWholeRemainder) {
  AddBudgetKey("key_a");
  LeaseGrant g = Sync("n1", 1000, 100, 50'000);
  EXPECT_EQ(g.spent_micro_usd, 0);
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.live_nodes, 1);
  EXPECT_EQ(g.lease_micro_usd, 1000);
  // Renewing replaces the node's own lease, never counts it as another's.
  g = Sync("n1", 1000, 300, 51'000);
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.lease_micro_usd, 1000);
}

TEST_P(StoreKeysTest, TwoNodesSplitTheRemainder) {
  AddBudgetKey("key_a");
  Append({Spend("key_a", 10, 200)});
  LeaseGrant first = Sync("n1", 1000, 0, 50'000);
  EXPECT_EQ(first.lease_micro_usd, 800);  // alone: all that is left
  LeaseGrant second = Sync("n2", 1000, 100, 50'001);
  EXPECT_EQ(second.spent_micro_usd, 200);
  EXPECT_EQ(second.others_micro_usd, 800);
  EXPECT_EQ(second.live_nodes, 2);
  EXPECT_EQ(second.lease_micro_usd, 100);  // nothing left beyond its need
  // n1 renews with a smaller need: it gives back, and the rest is split.
  LeaseGrant renewed = Sync("n1", 1000, 50, 50'002);
  EXPECT_EQ(renewed.others_micro_usd, 100);
  EXPECT_EQ(renewed.live_nodes, 2);
  EXPECT_EQ(renewed.lease_micro_usd, 50 + (1000 - 200 - 100 - 50) / 2);
  LeaseGrant again = Sync("n2", 1000, 100, 50'003);
  EXPECT_EQ(again.others_micro_usd, 375);
  // Shares count the other node's need, not its whole lease: n2 gets half of
  // the unclaimed 650 (budget - spent - both needs), which n1's lease leaves.
  EXPECT_EQ(again.lease_micro_usd, 100 + (1000 - 200 - 100 - 50) / 2);
  EXPECT_EQ(renewed.lease_micro_usd + again.lease_micro_usd, 1000 - 200) << "all of it, no more";
  // A node whose share the other's lease does not leave gets only what is left.
  LeaseGrant greedy = Sync("n1", 1000, 300, 50'004);
  EXPECT_EQ(greedy.lease_micro_usd, 1000 - 200 - 425);
}

TEST_P(StoreKeysTest, NeedIsNeverTakenAwayEvenOverBudget) {
  AddBudgetKey("key_a");
  Append({Spend("key_a", 10, 900)});
  LeaseGrant g = Sync("n1", 1000, 500, 50'000);
  EXPECT_EQ(g.lease_micro_usd, 500);  // remaining < 0: share 0, need kept
  Sync("n2", 1000, 0, 50'001);
  g = Sync("n1", 2000, 50, 50'002);
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.lease_micro_usd, 50 + (2000 - 900 - 0 - 50) / 2);
  g = Sync("n3", 100, 70, 50'003);
  EXPECT_EQ(g.live_nodes, 3);
  EXPECT_EQ(g.lease_micro_usd, 70);
}

TEST_P(StoreKeysTest, StaleLeasesAreIgnoredAndDropped) {
  AddBudgetKey("key_a");
  Sync("dead", 1000, 400, 10'000);
  LeaseGrant g = Sync("n1", 1000, 0, 20'000);  // exactly at the window's edge: live
  EXPECT_EQ(g.others_micro_usd, 1000);
  EXPECT_EQ(g.live_nodes, 2);
  g = Sync("n1", 1000, 0, 20'001);  // "dead" is 10001 ms old: gone
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.live_nodes, 1);
  EXPECT_EQ(g.lease_micro_usd, 1000);
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM budget_leases WHERE node_id = 'dead'"), "0");
}

TEST_P(StoreKeysTest, SpendCountsOnlyThePeriodTheKeyAndKnownCosts) {
  AddBudgetKey("key_a");
  AddBudgetKey("key_b");
  Append({Spend("key_a", 999, 1000), Spend("key_a", 1000, 30), Spend("key_a", 5000, 12),
          Spend("key_a", 6000, std::nullopt), Spend("key_b", 2000, 500), Spend("", 2000, 700)});
  LeaseGrant g = Sync("n1", 100, 0, 50'000, "key_a", /*period_start=*/1000);
  EXPECT_EQ(g.spent_micro_usd, 42);
  EXPECT_EQ(g.lease_micro_usd, 58);
  g = Sync("n1", 100, 0, 50'000, "key_a", /*period_start=*/0);
  EXPECT_EQ(g.spent_micro_usd, 1042);
  EXPECT_EQ(g.lease_micro_usd, 0);
  // Another key's leases are not this key's others.
  g = Sync("n2", 600, 0, 50'000, "key_b");
  EXPECT_EQ(g.spent_micro_usd, 500);
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.lease_micro_usd, 100);
}

TEST_P(StoreKeysTest, DropLeasesGivesTheShareBack) {
  AddBudgetKey("key_a");
  AddBudgetKey("key_b");
  Sync("n1", 1000, 0, 50'000);
  Sync("n1", 1000, 0, 50'000, "key_b");
  EXPECT_EQ(Sync("n2", 1000, 0, 50'001).others_micro_usd, 1000);
  ASSERT_TRUE(store_->DropLeases("n1").ok());
  ASSERT_TRUE(store_->DropLeases("nobody").ok());
  LeaseGrant g = Sync("n2", 1000, 0, 50'002);
  EXPECT_EQ(g.others_micro_usd, 0);
  EXPECT_EQ(g.live_nodes, 1);
  EXPECT_EQ(g.lease_micro_usd, 1000);
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM budget_leases"), "1");
}

TEST_P(StoreKeysTest, SyncLeaseOnAnUnknownKeyIsNotFound) {
  LeaseRequest r;
  r.node_id = "n1";
  r.key_id = "key_missing";
  r.budget_micro_usd = 10;
  EXPECT_EQ(store_->SyncLease(r).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM budget_leases"), "0");
}

}  // namespace
}  // namespace bitrouter::store
