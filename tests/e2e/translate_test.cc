// Protocol translation through the real binaries: every inbound endpoint
// (Chat, Responses, Messages, Gemini) against upstreams of each protocol,
// JSON and streams, passthrough splicing, client-shaped errors, failures
// mid-stream, inbound credentials and count_tokens.
#include <rapidjson/document.h>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

constexpr char kMessagesPath[] = "/v1/messages";
constexpr char kResponsesPath[] = "/v1/responses";

// Custom providers of every protocol on the same fake upstream; the builtin
// openai provider (OPENAI_BASE_URL) is the Chat one.
std::string ProvidersYaml(const std::string& base) {
  return "providers:\n"
         "  ant:\n    api_protocol: anthropic\n    api_base: " +
         base +
         "\n    api_key: sk-ant-upstream\n"
         "  gem:\n    api_protocol: google\n    api_base: " +
         base +
         "\n    api_key: gem-upstream-key\n"
         "  resp:\n    api_protocol: openai_responses\n    api_base: " +
         base + "\n    api_key: resp-upstream-key\n";
}

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::string Sse(std::initializer_list<std::pair<std::string, std::string>> events) {
  std::string out;
  for (const auto& [name, data] : events) {
    if (!name.empty()) out += "event: " + name + "\n";
    out += "data: " + data + "\n\n";
  }
  return out;
}

// The event names of an SSE body, in order ("" for unnamed events).
std::vector<std::string> EventNames(const std::string& body) {
  std::vector<std::string> names;
  size_t pos = 0;
  std::string current;
  bool has_data = false;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (line.rfind("event: ", 0) == 0) current = line.substr(7);
    if (line.rfind("data:", 0) == 0) has_data = true;
    if (line.empty()) {
      if (has_data) names.push_back(current);
      current.clear();
      has_data = false;
    }
  }
  return names;
}

const char kAnthropicMessage[] =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":3,"cache_read_input_tokens":5}})";

class TranslateTest : public RouterTest {
 protected:
  void SetUp() override {
    // The upstream base is only known once it listens: start it first,
    // then the router with the providers pointing at it.
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    StartRouter("");
  }

  // (Re)starts the router with the providers plus `extra_yaml`.
  void StartRouter(const std::string& extra_yaml) {
    if (router_ != nullptr) router_->Stop();
    RouterProcess::Options o;
    o.env = {{"OPENAI_API_KEY", kTestKey}, {"OPENAI_BASE_URL", upstream_->base_url()}};
    o.config_yaml = ProvidersYaml(upstream_->base_url()) + extra_yaml;
    o.workers = 1;
    router_ = std::make_unique<RouterProcess>(o);
    std::string error;
    ASSERT_TRUE(router_->Start(&error)) << error;
  }

  HttpResponse Post(const std::string& path, const std::string& body,
                    const HeaderList& headers = {}) {
    return Fetch(router_->port(), "POST", path, body, headers);
  }

  RecordedRequest LastUpstream() {
    auto reqs = upstream_->requests();
    EXPECT_FALSE(reqs.empty());
    return reqs.empty() ? RecordedRequest{} : reqs.back();
  }
};

