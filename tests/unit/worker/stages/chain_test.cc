// The chain of stages and today's stages, without sockets: a fake
// StageRequest stands in for the connection.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bitrouter/v1/control.pb.h"
#include "worker/snapshot/snapshot_builder.h"
#include "worker/stages/chain.h"
#include "worker/stages/model_name.h"
#include "worker/stages/route.h"

namespace bitrouter::worker {
namespace {

class FakeRequest : public StageRequest {
 public:
  explicit FakeRequest(SnapshotPtr snap) : snap_(std::move(snap)) {}
  const InboundRequest& request() const override { return req_; }
  InboundCall& call() override { return call_; }
  const WorkerSnapshot& snapshot() const override { return *snap_; }
  void Answer(const protocol::HttpError& error, std::string_view header_lines) override {
    answered.push_back(error);
    answered_headers.emplace_back(header_lines);
  }
  Server* server() const override { return nullptr; }
  void ReplaceBody(std::string body) override { req_.body = std::move(body); }
  uint64_t NextCounter(const std::string& key) override {
    counters.push_back(key);
    return 0;
  }
  void Route(routing::Resolution resolution, std::vector<size_t> order) override {
    routed = std::move(resolution);
    routed_order = std::move(order);
  }

  InboundRequest req_;
  InboundCall call_;
  std::vector<protocol::HttpError> answered;
  std::vector<std::string> answered_headers;
  std::vector<std::string> counters;
  std::optional<routing::Resolution> routed;
  std::vector<size_t> routed_order;

 private:
  SnapshotPtr snap_;
};

SnapshotPtr TestSnapshot() {
  bitrouter::v1::Snapshot s;
  s.set_version(1);
  for (const char* name : {"a", "b"}) {
    auto* p = s.add_providers();
    p->set_name(name);
    p->set_protocol("openai");
    p->set_base_url("http://127.0.0.1:9/v1");
    p->set_api_key("k");
    p->add_models(std::string(name) + "-model");
  }
  auto* r = s.add_routes();
  r->set_name("both");
  r->set_strategy("load_balance");
  for (const char* name : {"a", "b"}) {
    auto* e = r->add_endpoints();
    e->set_provider(name);
    e->set_model_id(std::string(name) + "-model");
  }
  auto snap = BuildWorkerSnapshot(s);
  EXPECT_TRUE(snap.ok()) << snap.status();
  return snap.ok() ? *snap : nullptr;
}

// A stage that records what it saw.
class Probe : public Stage {
 public:
  Probe(std::string name, unsigned sides, std::vector<std::string>* log, bool handles = false)
      : name_(std::move(name)), sides_(sides), log_(log), handles_(handles) {}
  std::string_view name() const override { return name_; }
  unsigned sides() const override { return sides_; }
  Verdict OnRequest(StageRequest&) override {
    log_->push_back("req:" + name_);
    return handles_ ? Verdict::kHandled : Verdict::kContinue;
  }
  void OnResponseHead(StageResponse&, const ResponseHead&) override {
    log_->push_back("head:" + name_);
  }

