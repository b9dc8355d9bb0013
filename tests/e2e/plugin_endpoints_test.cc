// Issue 18 item 3 through the real binaries: the node-level endpoints the
// OpenClaw plugin polls (research brief A.3). /health, /v1/routes,
// /v1/metrics, /v1/agents, /v1/tools and /v1/skills answer without a key
// even when keys are required (the plugin's sync probe sends none, or its
// own token); /v1/metrics is the per-route view of the same node-wide table
// /metrics renders, so both agree and every worker answers the same.
#include <rapidjson/document.h>

#include <cmath>
#include <string>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

// A chat answer with usage, after `delay_ms`; the model "m-broken" fails.
Reply Answer(const RecordedRequest& req, int delay_ms) {
  Reply r;
  r.delay_before_headers_ms = delay_ms;
  if (req.body.find("\"m-broken\"") != std::string::npos) {
    r.status = 503;
    r.body = R"({"error":{"message":"down","type":"server_error"}})";
    return r;
  }
  if (req.target.find("/messages") != std::string::npos) {
    r.body =
        R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":6}})";
    return r;
  }
  r.body =
      R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":4,"total_tokens":14}})";
  return r;
}

class PluginEndpointsTest : public RouterTest {
 protected:
  void StartUpstream(int delay_ms) {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler([delay_ms](const RecordedRequest& req) { return Answer(req, delay_ms); });
  }

  // Keys required; virtual models on each provider (one through an
  // endpoint's protocol override), the builtin openai provider from the
  // environment.
  void StartPlugin() {
    StartUpstream(0);
    const std::string base = upstream_->base_url();
    StartRouterOnly(
        "server:\n  skip_auth: false\n"
        "providers:\n"
        "  ant:\n    api_protocol: anthropic\n    api_base: " +
        base +
        "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n"
        "  gem:\n    api_protocol: google\n    api_base: " +
        base +
        "\n    api_key: gem-key\n"
        "models:\n"
        "  smart:\n    endpoints:\n"
        "      - {provider: openai, model_id: m-broken}\n"
        "      - {provider: openai, model_id: m-good}\n"
        "  claude:\n    endpoints:\n"
        "      - {provider: ant, model_id: claude-x}\n"
        "  gemmy:\n    endpoints:\n"
        "      - {provider: gem, model_id: gem-x}\n"
        "  mixed:\n    endpoints:\n"
        "      - {provider: openai, model_id: m-good, api_protocol: anthropic}\n");
  }

  HttpResponse Get(const std::string& path, const HeaderList& headers = {},
                   const std::string& method = "GET") {
    return Fetch(router_->port(), method, path, "", headers);
  }
};

TEST_F(PluginEndpointsTest, OpenWithoutAKeyWhenKeysAreRequired) {
  StartPlugin();
  const HeaderList bogus = {{"authorization", "Bearer not-a-bitrouter-key"}};
  for (const HeaderList& h : {HeaderList{}, bogus}) {
    HttpResponse health = Get("/health", h);
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(health.body, R"({"status":"ok"})");
    for (const char* path :
         {"/v1/routes", "/v1/metrics", "/v1/agents", "/v1/skills", "/v1/tools"}) {
      HttpResponse r = Get(path, h);
      EXPECT_EQ(r.status, 200) << path << " " << r.body;
      EXPECT_EQ(r.Header("content-type"), "application/json") << path;
      EXPECT_TRUE(Json(r.body).IsObject()) << path;
      // HEAD answers like GET, without a body.
      EXPECT_EQ(Get(path, h, "HEAD").status, 200) << path;
    }
  }
  EXPECT_EQ(Get("/v1/agents").body, R"({"agents":[]})");
  EXPECT_EQ(Get("/v1/skills").body, R"({"skills":[]})");
  // Everything else still follows the keys rules.
  EXPECT_EQ(Get("/v1/models").status, 401);
  EXPECT_EQ(Chat(R"({"model":"smart","messages":[{"role":"user","content":"hi"}]})").status, 401);
  // A BitRouter key presented at /v1/tools is checked.
  EXPECT_EQ(Get("/v1/tools", {{"authorization", "Bearer brvk_" + std::string(43, 'x')}}).status,
            401);
  // Other methods: 405 with Allow, like /health.
  for (const char* path : {"/v1/routes", "/v1/metrics", "/v1/agents", "/v1/skills"}) {
    HttpResponse r = Fetch(router_->port(), "POST", path, "{}");
    EXPECT_EQ(r.status, 405) << path;
    EXPECT_EQ(r.Header("allow"), "GET, HEAD") << path;
  }
}