TEST_F(TranslateTest, MessagesClientToChatUpstream) {
  HttpResponse r = Post(kMessagesPath,
                        R"({"model":"openai:gpt-4o","max_tokens":100,"system":"Be brief.",)"
                        R"("messages":[{"role":"user","content":"hi"}]})",
                        {{"x-api-key", "client-key"}, {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_EQ(up.Header("authorization"), std::string("Bearer ") + kTestKey);
  EXPECT_EQ(up.Header("x-api-key"), "");  // the client's credential stays here
  rapidjson::Document req = Json(up.body);
  EXPECT_STREQ(req["model"].GetString(), "gpt-4o");
  ASSERT_TRUE(req["messages"].IsArray());
  EXPECT_STREQ(req["messages"][0]["role"].GetString(), "system");
  EXPECT_STREQ(req["messages"][1]["content"].GetString(), "hi");

  rapidjson::Document resp = Json(r.body);
  EXPECT_STREQ(resp["type"].GetString(), "message");
  EXPECT_STREQ(resp["role"].GetString(), "assistant");
  // The answer names the model that served it (issue 12), as a passthrough does.
  EXPECT_STREQ(resp["model"].GetString(), "gpt-4o");
  EXPECT_STREQ(resp["content"][0]["type"].GetString(), "text");
  EXPECT_STREQ(resp["content"][0]["text"].GetString(), "Hello from fake upstream");
  EXPECT_STREQ(resp["stop_reason"].GetString(), "end_turn");
  EXPECT_EQ(r.body.find("null"), std::string::npos);
}

TEST_F(TranslateTest, MessagesClientStreamsFromChatUpstream) {
  HttpResponse r = Post(kMessagesPath, R"({"model":"openai:gpt-4o","max_tokens":100,"stream":true,)"
                                       R"("messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_TRUE(r.complete);
  // The upstream was asked for a stream with usage.
  rapidjson::Document req = Json(LastUpstream().body);
  EXPECT_TRUE(req["stream"].GetBool());
  std::vector<std::string> names = EventNames(r.body);
  ASSERT_GE(names.size(), 5u) << r.body;
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "content_block_start");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  EXPECT_NE(r.body.find("\"text_delta\""), std::string::npos);
  EXPECT_NE(r.body.find("\"text\":\" upstream\""), std::string::npos) << r.body;
}

TEST_F(TranslateTest, ChatClientToAnthropicUpstream) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = kAnthropicMessage;
    return r;
  });
  HttpResponse r = Chat(R"({"model":"ant:claude-x","messages":[{"role":"user","content":"hi"}]})",
                        {{"anthropic-beta", "prompt-caching-2024-07-31"}});
  ASSERT_EQ(r.status, 200) << r.body;
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/messages");
  EXPECT_EQ(up.Header("x-api-key"), "sk-ant-upstream");
  EXPECT_EQ(up.Header("authorization"), "");
  EXPECT_EQ(up.Header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(up.Header("anthropic-beta"), "prompt-caching-2024-07-31");
  rapidjson::Document req = Json(up.body);
  EXPECT_STREQ(req["model"].GetString(), "claude-x");
  EXPECT_TRUE(req["max_tokens"].IsInt());
  rapidjson::Document resp = Json(r.body);
  EXPECT_STREQ(resp["object"].GetString(), "chat.completion");
  EXPECT_STREQ(resp["model"].GetString(), "claude-x");
  EXPECT_STREQ(resp["choices"][0]["message"]["content"].GetString(), "Bonjour");
  EXPECT_STREQ(resp["choices"][0]["finish_reason"].GetString(), "stop");
  // Anthropic counts cache reads apart; Chat's prompt_tokens includes them.
  EXPECT_EQ(resp["usage"]["prompt_tokens"].GetInt(), 16);
  EXPECT_EQ(resp["usage"]["prompt_tokens_details"]["cached_tokens"].GetInt(), 5);
}

TEST_F(TranslateTest, ChatClientStreamsFromAnthropicUpstreamWithUsage) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {
        Sse({{"message_start",
              R"({"type":"message_start","message":{"id":"msg_9","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":7,"output_tokens":1}}})"},
             {"content_block_start",
              R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"}}),
        Sse({{"content_block_delta",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})"}}),
        Sse({{"content_block_delta",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})"},
             {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
             {"message_delta",
              R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}})"},
             {"message_stop", R"({"type":"message_stop"})"}})};
    return r;
  });
  HttpResponse r = Chat(
      R"({"model":"ant:claude-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_NE(r.body.find("\"content\":\"Hel\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"content\":\"lo\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"finish_reason\":\"stop\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"prompt_tokens\":7"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
  rapidjson::Document req = Json(LastUpstream().body);
  EXPECT_TRUE(req["stream"].GetBool());
}

TEST_F(TranslateTest, AJsonAnswerToAStreamRequestIsReplayedAsAStream) {
  // Some upstreams ignore `stream`: the client still gets its stream shape.
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = kAnthropicMessage;
    return r;
  });
  HttpResponse r = Chat(
      R"({"model":"ant:claude-x","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.Header("content-type"), "text/event-stream");
  EXPECT_NE(r.body.find("\"content\":\"Bonjour\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"finish_reason\":\"stop\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"prompt_tokens\":16"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.substr(r.body.size() - 14), "data: [DONE]\n\n");
}

TEST_F(TranslateTest, MessagesPassthroughSplicesOnlyTheModel) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = kAnthropicMessage;
    return r;
  });
  const std::string body =
      R"({"model":"ant:claude-x","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u1"},"future_field":[1,2]})";
  HttpResponse r =
      Post(kMessagesPath, body, {{"anthropic-version", "2023-06-01"}, {"anthropic-beta", "b1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, kAnthropicMessage);
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(
      up.body,
      R"({"model":"claude-x","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"u1"},"future_field":[1,2]})");
  EXPECT_EQ(up.Header("anthropic-beta"), "b1");
}

