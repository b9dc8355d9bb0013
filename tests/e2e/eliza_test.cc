// Issue 18 item 4 through the real binaries: the elizaOS plugin's requests
// (research brief A.7) - non-streaming Chat Completions with a system and a
// user message, every sampling parameter it sends, and structured output as
// json_schema or json_object - against an upstream of each protocol. The
// upstream must receive the translated fields, the client must get
// `choices[0].message.content` that parses as the schema's JSON, and usage.
// Also the three model-name forms the plugin uses.
#include <rapidjson/document.h>

#include <string>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

// What the upstream answers: the JSON text the schema asks for.
constexpr char kAnswerText[] = R"({\"name\":\"Ada\",\"age\":36})";
constexpr char kSchema[] =
    R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"number"}},)"
    R"("required":["name","age"],"additionalProperties":false})";

// elizaOS's body, as @ai-sdk/openai-compatible writes it (field order kept).
std::string ElizaBody(const std::string& model, bool with_schema, bool with_stop = true) {
  std::string rf = with_schema ? std::string(R"({"type":"json_schema","json_schema":{"schema":)") +
                                     kSchema + R"(,"strict":true,"name":"response"}})"
                               : std::string(R"({"type":"json_object"})");
  return R"({"model":")" + model +
         R"(","messages":[{"role":"system","content":"You are Eliza."},)"
         R"({"role":"user","content":"Describe a person as JSON."}],)"
         R"("max_tokens":256,"temperature":0.7,"top_p":0.9,"frequency_penalty":0.5,)"
         R"("presence_penalty":0.25,"seed":42,)" +
         (with_stop ? std::string(R"("stop":["\nUser:"],)") : std::string()) +
         R"("response_format":)" + rf + "}";
}

// One answer per protocol, each carrying kAnswerText and usage.
Reply Answer(const RecordedRequest& req) {
  Reply r;
  const std::string text = kAnswerText;
  if (req.target.find(":generateContent") != std::string::npos) {
    r.body = R"({"candidates":[{"content":{"role":"model","parts":[{"text":")" + text +
             R"("}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":21,)"
             R"("candidatesTokenCount":9,"totalTokenCount":30},"modelVersion":"gem-x"})";
  } else if (req.target.find("/messages") != std::string::npos) {
    r.body =
        R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":")" +
        text +
        R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":21,"output_tokens":9}})";
  } else if (req.target.find("/responses") != std::string::npos) {
    r.body =
        R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"resp-x","output":[{"type":"message","id":"m1","role":"assistant","status":"completed","content":[{"type":"output_text","text":")" +
        text +
        R"(","annotations":[]}]}],"usage":{"input_tokens":21,"output_tokens":9,"total_tokens":30}})";
  } else {
    r.body =
        R"({"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":")" +
        text +
        R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30}})";
  }
  return r;
}

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

class ElizaTest : public RouterTest {
 protected:
  void SetUp() override {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler(Answer);
    const std::string base = upstream_->base_url();
    StartRouterOnly(
        "providers:\n"
        "  ant:\n    api_protocol: anthropic\n    api_base: " +
        base +
        "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n"
        "  gem:\n    api_protocol: google\n    api_base: " +
        base +
        "\n    api_key: gem-key\n    models: [gem-x]\n"
        "  resp:\n    api_protocol: openai_responses\n    api_base: " +
        base +
        "\n    api_key: resp-key\n    models: [resp-x]\n"
        "  orouter:\n    api_protocol: openai\n    api_base: " +
        base +
        "\n    api_key: or-key\n    models: [anthropic/claude-3-haiku]\n"
        "models:\n"
        "  openai/pinned:\n    endpoints:\n"
        "      - {provider: ant, model_id: claude-x}\n");
  }