TEST_F(PluginEndpointsTest, RoutesListsEveryRouteWithItsProviderAndProtocol) {
  StartPlugin();
  std::string out;
  ASSERT_EQ(router_->Ctl({"route", "add", "fast", "gem:gem-y"}, &out), 0) << out;
  HttpResponse r = Get("/v1/routes");
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d = Json(r.body);
  ASSERT_TRUE(d.IsObject() && d.HasMember("routes") && d["routes"].IsArray()) << r.body;
  const auto& routes = d["routes"];
  ASSERT_EQ(routes.Size(), 5u) << r.body;
  const char* want[][3] = {{"claude", "ant", "anthropic"},
                           {"fast", "gem", "google"},
                           {"gemmy", "gem", "google"},
                           {"mixed", "openai", "anthropic"},  // the endpoint's override
                           {"smart", "openai", "openai"}};
  for (rapidjson::SizeType i = 0; i < routes.Size(); ++i) {
    const auto& e = routes[i];
    ASSERT_TRUE(e.IsObject() && e.MemberCount() == 3) << r.body;
    EXPECT_STREQ(e["model"].GetString(), want[i][0]);
    EXPECT_STREQ(e["provider"].GetString(), want[i][1]);
    EXPECT_STREQ(e["protocol"].GetString(), want[i][2]);
  }
}

