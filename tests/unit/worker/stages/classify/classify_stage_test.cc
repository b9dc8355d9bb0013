// The classify stage and the route stage's candidate resolution, without
// sockets: which model names are triggers, what the call records, how the
// candidates' endpoints are concatenated, and the route headers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bitrouter/v1/control.pb.h"
#include "worker/snapshot/snapshot_builder.h"
#include "worker/stages/auth/scope_stage.h"
#include "worker/stages/classify/classify_stage.h"
#include "worker/stages/route.h"

namespace bitrouter::worker {
namespace {

class FakeRequest : public StageRequest {
 public:
  explicit FakeRequest(SnapshotPtr snap, std::string model, std::string body)
      : snap_(std::move(snap)) {
    call_.model = std::move(model);
    req_.body = std::move(body);
  }
  const InboundRequest& request() const override { return req_; }
  InboundCall& call() override { return call_; }
  const WorkerSnapshot& snapshot() const override { return *snap_; }
  void Answer(const protocol::HttpError& error, std::string_view) override {
    answered.push_back(error);
  }
  Server* server() const override { return nullptr; }
  void ReplaceBody(std::string body) override { req_.body = std::move(body); }
  uint64_t NextCounter(const std::string&) override { return 0; }
  void Route(routing::Resolution, std::vector<size_t>) override {}

  InboundRequest req_;
  InboundCall call_;
  std::vector<protocol::HttpError> answered;

