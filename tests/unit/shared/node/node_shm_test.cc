// The node region: layout, attach checks, one memory behind every mapping.
#include "shared/node/node_shm.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shared/node/health_table.h"
#include "shared/node/metrics_table.h"

namespace bitrouter::node {
namespace {

TEST(NodeShmTest, AnAttachedMappingSeesTheCreatorsTable) {
  auto created = NodeShm::Create({.health_slots = 128});
  ASSERT_TRUE(created.ok()) << created.status();
  NodeShm& shm = **created;
  EXPECT_GE(shm.fd(), 10) << "kept clear of the fds the supervisor places in children";
  TableView view = shm.Table(TableKind::kEndpointHealth, sizeof(HealthSlot));
  ASSERT_NE(view.base, nullptr);
  EXPECT_EQ(view.capacity, 128u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(view.base) % 64, 0u);
  EXPECT_EQ(shm.Table(TableKind::kEndpointHealth, 32).base, nullptr) << "entry size checked";

  auto attached = NodeShm::Attach(dup(shm.fd()));
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_EQ((*attached)->fd(), -1);
  HealthTable mine(view);
  HealthTable theirs((*attached)->Table(TableKind::kEndpointHealth, sizeof(HealthSlot)));
  ASSERT_TRUE(theirs.valid());
  uint64_t key = HashId("p/m");
  BreakerLimits limits{.failures = 1, .cooldown_ms = 100, .probe_lease_ms = 100};
  ASSERT_TRUE(mine.OnFailure(key, 0, limits, 1));
  EXPECT_EQ(theirs.Check(key, 50, limits, 2), HealthGate::kSkipOpen);
  EXPECT_EQ(theirs.Check(key, 100, limits, 2), HealthGate::kProbe);
  EXPECT_EQ(mine.Check(key, 100, limits, 1), HealthGate::kSkipOpen);
}

TEST(NodeShmTest, MetricsTablesAreSizedBySpecAndSeenByEveryMapping) {
  auto created = NodeShm::Create(
      {.health_slots = 16, .metrics_worker_slots = 3, .metrics_series_per_slot = 32});
  ASSERT_TRUE(created.ok()) << created.status();
  MetricsTable mine(**created);
  ASSERT_TRUE(mine.valid());
  EXPECT_EQ(mine.worker_slots(), 3u);
  EXPECT_EQ(mine.daemon_slot(), 3u);
  EXPECT_EQ(mine.series_per_slot(), 32u);
  EXPECT_EQ((*created)->Table(TableKind::kMetricIndex, 4).capacity, 4u * 32 * 2);

  auto attached = NodeShm::Attach(dup((*created)->fd()));
  ASSERT_TRUE(attached.ok()) << attached.status();
  MetricsTable theirs(**attached);
  ASSERT_TRUE(theirs.valid());
  LabelKey key;
  key.Add("openai");
  mine.Series(1, SeriesFamily::kFailovers, key).values[0].fetch_add(5);
  EXPECT_EQ(theirs.Series(1, SeriesFamily::kFailovers, key).values[0].load(), 5u);
  EXPECT_EQ(theirs.slot(1).series_claimed.load(), 1u) << "found, not claimed again";

  EXPECT_FALSE(NodeShm::Create({.metrics_worker_slots = 1, .metrics_series_per_slot = 6}).ok());
  auto without = NodeShm::Create({.health_slots = 16, .metrics_worker_slots = 0});
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(MetricsTable(**without).valid());
}

TEST(NodeShmTest, AttachRejectsWhatIsNotARegion) {
  int fd = memfd_create("not-a-region", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 1 << 16), 0);
  auto r = NodeShm::Attach(fd);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("magic"), std::string::npos) << r.status();

  int small = memfd_create("tiny", MFD_CLOEXEC);
  ASSERT_GE(small, 0);
  EXPECT_FALSE(NodeShm::Attach(small).ok());
  EXPECT_FALSE(NodeShm::Attach(-1).ok());
}

}  // namespace
}  // namespace bitrouter::node