TEST_F(PluginEndpointsTest, MetricsCountPerRouteAndEndpointLikeTheNodeTable) {
  StartUpstream(/*delay_ms=*/120);
  const std::string base = upstream_->base_url();
  StartRouterOnly("providers:\n  ant:\n    api_protocol: anthropic\n    api_base: " + base +
                      "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n"
                      "models:\n"
                      "  smart:\n    endpoints:\n"
                      "      - {provider: openai, model_id: m-broken}\n"
                      "      - {provider: openai, model_id: m-good}\n"
                      "  dead:\n    endpoints:\n"
                      "      - {provider: openai, model_id: m-broken}\n",
                  /*workers=*/2);
  const std::string ask = R"(","messages":[{"role":"user","content":"hi"}]})";
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = Chat(R"({"model":"smart)" + ask);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_GE(Chat(R"({"model":"dead)" + ask).status, 500);
  ASSERT_EQ(Chat(R"({"model":"ant:claude-x)" + ask).status, 200);
  ASSERT_EQ(Chat(R"({"model":"claude-x)" + ask).status, 200);
  EXPECT_EQ(Chat(R"({"model":"no-such-model)" + ask).status, 404);  // never routed: not counted

  // Every worker renders the same node totals; read until both agree.
  rapidjson::Document d;
  ASSERT_TRUE(WaitUntil(
      [&] {
        d = Json(Get("/v1/metrics").body);
        return d.IsObject() && d.HasMember("routes") && d["routes"].HasMember("smart") &&
               d["routes"]["smart"]["total_requests"].GetUint64() == 3 &&
               d["routes"].HasMember("ant:claude-x") &&
               d["routes"]["ant:claude-x"]["total_requests"].GetUint64() == 2;
      },
      10000));
  ASSERT_TRUE(d["uptime_seconds"].IsUint64());
  EXPECT_LT(d["uptime_seconds"].GetUint64(), 600u);
  const auto& routes = d["routes"];
  // smart, dead, and ant:claude-x: a direct name is counted under its
  // endpoint's canonical provider:model, however it was spelled.
  EXPECT_EQ(routes.MemberCount(), 3u);
  EXPECT_FALSE(routes.HasMember("claude-x"));
  const auto& smart = routes["smart"];
  EXPECT_EQ(smart["total_requests"].GetUint64(), 3u);
  EXPECT_EQ(smart["total_errors"].GetUint64(), 0u);
  EXPECT_EQ(smart["error_rate"].GetDouble(), 0.0);
  // 120 ms upstream delay: p50 interpolated in the (100, 250] ms bucket.
  ASSERT_TRUE(smart.HasMember("latency_p50_ms") && smart.HasMember("latency_p99_ms"));
  EXPECT_GT(smart["latency_p50_ms"].GetDouble(), 100.0);
  EXPECT_LE(smart["latency_p50_ms"].GetDouble(), 250.0);
  EXPECT_GE(smart["latency_p99_ms"].GetDouble(), smart["latency_p50_ms"].GetDouble());
  EXPECT_LE(smart["latency_p99_ms"].GetDouble(), 500.0);
  EXPECT_EQ(smart["avg_input_tokens"].GetDouble(), 10.0);
  EXPECT_EQ(smart["avg_output_tokens"].GetDouble(), 4.0);
  const int64_t now = static_cast<int64_t>(time(nullptr));
  EXPECT_LE(std::llabs(smart["last_used"].GetInt64() - now), 60);
  const auto& by = smart["by_endpoint"];
  ASSERT_TRUE(by.HasMember("openai:m-broken") && by.HasMember("openai:m-good")) << by.MemberCount();
  EXPECT_EQ(by["openai:m-broken"]["total_requests"].GetUint64(), 3u);
  EXPECT_EQ(by["openai:m-broken"]["total_errors"].GetUint64(), 3u);
  EXPECT_EQ(by["openai:m-good"]["total_requests"].GetUint64(), 3u);
  EXPECT_EQ(by["openai:m-good"]["total_errors"].GetUint64(), 0u);
  EXPECT_GT(by["openai:m-good"]["latency_p50_ms"].GetDouble(), 100.0);
  EXPECT_LE(by["openai:m-good"]["latency_p99_ms"].GetDouble(), 500.0);

  const auto& dead = routes["dead"];
  EXPECT_EQ(dead["total_requests"].GetUint64(), 1u);
  EXPECT_EQ(dead["total_errors"].GetUint64(), 1u);
  EXPECT_EQ(dead["error_rate"].GetDouble(), 1.0);
  EXPECT_FALSE(dead.HasMember("avg_input_tokens"));  // nothing served, no tokens
  // A lone endpoint's 5xx may be retried once: each attempt counts.
  EXPECT_GE(dead["by_endpoint"]["openai:m-broken"]["total_errors"].GetUint64(), 1u);

  const auto& direct = routes["ant:claude-x"];
  EXPECT_EQ(direct["total_requests"].GetUint64(), 2u);
  EXPECT_EQ(direct["avg_input_tokens"].GetDouble(), 30.0);
  EXPECT_EQ(direct["avg_output_tokens"].GetDouble(), 6.0);
  EXPECT_TRUE(direct["by_endpoint"].HasMember("ant:claude-x"));

  // The same counters as /metrics: requests and tokens of routed requests.
  PromText t = ParsePrometheusText(Fetch(router_->port(), "GET", "/metrics").body);
  ASSERT_TRUE(t.ok()) << t.ErrorText();
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"route", "smart"}}), 3);
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"route", "dead"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_requests_total", {{"provider", "ant"}}), 2);
  EXPECT_EQ(t.Sum("bitrouter_tokens_total", {{"provider", "ant"}, {"kind", "prompt"}}),
            2 * direct["avg_input_tokens"].GetDouble());
  EXPECT_EQ(t.Sum("bitrouter_upstream_attempts_total", {{"outcome", "status_5xx"}}),
            by["openai:m-broken"]["total_errors"].GetDouble() +
                dead["by_endpoint"]["openai:m-broken"]["total_errors"].GetDouble());
  // The very series /v1/metrics reads, as /metrics renders them.
  EXPECT_EQ(t.Sum("bitrouter_model_requests_total", {{"model", "smart"}}), 3);
  EXPECT_EQ(t.Sum("bitrouter_model_errors_total", {{"model", "dead"}}), 1);
  EXPECT_EQ(t.Sum("bitrouter_model_request_duration_seconds_count", {{"model", "smart"}}), 3);
  EXPECT_EQ(
      t.Sum("bitrouter_model_request_duration_seconds_bucket", {{"model", "smart"}, {"le", "0.1"}}),
      0);
  EXPECT_EQ(t.Sum("bitrouter_model_endpoint_attempts_total",
                  {{"model", "smart"}, {"provider", "openai"}, {"upstream_model", "m-good"}}),
            by["openai:m-good"]["total_requests"].GetDouble());
  EXPECT_EQ(t.Sum("bitrouter_model_endpoint_errors_total",
                  {{"model", "smart"}, {"provider", "openai"}, {"upstream_model", "m-broken"}}),
            by["openai:m-broken"]["total_errors"].GetDouble());
  // Served upstream latencies land in the same bucket /metrics shows.
  EXPECT_EQ(
      t.Sum("bitrouter_upstream_latency_seconds_bucket", {{"provider", "ant"}, {"le", "0.1"}}), 0);
  EXPECT_EQ(
      t.Sum("bitrouter_upstream_latency_seconds_bucket", {{"provider", "ant"}, {"le", "0.25"}}), 2);
}

}  // namespace
}  // namespace bitrouter::testing
