// The node's metrics table and its writers: workers on their own slots of
// one region sum up in any process's render; label sets beyond a slot's
// capacity are counted under "other"; a restarted worker keeps its counters
// and restarts its gauges; processes writing at once count exactly.
#include "shared/node/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "shared/node/metrics_render.h"
#include "shared/node/node_shm.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::node {
namespace {

using testing::ParsePrometheusText;
using testing::PromText;

std::unique_ptr<NodeShm> Region(uint32_t worker_slots = 4, uint32_t series = 64) {
  auto created = NodeShm::Create({.health_slots = 16,
                                  .metrics_worker_slots = worker_slots,
                                  .metrics_series_per_slot = series});
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? std::move(*created) : nullptr;
}

PromText Render(const MetricsTable& table) {
  PromText text = ParsePrometheusText(RenderPrometheus(table));
  EXPECT_TRUE(text.ok()) << text.ErrorText();
  return text;
}

RequestSample Served(std::string_view provider = "openai", std::string_view model = "gpt-4o") {
  static const AttemptSample kOk[] = {{"openai", "ok"}};
  RequestSample s;
  s.client_protocol = "chat";
  s.provider = provider;
  s.model = model;
  s.status = 200;
  s.attempts = kOk;
  s.upstream_ttfb_us = 120'000;
  s.upstream_latency_us = 400'000;
  s.overhead_us = 40;
  s.prompt_tokens = 10;
  s.completion_tokens = 5;
  s.cost_micro_usd = 7;
  return s;
}

// A pid that existed and is gone (reaped).
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

TEST(WorkerMetricsTest, TwoWorkersOnTheirOwnSlotsSumInEveryMapping) {
  auto shm = Region();
  WorkerMetrics a, b;
  ASSERT_TRUE(a.UseShared(*shm, 0));
  ASSERT_TRUE(b.UseShared(*shm, 1));
  EXPECT_TRUE(a.shared());
  EXPECT_NE(a.slot(), b.slot());
  for (int i = 0; i < 3; ++i) a.RecordRequest(Served());
  b.RecordRequest(Served());
  RequestSample failed;
  failed.client_protocol = "messages";
  failed.status = 502;
  const AttemptSample attempts[] = {{"openai", "status_5xx"}, {"anthropic", "timeout"}};
  failed.attempts = attempts;
  failed.failovers = 1;
  failed.route = "smart";
  b.RecordRequest(failed);
  a.ConnectionOpened();
  a.ConnectionOpened();
  b.ConnectionOpened();
  a.ConnectionClosed();
  b.StreamStarted();
  a.SetSnapshotVersion(7);
  b.SetSnapshotVersion(8);
  b.UsageRecordsDropped(4);

  // Another process's mapping of the same region renders the same totals.
  auto attached = NodeShm::Attach(dup(shm->fd()));
  ASSERT_TRUE(attached.ok()) << attached.status();
  MetricsTable theirs(**attached);
  ASSERT_TRUE(theirs.valid());
  EXPECT_EQ(RenderPrometheus(theirs), RenderPrometheus(a.table()));
  PromText t = Render(theirs);
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"client_protocol", "chat"},
                                               {"route", "direct"},
                                               {"provider", "openai"},
                                               {"model", "gpt-4o"},
                                               {"status", "200"},
                                               {"streamed", "false"}}),
            4);
  EXPECT_EQ(t.Sum("bitrouter_requests_total",
                  {{"provider", "none"}, {"model", "none"}, {"status", "502"}, {"route", "smart"}}),
            1);
  EXPECT_EQ(t.Sum("bitrouter_upstream_attempts_total", {{"provider", "openai"}, {"outcome", "ok"}}),
            4);
  EXPECT_EQ(t.Sum("bitrouter_upstream_attempts_total", {{"outcome", "timeout"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_failovers_total", {{"route", "smart"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_tokens_total", {{"provider", "openai"}, {"kind", "prompt"}}), 40);
  EXPECT_EQ(t.Sum("bitrouter_tokens_total", {{"kind", "completion"}}), 20);
  EXPECT_DOUBLE_EQ(t.Sum("bitrouter_cost_usd_total"), 28e-6);
  EXPECT_EQ(t.Sum("bitrouter_requests_cost_unknown_total"), 0) << "the failed one served nothing";
  EXPECT_EQ(t.Sum("bitrouter_upstream_ttfb_seconds_count", {{"provider", "openai"}}), 4);
  EXPECT_EQ(t.Sum("bitrouter_upstream_latency_seconds_count"), 4);
  EXPECT_DOUBLE_EQ(t.Sum("bitrouter_upstream_latency_seconds_sum"), 1.6);
  EXPECT_EQ(t.Sum("bitrouter_router_overhead_seconds_count"), 5) << "failures count too";
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 2);
  EXPECT_EQ(t.Sum("bitrouter_active_streams"), 1);
  EXPECT_EQ(t.Sum("bitrouter_snapshot_version", {{"worker", "0"}}), 7);
  EXPECT_EQ(t.Sum("bitrouter_snapshot_version", {{"worker", "1"}}), 8);
  EXPECT_EQ(t.Sum("bitrouter_workers"), 2);
  EXPECT_EQ(t.Sum("bitrouter_usage_records_dropped_total"), 4);
  EXPECT_EQ(t.Sum("bitrouter_metrics_series_overflow_total"), 0);
}

