// Classified auto routing through the real binaries: a `routing:` rule picks
// the upstream model from the request's content; Rungate's llmrouter/auto
// classifies, tries its candidates in order and fails over on a 429; the
// OpenClaw metadata wrapping is stripped for classification only (the
// upstream gets the client's messages byte for byte); every answer names
// the decision in its headers, and the usage record keeps it.
#include <string>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/openai_json.h"

namespace bitrouter::testing {
namespace {

std::string JsonText(std::string_view text) { return "\"" + JsonEscape(text) + "\""; }

std::string Body(std::string_view model, std::string_view user_text, bool stream = false) {
  return std::string(R"({"model":")") + std::string(model) + "\"" +
         (stream ? R"(,"stream":true)" : "") +
         R"(,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":)" +
         JsonText(user_text) + "}]}";
}

Reply Status(int status) {
  Reply r;
  r.status = status;
  r.body = R"({"error":{"message":"busy","type":"rate_limit"}})";
  return r;
}

class ClassifyTest : public RouterTest {
 protected:
  // One aggregator upstream (provider `agg`, OpenAI protocol) whose catalog
  // lists some of Rungate's candidates, so the default table resolves
  // through the catalog.
  void Start(const std::string& extra_yaml) {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    StartRouterOnly(
        "inherit_defaults: false\nproviders:\n  agg:\n    api_protocol: openai\n"
        "    api_base: " +
        upstream_->base_url() +
        "\n    api_key: agg-key\n"
        "    models: [qwen/qwen3-coder-next, deepseek/deepseek-v3.2, "
        "deepseek/deepseek-chat]\n" +
        extra_yaml);
  }
  std::string LastUpstreamModel() {
    auto reqs = upstream_->requests();
    return reqs.empty() ? "" : JsonStringField(reqs.back().body, "model");
  }
};

constexpr char kRules[] =
    "routing:\n  auto:\n    models:\n      coding.high: agg:big-coder\n"
    "      coding: agg:coder\n      creative: agg:poet\n      default: agg:cheap\n";

TEST_F(ClassifyTest, RoutingRulePicksTheModelByContent) {
  Start(kRules);
  HttpResponse r = Chat(Body("auto", "Write a python function to parse dates"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "coder");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "coding");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "agg:coder");
  EXPECT_EQ(r.Header("x-bitrouter-provider"), "agg:coder");
  EXPECT_EQ(r.Header("x-llm-router-category"), "") << "Rungate headers only in compat mode";
  // The trigger is listed by /v1/models; Rungate's ids only in compat mode.
  HttpResponse models = Fetch(router_->port(), "GET", "/v1/models");
  EXPECT_NE(models.body.find(R"({"id":"auto")"), std::string::npos) << models.body;
  EXPECT_EQ(models.body.find("llmrouter/"), std::string::npos) << models.body;

  r = Chat(Body("auto", "Debug this complex code:\n```\nint x;\n```"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "big-coder");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "coding.high");

  r = Chat(Body("auto", "Write a poem about the sea", /*stream=*/true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "poet");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "creative");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "agg:poet");

  r = Chat(Body("auto", "hello"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "cheap");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "default");

  // Any other model is routed as before, without the headers.
  r = Chat(Body("agg:direct", "python"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "direct");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "");

  // An error answer names the decision too.
  upstream_->SetHandler([](const RecordedRequest&) { return Status(503); });
  r = Chat(Body("auto", "hello"));
  EXPECT_EQ(r.status, 503) << r.body;  // every attempt said 503
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "default");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "agg:cheap");
}