  // Sends `body`; checks the client's answer is a chat.completion whose
  // content parses as the schema's object, with usage. Returns what the
  // upstream received.
  rapidjson::Document Send(const std::string& body) {
    upstream_->ClearRequests();
    HttpResponse r = Chat(body);
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document resp = Json(r.body);
    if (!resp.IsObject() || !resp.HasMember("choices")) {
      ADD_FAILURE() << r.body;
      return rapidjson::Document();
    }
    EXPECT_STREQ(resp["object"].GetString(), "chat.completion");
    EXPECT_TRUE(resp["id"].IsString() && resp["model"].IsString() && resp["created"].IsInt64());
    const auto& choice = resp["choices"][0];
    EXPECT_STREQ(choice["finish_reason"].GetString(), "stop");
    rapidjson::Document content = Json(choice["message"]["content"].GetString());
    EXPECT_TRUE(content.IsObject() && content.HasMember("name") && content["name"].IsString() &&
                content.HasMember("age") && content["age"].IsNumber())
        << r.body;
    EXPECT_EQ(resp["usage"]["prompt_tokens"].GetInt(), 21);
    EXPECT_EQ(resp["usage"]["completion_tokens"].GetInt(), 9);
    EXPECT_EQ(resp["usage"]["total_tokens"].GetInt(), 30);
    auto reqs = upstream_->requests();
    EXPECT_EQ(reqs.size(), 1u);
    return Json(reqs.empty() ? "{}" : reqs.back().body);
  }
};

TEST_F(ElizaTest, ChatUpstreamGetsTheBodyUnchanged) {
  for (bool schema : {true, false}) {
    const std::string body = ElizaBody("openai:gpt-4o-mini", schema);
    rapidjson::Document up = Send(body);
    // A passthrough: only the model is spliced (here to the same id).
    EXPECT_EQ(upstream_->requests().back().body, ElizaBody("gpt-4o-mini", schema));
    EXPECT_TRUE(up == Json(ElizaBody("gpt-4o-mini", schema)));
  }
}

TEST_F(ElizaTest, MessagesUpstreamGetsOutputConfigOrAJsonInstruction) {
  rapidjson::Document up = Send(ElizaBody("ant:claude-x", true));
  EXPECT_STREQ(up["model"].GetString(), "claude-x");
  EXPECT_STREQ(up["system"].GetString(), "You are Eliza.");
  EXPECT_EQ(up["max_tokens"].GetInt(), 256);
  EXPECT_DOUBLE_EQ(up["temperature"].GetDouble(), 0.7);
  EXPECT_DOUBLE_EQ(up["top_p"].GetDouble(), 0.9);
  EXPECT_STREQ(up["stop_sequences"][0].GetString(), "\nUser:");
  EXPECT_STREQ(up["output_config"]["format"]["type"].GetString(), "json_schema");
  EXPECT_TRUE(up["output_config"]["format"]["schema"] == Json(kSchema));
  // No Messages parameter for these: left out, never sent as unknown fields.
  for (const char* gone : {"seed", "frequency_penalty", "presence_penalty", "response_format"}) {
    EXPECT_FALSE(up.HasMember(gone)) << gone;
  }

  up = Send(ElizaBody("ant:claude-x", false));
  // JSON mode: an instruction after the client's system prompt.
  ASSERT_TRUE(up["system"].IsArray());
  ASSERT_EQ(up["system"].Size(), 2u);
  EXPECT_STREQ(up["system"][0]["text"].GetString(), "You are Eliza.");
  EXPECT_NE(std::string(up["system"][1]["text"].GetString()).find("JSON object"),
            std::string::npos);
  EXPECT_FALSE(up.HasMember("output_config"));
}