TEST(WorkerMetricsTest, LabelSetsBeyondTheSlotAreCountedAsOther) {
  auto shm = Region(2, 10 + kSeriesFamilies);  // 10 ordinary series per slot
  WorkerMetrics w;
  ASSERT_TRUE(w.UseShared(*shm, 0));
  RequestSample s;
  s.client_protocol = "chat";
  s.status = 500;
  s.failovers = 2;
  std::vector<std::string> routes;
  for (int i = 0; i < 30; ++i) routes.push_back("route-" + std::to_string(i));
  for (const std::string& r : routes) {
    s.route = r;
    w.RecordRequest(s);
  }
  const std::string long_route(300, 'x');  // does not fit a key: "other" at once
  s.route = long_route;
  w.RecordRequest(s);

  PromText t = Render(w.table());
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 31) << "no request lost";
  EXPECT_EQ(t.Sum("bitrouter_failovers_total"), 62);
  size_t series = t.Count("bitrouter_requests_total") + t.Count("bitrouter_failovers_total");
  EXPECT_LE(series, 10u + 2u) << "the slot's ordinary series plus one overflow per family";
  EXPECT_GT(t.Sum("bitrouter_requests_total", {{"client_protocol", "other"},
                                               {"route", "other"},
                                               {"provider", "other"},
                                               {"model", "other"},
                                               {"status", "other"},
                                               {"streamed", "other"}}),
            0);
  EXPECT_GT(t.Sum("bitrouter_failovers_total", {{"route", "other"}}), 0);
  EXPECT_GT(t.Sum("bitrouter_metrics_series_overflow_total"), 0);
  EXPECT_EQ(t.Count("bitrouter_requests_total", {{"route", long_route}}), 0u);

  // A label set that got a series keeps it.
  double before = t.Sum("bitrouter_requests_total", {{"route", "route-0"}});
  ASSERT_EQ(before, 1);
  s.route = "route-0";
  w.RecordRequest(s);
  EXPECT_EQ(Render(w.table()).Sum("bitrouter_requests_total", {{"route", "route-0"}}), 2);
}

TEST(WorkerMetricsTest, RestartedWorkerKeepsItsCountersAndRestartsItsGauges) {
  auto shm = Region();
  pid_t dead = DeadPid();
  {
    WorkerMetrics old;
    ASSERT_TRUE(old.UseShared(*shm, 2, dead));  // as if that process had been worker 2
    old.RecordRequest(Served());
    old.ConnectionOpened();
    old.StreamStarted();
    old.SetSnapshotVersion(3);
  }
  // Its replacement (bitrouterd has not released the slot): same slot, the
  // old owner is gone.
  WorkerMetrics fresh;
  ASSERT_TRUE(fresh.UseShared(*shm, 2));
  EXPECT_EQ(fresh.slot(), 2u);
  EXPECT_FALSE(fresh.slot_shared());
  PromText t = Render(fresh.table());
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 1) << "counters are never reset";
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 0);
  EXPECT_EQ(t.Sum("bitrouter_active_streams"), 0);
  EXPECT_EQ(t.Sum("bitrouter_snapshot_version"), 0);
  fresh.RecordRequest(Served());
  fresh.ConnectionOpened();
  t = Render(fresh.table());
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 2);
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 1);
  EXPECT_EQ(t.Sum("bitrouter_workers"), 1);

  // bitrouterd reaps it: its gauges go, its counters stay.
  shm->ReleaseClaimsOf(getpid());
  t = Render(fresh.table());
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 0);
  EXPECT_EQ(t.Sum("bitrouter_workers"), 0);
  EXPECT_EQ(t.Count("bitrouter_snapshot_version"), 0u);
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 2);
}

TEST(WorkerMetricsTest, LiveOwnersAreNeverEvicted) {
  auto shm = Region(2);
  WorkerMetrics parent, self, third;
  ASSERT_TRUE(parent.UseShared(*shm, 0, getppid()));  // alive: the test runner's parent
  ASSERT_TRUE(self.UseShared(*shm, 0));
  EXPECT_EQ(self.slot(), 1u) << "slot 0 has a live owner: the next free one";
  EXPECT_FALSE(self.slot_shared());
  self.ConnectionOpened();
  ASSERT_TRUE(third.UseShared(*shm, 1, 1));  // pid 1 is alive too
  EXPECT_TRUE(third.slot_shared());
  EXPECT_EQ(third.slot(), 1u);
  third.ConnectionOpened();
  third.RecordRequest(Served());
  self.RecordRequest(Served());
  PromText t = Render(self.table());
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 2) << "a shared slot's gauges are not reset";
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 2);
}