 private:
  std::string name_;
  unsigned sides_;
  std::vector<std::string>* log_;
  bool handles_;
};

TEST(StageChain, RequestSideInOrderResponseSideReversedEachOnlyWhereItTakesPart) {
  std::vector<std::string> log;
  Probe a("a", Stage::kRequest | Stage::kResponse, &log);
  Probe b("b", Stage::kRequest, &log);
  Probe c("c", Stage::kResponse, &log);
  StageChain chain({&a, &b, &c});
  EXPECT_EQ(chain.Describe(), "a -> b -> c");
  FakeRequest req(TestSnapshot());
  EXPECT_EQ(chain.RunRequest(req), Stage::Verdict::kContinue);
  struct Resp : StageResponse {
    InboundRequest req;
    InboundCall call_;
    SnapshotPtr snap = TestSnapshot();
    CallReport report_;
    const InboundRequest& request() const override { return req; }
    const InboundCall& call() const override { return call_; }
    const WorkerSnapshot& snapshot() const override { return *snap; }
    const CallReport& report() const override { return report_; }
    Server* server() const override { return nullptr; }
  } resp;
  for (Stage* s : chain.response_side()) s->OnResponseHead(resp, {});
  EXPECT_EQ(log, (std::vector<std::string>{"req:a", "req:b", "head:c", "head:a"}));
}

TEST(StageChain, AStageThatHandlesTheRequestEndsTheRequestSide) {
  std::vector<std::string> log;
  Probe a("a", Stage::kRequest, &log, /*handles=*/true);
  Probe b("b", Stage::kRequest, &log);
  StageChain chain({&a, &b});
  FakeRequest req(TestSnapshot());
  EXPECT_EQ(chain.RunRequest(req), Stage::Verdict::kHandled);
  EXPECT_EQ(log, (std::vector<std::string>{"req:a"}));
  EXPECT_TRUE(chain.response_side().empty());
}

TEST(StageChain, TheJourneyReadsLikeTheRequestsPath) {
  EXPECT_EQ(RequestJourney().Describe(),
            "usage -> auth -> model -> classify -> route -> scope -> limits -> guardrails -> "
            "budget -> dispatch");
  // The answer comes back through budget (settle), limits (tokens), then
  // usage last (the record sees everything).
  ASSERT_EQ(RequestJourney().response_side().size(), 3u);
  EXPECT_EQ(RequestJourney().response_side()[0]->name(), "budget");
  EXPECT_EQ(RequestJourney().response_side()[1]->name(), "limits");
  EXPECT_EQ(RequestJourney().response_side()[2]->name(), "usage");
}

TEST(ModelNameStage, RefusesWhatCannotBeARoutingKey) {
  ModelNameStage stage;
  for (std::string bad : {std::string(), std::string("has space"), std::string(257, 'm'),
                          std::string("tab\tmodel"), std::string("\x7f")}) {
    FakeRequest req(TestSnapshot());
    req.call_.model = bad;
    EXPECT_EQ(stage.OnRequest(req), Stage::Verdict::kHandled) << bad;
    ASSERT_EQ(req.answered.size(), 1u);
    EXPECT_EQ(req.answered[0].status, 400);
    EXPECT_EQ(req.answered[0].code, "invalid_model");
  }
  FakeRequest ok(TestSnapshot());
  ok.call_.model = std::string(256, 'm');
  EXPECT_EQ(stage.OnRequest(ok), Stage::Verdict::kContinue);
  EXPECT_TRUE(ok.answered.empty());
}

TEST(RouteStage, UnknownModelIs404) {
  RouteStage stage;
  FakeRequest req(TestSnapshot());
  req.call_.model = "nope";
  EXPECT_EQ(stage.OnRequest(req), Stage::Verdict::kHandled);
  ASSERT_EQ(req.answered.size(), 1u);
  EXPECT_EQ(req.answered[0].status, 404);
  EXPECT_FALSE(req.routed.has_value());
}

TEST(RouteStage, PutsTheResolvedEndpointsOnTheCallAndDispatchHandsThemToTheRouter) {
  RouteStage route;
  DispatchStage dispatch;
  StageChain stage({&route, &dispatch});
  FakeRequest direct(TestSnapshot());
  direct.call_.model = "a:a-model";
  EXPECT_EQ(route.OnRequest(direct), Stage::Verdict::kContinue);
  ASSERT_TRUE(direct.call_.resolution.has_value());
  EXPECT_FALSE(direct.routed.has_value());
  EXPECT_EQ(dispatch.OnRequest(direct), Stage::Verdict::kHandled);
  ASSERT_TRUE(direct.routed.has_value());
  ASSERT_EQ(direct.routed->targets.size(), 1u);
  EXPECT_EQ(direct.routed->targets[0].provider, "a");
  EXPECT_TRUE(direct.counters.empty()) << "one endpoint: no round-robin counter";

  FakeRequest virt(TestSnapshot());
  virt.call_.model = "both";
  EXPECT_EQ(stage.RunRequest(virt), Stage::Verdict::kHandled);
  ASSERT_TRUE(virt.routed.has_value());
  EXPECT_EQ(virt.routed->targets.size(), 2u);
  EXPECT_EQ(virt.routed_order.size(), 2u);
  EXPECT_EQ(virt.counters, (std::vector<std::string>{"both"})) << "keyed by the route's name";
}

}  // namespace
}  // namespace bitrouter::worker