TEST_F(ElizaTest, GeminiUpstreamGetsGenerationConfig) {
  for (bool schema : {true, false}) {
    rapidjson::Document up = Send(ElizaBody("gem:gem-x", schema));
    EXPECT_EQ(upstream_->requests().back().target, "/v1/models/gem-x:generateContent");
    EXPECT_STREQ(up["systemInstruction"]["parts"][0]["text"].GetString(), "You are Eliza.");
    const auto& gc = up["generationConfig"];
    EXPECT_EQ(gc["maxOutputTokens"].GetInt(), 256);
    EXPECT_DOUBLE_EQ(gc["temperature"].GetDouble(), 0.7);
    EXPECT_DOUBLE_EQ(gc["topP"].GetDouble(), 0.9);
    EXPECT_EQ(gc["seed"].GetInt(), 42);
    EXPECT_DOUBLE_EQ(gc["frequencyPenalty"].GetDouble(), 0.5);
    EXPECT_DOUBLE_EQ(gc["presencePenalty"].GetDouble(), 0.25);
    EXPECT_STREQ(gc["stopSequences"][0].GetString(), "\nUser:");
    EXPECT_STREQ(gc["responseMimeType"].GetString(), "application/json");
    if (schema) {
      EXPECT_TRUE(gc["responseJsonSchema"] == Json(kSchema));
    } else {
      EXPECT_FALSE(gc.HasMember("responseJsonSchema"));
    }
  }
}

TEST_F(ElizaTest, ResponsesUpstreamGetsTextFormat) {
  // Responses has no stop sequences: a body with `stop` is refused naming it
  // (README); elizaOS omits stop when it has none.
  HttpResponse refused = Chat(ElizaBody("resp:resp-x", true));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("stop"), std::string::npos) << refused.body;
  for (bool schema : {true, false}) {
    rapidjson::Document up = Send(ElizaBody("resp:resp-x", schema, /*with_stop=*/false));
    EXPECT_EQ(upstream_->requests().back().target, "/v1/responses");
    EXPECT_EQ(up["max_output_tokens"].GetInt(), 256);
    EXPECT_DOUBLE_EQ(up["temperature"].GetDouble(), 0.7);
    EXPECT_DOUBLE_EQ(up["top_p"].GetDouble(), 0.9);
    const auto& format = up["text"]["format"];
    if (schema) {
      EXPECT_STREQ(format["type"].GetString(), "json_schema");
      EXPECT_STREQ(format["name"].GetString(), "response");
      EXPECT_TRUE(format["strict"].GetBool());
      EXPECT_TRUE(format["schema"] == Json(kSchema));
    } else {
      EXPECT_STREQ(format["type"].GetString(), "json_object");
    }
    for (const char* gone : {"seed", "frequency_penalty", "presence_penalty"}) {
      EXPECT_FALSE(up.HasMember(gone)) << gone;
    }
  }
}

TEST_F(ElizaTest, TheThreeModelNameFormsRoute) {
  for (const char* model : {"gpt-4o-mini", "openai:gpt-4o-mini", "openai/gpt-4o-mini"}) {
    rapidjson::Document up = Send(ElizaBody(model, true));
    EXPECT_EQ(upstream_->requests().back().target, "/v1/chat/completions") << model;
    EXPECT_EQ(upstream_->requests().back().Header("authorization"),
              std::string("Bearer ") + kTestKey)
        << model;
    EXPECT_STREQ(up["model"].GetString(), "gpt-4o-mini") << model;
  }
  // An OpenRouter id whose prefix names no configured provider stays a catalog id.
  rapidjson::Document up = Send(ElizaBody("anthropic/claude-3-haiku", true));
  EXPECT_EQ(upstream_->requests().back().Header("authorization"), "Bearer or-key");
  EXPECT_STREQ(up["model"].GetString(), "anthropic/claude-3-haiku");
  // A configured route of that exact name wins over the slash form.
  up = Send(ElizaBody("openai/pinned", true));
  EXPECT_EQ(upstream_->requests().back().target, "/v1/messages");
  EXPECT_STREQ(up["model"].GetString(), "claude-x");
  // An unknown slash name is still a 404.
  HttpResponse r = Chat(ElizaBody("nobody/model-x", true));
  EXPECT_EQ(r.status, 404) << r.body;
}

}  // namespace
}  // namespace bitrouter::testing