TEST(WorkerMetricsTest, WithoutARegionEveryCallStillWorks) {
  WorkerMetrics w;
  EXPECT_FALSE(w.shared());
  w.RecordRequest(Served());
  w.ConnectionOpened();
  w.SetSnapshotVersion(1);
  auto no_metrics = NodeShm::Create({.health_slots = 16, .metrics_worker_slots = 0});
  ASSERT_TRUE(no_metrics.ok());
  EXPECT_FALSE(w.UseShared(**no_metrics, 0));
  EXPECT_FALSE(w.shared());
  PromText t = Render(w.table());
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 1);
  EXPECT_EQ(t.Sum("bitrouter_active_connections"), 1);
  EXPECT_EQ(t.Sum("bitrouter_workers"), 1);

  DaemonMetrics d(nullptr);
  EXPECT_FALSE(d.shared());
  d.StoreWrite(true, 5, 100);
  EXPECT_EQ(Render(d.table()).Sum("bitrouter_store_rows_written_total"), 5);
}

TEST(DaemonMetricsTest, StoreWritesShowInEveryWorkersRender) {
  auto shm = Region();
  DaemonMetrics d(shm.get());
  ASSERT_TRUE(d.shared());
  d.StoreWrite(true, 100, 1'500);
  d.StoreWrite(true, 20, 300);
  d.StoreWrite(false, 7, 2'000'000);
  WorkerMetrics w;
  ASSERT_TRUE(w.UseShared(*shm, 0));
  PromText t = Render(w.table());
  EXPECT_EQ(t.Sum("bitrouter_store_rows_written_total"), 120);
  EXPECT_EQ(t.Sum("bitrouter_store_write_errors_total"), 1);
  EXPECT_EQ(t.Sum("bitrouter_store_write_seconds_count"), 3);
  EXPECT_DOUBLE_EQ(t.Sum("bitrouter_store_write_seconds_sum"), 2.0018);
  EXPECT_EQ(t.Sum("bitrouter_store_write_seconds_bucket", {{"le", "0.0005"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_store_write_seconds_bucket", {{"le", "0.0025"}}), 2);
  EXPECT_EQ(t.Sum("bitrouter_workers"), 1) << "bitrouterd's slot is not a worker";
}

// Real processes, each its own worker slot, and threads sharing one slot,
// all writing while the parent renders: the totals are exact.
TEST(WorkerMetricsTest, ConcurrentWritersCountExactly) {
  auto shm = Region(4, 128);
  constexpr int kPerWriter = 20000;
  std::vector<pid_t> kids;
  for (uint32_t id = 0; id < 2; ++id) {
    pid_t pid = fork();
    if (pid == 0) {
      auto mine = NodeShm::Attach(dup(shm->fd()));
      if (!mine.ok()) _exit(3);
      WorkerMetrics w;
      if (!w.UseShared(**mine, id)) _exit(4);
      for (int i = 0; i < kPerWriter; ++i) {
        std::string model = "m" + std::to_string(i % 7);
        w.RecordRequest(Served("openai", model));
      }
      _exit(0);
    }
    ASSERT_GT(pid, 0);
    kids.push_back(pid);
  }
  WorkerMetrics two_threads;  // one slot, two writers racing for its series
  ASSERT_TRUE(two_threads.UseShared(*shm, 2));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      PromText t = ParsePrometheusText(RenderPrometheus(MetricsTable(*shm)));
      ASSERT_TRUE(t.ok()) << t.ErrorText();
    }
  });
  auto write = [&] {
    for (int i = 0; i < kPerWriter; ++i) {
      std::string model = "m" + std::to_string(i % 7);
      two_threads.RecordRequest(Served("openai", model));
    }
  };
  std::thread t1(write), t2(write);
  t1.join();
  t2.join();
  for (pid_t pid : kids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  done = true;
  reader.join();
  PromText t = Render(MetricsTable(*shm));
  EXPECT_EQ(t.Sum("bitrouter_requests_total"), 4 * kPerWriter);
  EXPECT_EQ(t.Sum("bitrouter_tokens_total", {{"kind", "prompt"}}), 40 * kPerWriter);
  EXPECT_EQ(t.Sum("bitrouter_upstream_ttfb_seconds_count"), 4 * kPerWriter);
  EXPECT_EQ(t.Count("bitrouter_requests_total"), 7u) << "merged across slots by label set";
}

}  // namespace
}  // namespace bitrouter::node
