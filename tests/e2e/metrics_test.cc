// Issue 14 item 7 through the real binaries: GET /metrics from any worker
// of a two-worker node renders the same node-wide totals (the counters live
// in the region bitrouterd shares), is valid Prometheus text, and carries
// the gauges (connections, snapshot version per worker, live workers), the
// breaker state of each configured endpoint and bitrouterd's store families.
#include <signal.h>

#include <set>
#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

constexpr char kConfig[] =
    "models:\n  smart:\n    strategy: priority\n"
    "    endpoints:\n      - provider: openai\n        model_id: m-primary\n"
    "      - provider: openai\n        model_id: m-backup\n";

// "br-<hex>-<worker>-<n>" -> "<worker>".
std::string WorkerOf(const HttpResponse& r) {
  std::string id = r.Header("x-bitrouter-request-id");
  size_t a = id.find('-', 3);
  size_t b = a == std::string::npos ? a : id.find('-', a + 1);
  return b == std::string::npos ? "?" : id.substr(a + 1, b - a - 1);
}

// The text without the lines that depend on the scraping connection.
std::string ConnectionIndependent(const std::string& text) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::string line = text.substr(at, nl - at + 1);
    at = nl == std::string::npos ? text.size() : nl + 1;
    if (line.rfind("bitrouter_active_connections ", 0) == 0) continue;
    out += line;
  }
  return out;
}

// Two live workers, each with a snapshot applied.
bool BothServe(const PromText& t) {
  if (!t.Has("bitrouter_snapshot_version") || t.Sum("bitrouter_workers") != 2) return false;
  const auto& samples = t.families.at("bitrouter_snapshot_version").samples;
  return samples.size() == 2 && samples[0].value > 0 && samples[1].value > 0;
}

class MetricsTest : public RouterTest {
 protected:
  HttpResponse Scrape() { return Fetch(router_->port(), "GET", "/metrics"); }

  PromText ScrapeParsed() {
    HttpResponse r = Scrape();
    EXPECT_EQ(r.status, 200) << r.body;
    PromText t = ParsePrometheusText(r.body);
    EXPECT_TRUE(t.ok()) << t.ErrorText() << r.body;
    return t;
  }
};

TEST_F(MetricsTest, EveryWorkerRendersTheSameValidNodeTotals) {
  StartAll(kConfig, 2);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  for (int i = 0; i < 4; ++i) {
    HttpResponse r = Chat(R"({"model":"smart","messages":[{"role":"user","content":"hi"}]})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // Both workers serve once both show a snapshot (0 = none applied yet).
  ASSERT_TRUE(WaitUntil([&] { return BothServe(ParsePrometheusText(Scrape().body)); }, 10000));

  std::set<std::string> answered_by;
  std::set<std::string> bodies;
  for (int i = 0; i < 40 && (answered_by.size() < 2 || i < 8); ++i) {
    HttpResponse r = Scrape();  // a new connection each time
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    answered_by.insert(WorkerOf(r));
    PromText t = ParsePrometheusText(r.body);
    ASSERT_TRUE(t.ok()) << t.ErrorText() << r.body;
    EXPECT_GE(t.Sum("bitrouter_active_connections"), 1) << "the scrape's own connection";
    bodies.insert(ConnectionIndependent(r.body));
  }
  EXPECT_EQ(answered_by.size(), 2u) << "both workers answered";
  EXPECT_EQ(bodies.size(), 1u) << "the same totals whichever worker answers";
  if (bodies.size() > 1) {
    for (const std::string& b : bodies) ADD_FAILURE() << b;
  }

  PromText t = ScrapeParsed();
  EXPECT_EQ(t.Sum("bitrouter_workers"), 2);
  double v0 = t.Sum("bitrouter_snapshot_version", {{"worker", "0"}});
  EXPECT_GE(v0, 1);
  EXPECT_EQ(t.Sum("bitrouter_snapshot_version", {{"worker", "1"}}), v0);
  for (const char* family :
       {"bitrouter_requests_total", "bitrouter_upstream_attempts_total",
        "bitrouter_router_overhead_seconds", "bitrouter_tokens_total", "bitrouter_cost_usd_total",
        "bitrouter_active_streams", "bitrouter_usage_records_dropped_total",
        "bitrouter_store_write_seconds", "bitrouter_store_write_errors_total",
        "bitrouter_store_rows_written_total"}) {
    EXPECT_TRUE(t.Has(family)) << family;
  }
  // The virtual model's endpoints, closed.
  EXPECT_EQ(t.Count("bitrouter_circuit_breaker_state",
                    {{"endpoint", "openai/m-primary"}, {"provider", "openai"}}),
            1u);
  EXPECT_EQ(t.Sum("bitrouter_circuit_breaker_state", {{"model", "m-backup"}}), 0);
}

TEST_F(MetricsTest, OpenConnectionsAreCountedNodeWide) {
  StartAll("", 2);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  // The scrape counts its own connection; the start-up probe's may still be
  // closing, so wait for it to go before taking the base.
  double base = 0;
  EXPECT_TRUE(WaitUntil(
      [&] { return (base = ScrapeParsed().Sum("bitrouter_active_connections")) <= 1; }, 5000));
  std::vector<std::unique_ptr<HttpClient>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<HttpClient>());
    ASSERT_TRUE(idle.back()->Connect(router_->port()));
    // A request makes sure the worker has accepted it.
    ASSERT_TRUE(idle.back()->SendRaw(BuildRequest("GET", "/health", "")));
    ASSERT_EQ(idle.back()->ReadResponse().status, 200);
  }
  EXPECT_GE(ScrapeParsed().Sum("bitrouter_active_connections"), base + 3);
  for (auto& c : idle) c->Close();
  EXPECT_TRUE(
      WaitUntil([&] { return ScrapeParsed().Sum("bitrouter_active_connections") <= base; }, 5000));
}

TEST_F(MetricsTest, HeadAndWrongMethods) {
  StartAll();
  HttpClient c;
  ASSERT_TRUE(c.Connect(router_->port()));
  ASSERT_TRUE(c.SendRaw(BuildRequest("HEAD", "/metrics", "")));
  HttpResponse head = c.ReadResponse();
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  HttpResponse post = Fetch(router_->port(), "POST", "/metrics", "{}");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.Header("allow"), "GET");
}

TEST_F(MetricsTest, AKilledWorkersReplacementTakesItsSlot) {
  StartAll("", 2);
  ASSERT_TRUE(router_->WaitForWorkers(2, {}, 5000));
  std::vector<pid_t> before = router_->WorkerPids();
  ASSERT_EQ(before.size(), 2u);
  kill(before[0], SIGKILL);
  ASSERT_TRUE(router_->WaitForWorkers(2, {before[0]}, 10000));
  ASSERT_TRUE(WaitUntil([&] { return BothServe(ParsePrometheusText(Scrape().body)); }, 10000))
      << Scrape().body;
  PromText t = ScrapeParsed();
  EXPECT_EQ(t.Count("bitrouter_snapshot_version", {{"worker", "0"}}), 1u);
  EXPECT_EQ(t.Count("bitrouter_snapshot_version", {{"worker", "1"}}), 1u);
}

}  // namespace
}  // namespace bitrouter::testing