TEST_F(ClassifyTest, LlmRouterAutoFailsOverToTheNextCandidate) {
  Start("compat:\n  llmrouter: true\n");
  upstream_->SetHandler([](const RecordedRequest& req) {
    if (JsonStringField(req.body, "model") == "qwen/qwen3-coder-next") return Status(429);
    return DefaultReply(req);
  });
  HttpResponse r = Chat(Body("llmrouter/auto", "Please refactor this class"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto reqs = upstream_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(JsonStringField(reqs[0].body, "model"), "qwen/qwen3-coder-next");
  EXPECT_EQ(JsonStringField(reqs[1].body, "model"), "deepseek/deepseek-v3.2");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "coding");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "deepseek/deepseek-v3.2");
  EXPECT_EQ(r.Header("x-llm-router-logical-model"), "llmrouter/auto");
  EXPECT_EQ(r.Header("x-llm-router-category"), "coding");
  EXPECT_EQ(r.Header("x-llm-router-resolved-model"), "deepseek/deepseek-v3.2");
  EXPECT_NE(r.Header("x-bitrouter-attempts").find("=429"), std::string::npos)
      << r.Header("x-bitrouter-attempts");

  // The usage record keeps the category and the candidate that answered.
  std::string out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"requests", "--json", "--limit", "1"}, &out);
        return out.find(R"("route_category":"coding")") != std::string::npos;
      },
      5000))
      << out;
  EXPECT_NE(out.find(R"("route_model":"deepseek/deepseek-v3.2")"), std::string::npos) << out;

  // The access log line names them as well.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return router_->Log().find(R"(route="coding" route_model="deepseek/deepseek-v3.2")") !=
               std::string::npos;
      },
      5000))
      << router_->Log();
}