 private:
  SnapshotPtr snap_;
};

// Providers a and b (catalogs a-1, a-2 / b-1), a route `auto` (as the
// OpenClaw plugin writes), a rule `smart`, and compat.llmrouter with small
// candidate lists.
SnapshotPtr TestSnapshot(bool with_auto_route) {
  bitrouter::v1::Snapshot s;
  s.set_version(1);
  for (const char* name : {"a", "b"}) {
    auto* p = s.add_providers();
    p->set_name(name);
    p->set_protocol("openai");
    p->set_base_url("http://127.0.0.1:9/v1");
    p->set_api_key("k");
    p->add_models(std::string(name) + "-1");
    if (std::string(name) == "a") p->add_models("a-2");
  }
  if (with_auto_route) {
    auto* r = s.add_routes();
    r->set_name("auto");
    auto* e = r->add_endpoints();
    e->set_provider("b");
    e->set_model_id("b-1");
  }
  auto* rule = s.mutable_routing()->add_rules();
  rule->set_trigger("smart");
  auto* sig = rule->add_signals();
  sig->set_name("coding");
  sig->add_keywords("code");
  (*rule->mutable_models())["coding"] = "a:a-2";
  (*rule->mutable_models())["default"] = "b:b-1";
  auto* l = s.mutable_routing()->mutable_llmrouter();
  l->set_enabled(true);
  auto add = [&](const char* category, std::vector<std::string> candidates) {
    auto* c = l->add_categories();
    c->set_category(category);
    for (const auto& m : candidates) c->add_candidates(m);
  };
  add("coding", {"nowhere/model", "a-1", "b:b-1"});
  add("simple", {"b-1"});
  add("reasoning", {"a:a-2"});
  add("vision", {"missing/vl"});
  auto snap = BuildWorkerSnapshot(s);
  EXPECT_TRUE(snap.ok()) << snap.status();
  return snap.ok() ? *snap : nullptr;
}

std::string User(std::string_view text) {
  return std::string(R"({"messages":[{"role":"user","content":")") + std::string(text) + "\"}]}";
}

TEST(ClassifyStageTest, RuleTriggerDecidesOneModel) {
  auto snap = TestSnapshot(false);
  ClassifyStage classify;
  FakeRequest req(snap, "smart", User("some code"));
  EXPECT_EQ(classify.OnRequest(req), Stage::Verdict::kContinue);
  EXPECT_EQ(req.call_.route_category, "coding");
  EXPECT_EQ(req.call_.route_candidates, (std::vector<std::string>{"a:a-2"}));
  EXPECT_FALSE(req.call_.llmrouter);
  RouteStage route;
  EXPECT_EQ(route.OnRequest(req), Stage::Verdict::kContinue);
  ASSERT_TRUE(req.call_.resolution);
  ASSERT_EQ(req.call_.resolution->targets.size(), 1u);
  EXPECT_EQ(req.call_.resolution->targets[0].model_id, "a-2");
  EXPECT_EQ(RouteHeaderLines(req.call_, RouteModel(req.call_, 0)),
            "x-bitrouter-route-category: coding\r\nx-bitrouter-route-model: a:a-2\r\n");
}

TEST(ClassifyStageTest, CandidatesConcatenateInOrderSkippingUnresolvable) {
  auto snap = TestSnapshot(false);
  ClassifyStage classify;
  RouteStage route;
  FakeRequest req(snap, "llmrouter/auto", User("refactor it"));
  classify.OnRequest(req);
  EXPECT_EQ(req.call_.route_category, "coding");
  EXPECT_TRUE(req.call_.llmrouter);
  EXPECT_EQ(route.OnRequest(req), Stage::Verdict::kContinue);
  const routing::Resolution& r = *req.call_.resolution;
  EXPECT_EQ(r.source, "classified");
  EXPECT_EQ(r.strategy, "priority");
  ASSERT_EQ(r.targets.size(), 2u);  // nowhere/model skipped
  EXPECT_EQ(r.targets[0].provider + ":" + r.targets[0].model_id, "a:a-1");
  EXPECT_EQ(r.targets[1].provider + ":" + r.targets[1].model_id, "b:b-1");
  EXPECT_NE(r.targets[0].group, r.targets[1].group);
  EXPECT_EQ(req.call_.order, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(req.call_.route_target_candidate, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(RouteModel(req.call_, 1), "b:b-1");
  EXPECT_EQ(RouteModel(req.call_, SIZE_MAX), "nowhere/model");  // nothing answered: the first
  EXPECT_EQ(RouteHeaderLines(req.call_, "a-1"),
            "x-bitrouter-route-category: coding\r\nx-bitrouter-route-model: a-1\r\n"
            "x-llm-router-logical-model: llmrouter/auto\r\nx-llm-router-category: coding\r\n"
            "x-llm-router-resolved-model: a-1\r\n");
}

TEST(ClassifyStageTest, AKeysScopeDropsCandidatesOutsideItNotTheRequest) {
  auto snap = TestSnapshot(false);
  ClassifyStage classify;
  RouteStage route;
  ScopeStage scope;
  KeyPolicy key;
  key.models = {"b:*"};  // only provider b
  FakeRequest req(snap, "llmrouter/auto", User("refactor it"));
  req.call_.key = &key;
  classify.OnRequest(req);
  ASSERT_EQ(route.OnRequest(req), Stage::Verdict::kContinue);
  ASSERT_EQ(scope.OnRequest(req), Stage::Verdict::kContinue) << req.answered.size();
  const routing::Resolution& r = *req.call_.resolution;
  ASSERT_EQ(r.targets.size(), 1u);  // a:a-1 dropped, b:b-1 kept
  EXPECT_EQ(r.targets[0].provider + ":" + r.targets[0].model_id, "b:b-1");
  EXPECT_EQ(req.call_.order, (std::vector<size_t>{0}));
  EXPECT_EQ(req.call_.route_target_candidate, (std::vector<uint32_t>{2}));
  EXPECT_EQ(RouteModel(req.call_, 0), "b:b-1");

  // Nothing in scope: 403.
  KeyPolicy none;
  none.models = {"c:*"};
  FakeRequest refused(snap, "llmrouter/auto", User("refactor it"));
  refused.call_.key = &none;
  classify.OnRequest(refused);
  ASSERT_EQ(route.OnRequest(refused), Stage::Verdict::kContinue);
  EXPECT_EQ(scope.OnRequest(refused), Stage::Verdict::kHandled);
  ASSERT_EQ(refused.answered.size(), 1u);
  EXPECT_EQ(refused.answered[0].status, 403);
}

TEST(ClassifyStageTest, WhichNamesAreTriggers) {
  ClassifyStage classify;
  struct Case {
    bool auto_route;
    std::string model;
    std::string category;  // "" = not classified
  };
  const std::vector<Case> cases = {
      {false, "auto", "simple"},              // bare, no route of that name
      {true, "auto", ""},                     // the plugin's route keeps the name
      {true, "llmrouter/auto", "simple"},     // the prefix always classifies
      {false, "llmrouter/coding", "coding"},  // forced: no classifier
      {false, "reasoning", "reasoning"},      // bare forced
      {false, "llmrouter/vision", ""},        // Rungate has no llmrouter/vision
      {false, "llmrouter/other", ""},
      {false, "a:a-1", ""},
      {false, "smart", "default"},  // a rule
  };
  for (const Case& c : cases) {
    FakeRequest req(TestSnapshot(c.auto_route), c.model, User("hello"));
    EXPECT_EQ(classify.OnRequest(req), Stage::Verdict::kContinue) << c.model;
    EXPECT_EQ(req.call_.route_category, c.category) << c.model << " route=" << c.auto_route;
  }
  // A forced category skips the classifier: an image does not make it vision.
  FakeRequest forced(TestSnapshot(false), "llmrouter/simple",
                     R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})");
  classify.OnRequest(forced);
  EXPECT_EQ(forced.call_.route_category, "simple");
}

TEST(ClassifyStageTest, NoCandidateResolvesIs404NamingThem) {
  ClassifyStage classify;
  RouteStage route;
  FakeRequest req(TestSnapshot(false), "llmrouter/auto",
                  R"({"messages":[{"role":"user","content":[{"type":"input_image"}]}]})");
  classify.OnRequest(req);
  EXPECT_EQ(req.call_.route_category, "vision");
  EXPECT_EQ(route.OnRequest(req), Stage::Verdict::kHandled);
  ASSERT_EQ(req.answered.size(), 1u);
  EXPECT_EQ(req.answered[0].status, 404);
  EXPECT_NE(req.answered[0].message.find("category 'vision'"), std::string::npos)
      << req.answered[0].message;
  EXPECT_NE(req.answered[0].message.find("missing/vl"), std::string::npos);
}

TEST(ClassifyStageTest, NothingConfiguredLeavesTheCallAlone) {
  bitrouter::v1::Snapshot s;
  s.set_version(1);
  auto snap = BuildWorkerSnapshot(s);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->content_routing, nullptr);
  ClassifyStage classify;
  FakeRequest req(*snap, "auto", User("python"));
  EXPECT_EQ(classify.OnRequest(req), Stage::Verdict::kContinue);
  EXPECT_EQ(req.call_.route_category, "");
}

}  // namespace
}  // namespace bitrouter::worker