TEST_F(TranslateTest, GeminiClientToChatUpstreamWithEveryCredentialStyle) {
  const std::string body = R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})";
  HttpResponse a = Post("/v1beta/models/openai:gpt-4o:generateContent", body,
                        {{"x-goog-api-key", "client-goog-key"}});
  ASSERT_EQ(a.status, 200) << a.body;
  rapidjson::Document resp = Json(a.body);
  EXPECT_STREQ(resp["candidates"][0]["content"]["parts"][0]["text"].GetString(),
               "Hello from fake upstream");
  EXPECT_STREQ(resp["candidates"][0]["finishReason"].GetString(), "STOP");
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/chat/completions");
  EXPECT_STREQ(Json(up.body)["model"].GetString(), "gpt-4o");
  EXPECT_EQ(up.body.find("client-goog-key"), std::string::npos);
  EXPECT_EQ(up.Header("x-goog-api-key"), "");

  HttpResponse b = Post("/v1beta/models/openai%3Agpt-4o:generateContent?key=client-q-key", body);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(LastUpstream().target, "/v1/chat/completions");

  HttpResponse c = Post("/v1beta/models/openai:gpt-4o:streamGenerateContent?alt=sse", body,
                        {{"authorization", "Bearer client-bearer"}});
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.Header("content-type"), "text/event-stream");
  EXPECT_NE(c.body.find("data: {"), std::string::npos);
  EXPECT_NE(c.body.find("\"finishReason\":\"STOP\""), std::string::npos) << c.body;
  EXPECT_EQ(c.body.find("[DONE]"), std::string::npos);

  // Without alt=sse a Gemini stream is one JSON array.
  HttpResponse d = Post("/v1beta/models/openai:gpt-4o:streamGenerateContent", body);
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.Header("content-type"), "application/json");
  rapidjson::Document arr = Json(d.body);
  ASSERT_TRUE(arr.IsArray());
  EXPECT_GE(arr.Size(), 2u);
}

TEST_F(TranslateTest, GeminiPassthroughKeepsTheBodyAndPutsTheModelInThePath) {
  const std::string answer =
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}})";
  upstream_->SetHandler([&](const RecordedRequest&) {
    Reply r;
    r.body = answer;
    return r;
  });
  const std::string body =
      R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]})";
  HttpResponse r = Post("/v1beta/models/gem:gemini-2.5-flash:generateContent?key=client", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, answer);
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(up.body, body);
  EXPECT_EQ(up.Header("x-goog-api-key"), "gem-upstream-key");
}