TEST_F(ClassifyTest, CandidatesMoveOnFromAMissingModelButTheLastAnswerIsRelayed) {
  // As Rungate: a candidate the aggregator does not have (404), or a
  // 409/425, is the next candidate's turn; the last candidate's answer goes
  // back to the client as it is. Here the catalog resolves two of the coding
  // candidates: qwen/qwen3-coder-next, then deepseek/deepseek-v3.2.
  Start("compat:\n  llmrouter: true\n");
  upstream_->SetHandler([](const RecordedRequest& req) {
    if (JsonStringField(req.body, "model") == "qwen/qwen3-coder-next") return Status(404);
    return DefaultReply(req);
  });
  HttpResponse r = Chat(Body("llmrouter/coding", "hi"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto reqs = upstream_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(JsonStringField(reqs[1].body, "model"), "deepseek/deepseek-v3.2");
  EXPECT_EQ(r.Header("x-llm-router-resolved-model"), "deepseek/deepseek-v3.2");
  EXPECT_NE(r.Header("x-bitrouter-attempts").find("=404"), std::string::npos)
      << r.Header("x-bitrouter-attempts");

  // 409 moves on too; the last candidate's 404 is the answer.
  upstream_->SetHandler([](const RecordedRequest& req) {
    return Status(JsonStringField(req.body, "model") == "qwen/qwen3-coder-next" ? 409 : 404);
  });
  r = Chat(Body("llmrouter/coding", "hi"));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(upstream_->requests().size(), 4u);
  // A 404 outside a candidate list is still relayed at once.
  r = Chat(Body("agg:anything", "hi"));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(upstream_->requests().size(), 5u);
}

TEST_F(ClassifyTest, ARuleNamedLikeThePluginsAutoRouteClassifiesItAndFallsBackToTheRoute) {
  Start(
      "models:\n  auto:\n    endpoints:\n      - provider: agg\n        model_id: plugin-route\n"
      "routing:\n  auto:\n    inherit_defaults: false\n    signals:\n"
      "      coding: {keywords: [python]}\n    models:\n      coding: agg:coder\n"
      "      default: auto\n");
  HttpResponse r = Chat(Body("auto", "write some python"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "coder");
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "coding");
  r = Chat(Body("auto", "hello there"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "plugin-route");  // the rule's default: the route itself
  EXPECT_EQ(r.Header("x-bitrouter-route-category"), "default");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "auto");
}

TEST_F(ClassifyTest, MetadataIsStrippedForClassificationOnly) {
  Start("compat:\n  llmrouter: true\n");
  // The metadata says python/refactor; the user's own words are simple.
  const std::string text =
      "Conversation info (untrusted metadata):\n```json\n{\"title\":\"python refactor "
      "club\"}\n```\n\nSender (untrusted metadata):\n```json\n{\"name\":\"Rusty\"}\n```\n\n"
      "What is the capital of France?";
  const std::string body = Body("llmrouter/auto", text);
  HttpResponse r = Chat(body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-llm-router-category"), "simple");
  EXPECT_EQ(r.Header("x-llm-router-resolved-model"), "deepseek/deepseek-chat");
  // Byte for byte what the client sent, only the model value replaced.
  std::string want = body;
  const std::string from = R"("model":"llmrouter/auto")";
  want.replace(want.find(from), from.size(), R"("model":"deepseek/deepseek-chat")");
  auto reqs = upstream_->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, want);
}

TEST_F(ClassifyTest, ForcedCategoriesAndBareNames) {
  // A config route named `auto` (as the OpenClaw plugin writes) keeps the
  // bare name; `llmrouter/auto` is still classified.
  Start(
      "compat:\n  llmrouter: true\nmodels:\n  auto:\n    endpoints:\n"
      "      - provider: agg\n        model_id: plugin-route\n");
  HttpResponse r = Chat(Body("auto", "refactor this class"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "plugin-route");
  EXPECT_EQ(r.Header("x-llm-router-category"), "");

  // The logical ids are models a client can list (the route keeps `auto`).
  HttpResponse models = Fetch(router_->port(), "GET", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  for (const char* id :
       {"llmrouter/auto", "llmrouter/simple", "llmrouter/coding", "llmrouter/reasoning", "auto"}) {
    EXPECT_NE(models.body.find(std::string("{\"id\":\"") + id + "\""), std::string::npos)
        << id << " in " << models.body;
  }
  EXPECT_EQ(Fetch(router_->port(), "GET", "/v1/models/llmrouter/auto").status, 200);

  // A forced category skips the classifier.
  r = Chat(Body("llmrouter/reasoning", "hi"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "deepseek/deepseek-v3.2");
  EXPECT_EQ(r.Header("x-llm-router-category"), "reasoning");
  r = Chat(Body("coding", "hi"));  // bare, no route of that name
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "qwen/qwen3-coder-next");
  EXPECT_EQ(r.Header("x-llm-router-logical-model"), "coding");

  // No candidate resolves: 404 naming the category and the candidates.
  const std::string vision =
      R"({"model":"llmrouter/auto","messages":[{"role":"user","content":[)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]}]})";
  r = Chat(vision);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("category 'vision'"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("qwen/qwen3-vl-235b-a22b-thinking"), std::string::npos) << r.body;
  EXPECT_EQ(r.Header("x-llm-router-category"), "vision");
  EXPECT_EQ(r.Header("x-bitrouter-route-model"), "qwen/qwen3-vl-235b-a22b-thinking");
}

TEST_F(ClassifyTest, OtherClientProtocolsAreClassifiedAndTranslated) {
  Start("compat:\n  llmrouter: true\n");
  // A Messages client: the latest user text decides; the request is
  // translated for the Chat upstream with the candidate's model id.
  HttpResponse r = Fetch(router_->port(), "POST", "/v1/messages",
                         R"({"model":"llmrouter/auto","max_tokens":50,"system":"be brief",)"
                         R"("messages":[{"role":"user","content":[{"type":"text",)"
                         R"("text":"Fix the bug in this TypeScript"}]}]})",
                         {{"x-api-key", "client-key"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "qwen/qwen3-coder-next");
  EXPECT_EQ(upstream_->requests().back().target, "/v1/chat/completions");
  EXPECT_EQ(r.Header("x-llm-router-category"), "coding");
  // A Responses client with a string input.
  r = Fetch(router_->port(), "POST", "/v1/responses",
            R"({"model":"llmrouter/auto","input":"Compare these two plans step by step"})", {});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(LastUpstreamModel(), "deepseek/deepseek-v3.2");
  EXPECT_EQ(r.Header("x-llm-router-category"), "reasoning");
  // `bitrouterctl requests` shows the category after the model asked for.
  std::string out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"requests", "--limit", "1"}, &out);
        return out.find("llmrouter/auto [reasoning]") != std::string::npos;
      },
      5000))
      << out;
}

}  // namespace
}  // namespace bitrouter::testing