TEST_F(TranslateTest, ResponsesClientToChatUpstreamAndStream) {
  HttpResponse r =
      Post(kResponsesPath, R"({"model":"openai:gpt-4o","instructions":"Be brief.","input":"hi"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document resp = Json(r.body);
  EXPECT_STREQ(resp["object"].GetString(), "response");
  EXPECT_STREQ(resp["status"].GetString(), "completed");
  EXPECT_NE(r.body.find("Hello from fake upstream"), std::string::npos);
  EXPECT_EQ(LastUpstream().target, "/v1/chat/completions");

  HttpResponse s = Post(kResponsesPath, R"({"model":"openai:gpt-4o","input":"hi","stream":true})");
  ASSERT_EQ(s.status, 200) << s.body;
  std::vector<std::string> names = EventNames(s.body);
  ASSERT_FALSE(names.empty()) << s.body;
  EXPECT_EQ(names.front(), "response.created");
  EXPECT_EQ(names.back(), "response.completed");
  EXPECT_NE(s.body.find("response.output_text.delta"), std::string::npos);
  EXPECT_EQ(s.body.find("[DONE]"), std::string::npos);
}

TEST_F(TranslateTest, ResponsesPassthroughToAResponsesUpstream) {
  const std::string answer =
      R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-5","output":[],"usage":{"input_tokens":1,"output_tokens":0,"total_tokens":1}})";
  upstream_->SetHandler([&](const RecordedRequest&) {
    Reply r;
    r.body = answer;
    return r;
  });
  HttpResponse r = Post(kResponsesPath,
                        R"({"model":"resp:gpt-5","input":"hi","previous_response_id":"resp_0"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, answer);
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/responses");
  EXPECT_EQ(up.body, R"({"model":"gpt-5","input":"hi","previous_response_id":"resp_0"})");
  EXPECT_EQ(up.Header("authorization"), "Bearer resp-upstream-key");
}

TEST_F(TranslateTest, UpstreamErrorsComeBackInTheClientsShape) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.status = 400;
    r.body =
        R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too large"}})";
    return r;
  });
  HttpResponse r = Chat(R"({"model":"ant:claude-x","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(r.status, 400);
  rapidjson::Document e = Json(r.body);
  EXPECT_STREQ(e["error"]["message"].GetString(), "max_tokens: too large");
  EXPECT_STREQ(e["error"]["type"].GetString(), "invalid_request_error");

  HttpResponse g = Post("/v1beta/models/ant:claude-x:generateContent",
                        R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})");
  EXPECT_EQ(g.status, 400);
  rapidjson::Document ge = Json(g.body);
  EXPECT_EQ(ge["error"]["code"].GetInt(), 400);
  EXPECT_STREQ(ge["error"]["status"].GetString(), "INVALID_ARGUMENT");
  EXPECT_STREQ(ge["error"]["message"].GetString(), "max_tokens: too large");
}

TEST_F(TranslateTest, RouterErrorsComeBackInTheClientsShape) {
  HttpResponse m = Post(kMessagesPath, R"({"model":"nope:nothing","max_tokens":5,"messages":[]})");
  EXPECT_EQ(m.status, 404);
  rapidjson::Document me = Json(m.body);
  EXPECT_STREQ(me["type"].GetString(), "error");
  EXPECT_STREQ(me["error"]["type"].GetString(), "not_found_error");

  HttpResponse bad = Post(kMessagesPath, "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_STREQ(Json(bad.body)["error"]["type"].GetString(), "invalid_request_error");

  // Translation parses the whole request: an unknown role is the client's error.
  HttpResponse role = Post(
      kMessagesPath,
      R"({"model":"openai:gpt-4o","max_tokens":5,"messages":[{"role":"wizard","content":"x"}]})");
  EXPECT_EQ(role.status, 400);
  EXPECT_NE(role.body.find("wizard"), std::string::npos) << role.body;
  EXPECT_EQ(upstream_->request_count(), 0u);

  HttpResponse g = Post("/v1beta/models/nope:x:generateContent", R"({"contents":[]})");
  EXPECT_EQ(g.status, 404);
  EXPECT_STREQ(Json(g.body)["error"]["status"].GetString(), "NOT_FOUND");

  HttpResponse get = Fetch(router_->port(), "GET", kMessagesPath);
  EXPECT_EQ(get.status, 405);
  EXPECT_STREQ(Json(get.body)["type"].GetString(), "error");
}

TEST_F(TranslateTest, TranslatedStreamCutMidwayEndsWithAnErrorNotASuccess) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.kind = Reply::Kind::kResetMidBody;
    r.content_type = "text/event-stream";
    r.body =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there, this is a longer "
        "piece\"}}]}\n\n";
    return r;
  });
  HttpResponse r = Post(kMessagesPath, R"({"model":"openai:gpt-4o","max_tokens":100,"stream":true,)"
                                       R"("messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a failed stream must not end like a complete one";
  EXPECT_EQ(r.body.find("message_stop"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("event: error"), std::string::npos) << r.body;
}

TEST_F(TranslateTest, MalformedFirstEventFailsOverBeforeAnythingIsSent) {
  // Two endpoints: the first answers a broken stream, the second a good one.
  ASSERT_NO_FATAL_FAILURE(
      StartRouter("models:\n  smart:\n    endpoints:\n"
                  "      - provider: ant\n        model_id: claude-broken\n"
                  "      - provider: openai\n        model_id: gpt-good\n"));
  upstream_->SetHandler([](const RecordedRequest& req) {
    if (req.target == "/v1/messages") {
      Reply r;
      r.content_type = "text/event-stream";
      r.body = "event: message_start\ndata: {not json\n\n";
      return r;
    }
    return DefaultReply(req);
  });
  HttpResponse r = Post(kMessagesPath, R"({"model":"smart","max_tokens":100,"stream":true,)"
                                       R"("messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(EventNames(r.body).back(), "message_stop") << r.body;
  EXPECT_NE(r.body.find("\"text\":\" upstream\""), std::string::npos) << r.body;
  EXPECT_EQ(upstream_->request_count(), 2u);
}

TEST_F(TranslateTest, AnEndpointCanOverrideItsProvidersProtocol) {
  // openai's Anthropic-compatible base, reached through a virtual model.
  ASSERT_NO_FATAL_FAILURE(
      StartRouter("models:\n  compat:\n    endpoints:\n"
                  "      - provider: openai\n        model_id: claude-compat\n"
                  "        api_protocol: anthropic\n"));
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = kAnthropicMessage;
    return r;
  });
  HttpResponse r = Chat(R"({"model":"compat","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Json(r.body)["choices"][0]["message"]["content"].GetString(), "Bonjour");
  RecordedRequest up = LastUpstream();
  EXPECT_EQ(up.target, "/v1/messages");
  EXPECT_EQ(up.Header("anthropic-version"), "2023-06-01");
  // The provider's own credential style is kept.
  EXPECT_EQ(up.Header("authorization"), std::string("Bearer ") + kTestKey);
}

TEST_F(TranslateTest, CountTokensEstimates) {
  HttpResponse small =
      Post("/v1/messages/count_tokens",
           R"({"model":"ant:claude-x","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(small.status, 200) << small.body;
  int64_t a = Json(small.body)["input_tokens"].GetInt64();
  std::string long_text(4000, 'a');
  HttpResponse big = Post(
      "/v1/messages/count_tokens",
      R"({"model":"ant:claude-x","messages":[{"role":"user","content":")" + long_text + R"("}]})");
  ASSERT_EQ(big.status, 200) << big.body;
  int64_t b = Json(big.body)["input_tokens"].GetInt64();
  EXPECT_GT(a, 0);
  EXPECT_GE(b, a + 900);
  EXPECT_EQ(upstream_->request_count(), 0u);  // estimated locally
}

}  // namespace
}  // namespace bitrouter::testing
