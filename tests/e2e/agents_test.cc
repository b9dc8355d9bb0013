// What real agents send, through the real binaries (issue 9 item 10):
// Claude Code's mid-conversation system messages, Codex's namespace and
// hosted tools, the model catalogue endpoints SDKs and CLIs call, Gemini
// CLI's thinking budget toward Anthropic, and complete Responses objects.
#include <rapidjson/document.h>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

constexpr char kAnthropicMessage[] =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Bonjour"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":3}})";
constexpr char kGeminiAnswer[] =
    R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}})";
constexpr char kResponsesAnswer[] =
    R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"x","output":[{"type":"message","id":"m1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}]})";
constexpr char kChatToolCall[] =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000001,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"github__create_issue","arguments":"{\"title\":\"x\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";

// Claude Code with a mid-conversation system message.
constexpr char kClaudeCode[] =
    R"({"model":"MODEL","max_tokens":100,"system":"You are Claude Code.","messages":[)"
    R"({"role":"user","content":"Fix the build."},{"role":"assistant","content":"Looking."},)"
    R"({"role":"system","content":"The project is Go."},{"role":"user","content":"Go on."}]})";

// Codex (Responses, default settings): a namespace and hosted tools.
constexpr char kCodex[] =
    R"({"model":"MODEL","instructions":"You are Codex.","stream":STREAM,)"
    R"("input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"File it."}]}],)"
    R"("tools":[{"type":"function","name":"shell","parameters":{"type":"object"}},)"
    R"({"type":"namespace","name":"github","description":"GitHub.","tools":[)"
    R"({"type":"function","name":"create_issue","parameters":{"type":"object"}}]},)"
    R"({"type":"web_search"}],"tool_choice":"auto","parallel_tool_calls":false,"store":false,)"
    R"("reasoning":{"effort":"medium"},"prompt_cache_key":"pk"})";

// A Messages stream whose one block is a tool_use named `name`, its input
// streamed as these input_json_delta pieces (none: a call without input).
std::string MessagesToolUseStream(const std::string& name, const std::vector<std::string>& pieces) {
  std::string out =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":0}}})"
      "\n\nevent: content_block_start\ndata: "
      R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":")" +
      name + R"(","input":{}}})" + "\n\n";
  for (const std::string& piece : pieces) {
    out +=
        "event: content_block_delta\ndata: "
        R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":")" +
        JsonEscape(piece) + "\"}}\n\n";
  }
  return out +
         "event: content_block_stop\ndata: "
         R"({"type":"content_block_stop","index":0})"
         "\n\nevent: message_delta\ndata: "
         R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":3}})"
         "\n\nevent: message_stop\ndata: "
         R"({"type":"message_stop"})"
         "\n\n";
}

std::string With(std::string body, const std::string& model, bool stream = false) {
  body.replace(body.find("MODEL"), 5, model);
  size_t s = body.find("STREAM");
  if (s != std::string::npos) body.replace(s, 6, stream ? "true" : "false");
  return body;
}

class TranslateAgentsTest : public RouterTest {
 protected:
  void SetUp() override {
    StartAllProtocols();
    if (HasFatalFailure()) return;
    upstream_->SetHandler([](const RecordedRequest& req) {
      Reply r;
      if (req.target.find("/messages") != std::string::npos) {
        r.body = kAnthropicMessage;
      } else if (req.target.find(":generateContent") != std::string::npos) {
        r.body = kGeminiAnswer;
      } else if (req.target.find("/responses") != std::string::npos) {
        r.body = kResponsesAnswer;
      } else {
        return DefaultReply(req);
      }
      return r;
    });
  }

  HttpResponse Post(const std::string& path, const std::string& body,
                    const HeaderList& headers = {}) {
    return Fetch(router_->port(), "POST", path, body, headers);
  }
  HttpResponse Get(const std::string& path, const HeaderList& headers = {}) {
    return Fetch(router_->port(), "GET", path, "", headers);
  }
  RecordedRequest LastUpstream() {
    auto reqs = upstream_->requests();
    EXPECT_FALSE(reqs.empty());
    return reqs.empty() ? RecordedRequest{} : reqs.back();
  }
};

const HeaderList kClaudeHeaders = {{"anthropic-version", "2023-06-01"},
                                   {"anthropic-beta", "mid-conversation-system-2026-04-07"}};

TEST_F(TranslateAgentsTest, MidConversationSystemReachesEveryUpstream) {
  // Chat: a system message in place.
  HttpResponse r = Post("/v1/messages", With(kClaudeCode, "openai:gpt-4o"), kClaudeHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document up = Json(LastUpstream().body);
  ASSERT_EQ(up["messages"].Size(), 5u);
  EXPECT_STREQ(up["messages"][0]["role"].GetString(), "system");
  EXPECT_STREQ(up["messages"][3]["role"].GetString(), "system");
  EXPECT_STREQ(up["messages"][3]["content"].GetString(), "The project is Go.");

  // Responses: a system input item in place.
  r = Post("/v1/messages", With(kClaudeCode, "resp:gpt-x"), kClaudeHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  up = Json(LastUpstream().body);
  EXPECT_STREQ(up["instructions"].GetString(), "You are Claude Code.");
  EXPECT_STREQ(up["input"][2]["role"].GetString(), "system");

  // Gemini: user text marked as a system instruction, in place.
  r = Post("/v1/messages", With(kClaudeCode, "gem:gemini-x"), kClaudeHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  up = Json(LastUpstream().body);
  ASSERT_EQ(up["contents"].Size(), 3u);
  EXPECT_STREQ(up["contents"][2]["parts"][0]["text"].GetString(),
               "<system>\nThe project is Go.\n</system>");

  // Messages: forwarded as sent, with the beta header.
  const std::string body = With(kClaudeCode, "ant:claude-x");
  r = Post("/v1/messages", body, kClaudeHeaders);
  ASSERT_EQ(r.status, 200) << r.body;
  RecordedRequest ant = LastUpstream();
  EXPECT_NE(ant.body.find(R"({"role":"system","content":"The project is Go."})"),
            std::string::npos);
  EXPECT_EQ(ant.Header("anthropic-beta"), "mid-conversation-system-2026-04-07");
}

TEST_F(TranslateAgentsTest, CodexNamespaceToolsRoundTripAndHostedToolsAreDropped) {
  upstream_->SetHandler([](const RecordedRequest& req) {
    Reply r;
    r.body = req.target.find("/messages") != std::string::npos ? kAnthropicMessage : kChatToolCall;
    return r;
  });
  HttpResponse r = Post("/v1/responses", With(kCodex, "openai:gpt-4o"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-bitrouter-dropped-tools"), "web_search");
  rapidjson::Document up = Json(LastUpstream().body);
  ASSERT_EQ(up["tools"].Size(), 2u);
  EXPECT_STREQ(up["tools"][1]["function"]["name"].GetString(), "github__create_issue");
  rapidjson::Document resp = Json(r.body);
  EXPECT_STREQ(resp["output"][0]["type"].GetString(), "function_call");
  EXPECT_STREQ(resp["output"][0]["name"].GetString(), "create_issue");
  EXPECT_STREQ(resp["output"][0]["namespace"].GetString(), "github");
  // A complete Responses object, echoing the request.
  EXPECT_EQ(resp["tools"].Size(), 3u);  // as sent: function, namespace, web_search
  EXPECT_FALSE(resp["parallel_tool_calls"].GetBool());
  EXPECT_STREQ(resp["prompt_cache_key"].GetString(), "pk");
  EXPECT_STREQ(resp["instructions"].GetString(), "You are Codex.");
  EXPECT_TRUE(resp["completed_at"].IsInt64());
  EXPECT_TRUE(resp["error"].IsNull());
  EXPECT_FALSE(resp["store"].GetBool());

  // The same toward a Messages upstream (no namespace in its answer).
  r = Post("/v1/responses", With(kCodex, "ant:claude-x"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-bitrouter-dropped-tools"), "web_search");
  up = Json(LastUpstream().body);
  EXPECT_STREQ(up["tools"][1]["name"].GetString(), "github__create_issue");
}

TEST_F(TranslateAgentsTest, CodexStreamCarriesTheNamespaceAndCompleteSnapshots) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = {
        "data: "
        R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"github__create_issue","arguments":""}}]},"finish_reason":null}]})"
        "\n\n",
        "data: "
        R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]})"
        "\n\ndata: [DONE]\n\n"};
    return r;
  });
  HttpResponse r = Post("/v1/responses", With(kCodex, "openai:gpt-4o", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.Header("x-bitrouter-dropped-tools"), "web_search");
  EXPECT_EQ(r.body.find("github__create_issue"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("name":"create_issue","namespace":"github")"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("prompt_cache_key":"pk")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("event: response.completed"), std::string::npos) << r.body;
}

// Codex edits files through apply_patch, a custom (free-form) tool: it must
// survive translation both ways, as JSON and as a stream.
TEST_F(TranslateAgentsTest, CodexApplyPatchRoundTripsThroughOtherProtocols) {
  const std::string codex =
      R"({"model":"MODEL","stream":STREAM,"input":[)"
      R"({"type":"message","role":"user","content":"Edit it."},)"
      R"({"type":"custom_tool_call","call_id":"c0","name":"apply_patch","input":"*** Begin Patch\n*** End Patch"},)"
      R"({"type":"custom_tool_call_output","call_id":"c0","output":"Done"}],)"
      R"("tools":[{"type":"custom","name":"apply_patch","description":"Edit files.",)"
      R"("format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}}]})";
  upstream_->SetHandler([](const RecordedRequest& req) {
    Reply r;
    if (req.target.find("/messages") != std::string::npos) {
      r.content_type = "text/event-stream";
      r.chunked = true;
      r.chunks = {MessagesToolUseStream("apply_patch", {"{\"input\": \"+a\\n", "+b\"}"})};
      return r;
    }
    r.body =
        R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_p","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n+x\\n*** End Patch\"}"}}]},"finish_reason":"tool_calls"}]})";
    return r;
  });
  // JSON through a Chat upstream.
  HttpResponse r = Post("/v1/responses", With(codex, "openai:gpt-4o"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("x-bitrouter-dropped-tools"), "");
  rapidjson::Document up = Json(LastUpstream().body);
  EXPECT_STREQ(up["tools"][0]["function"]["name"].GetString(), "apply_patch");
  EXPECT_STREQ(up["messages"][1]["tool_calls"][0]["function"]["arguments"].GetString(),
               R"({"input":"*** Begin Patch\n*** End Patch"})");
  rapidjson::Document resp = Json(r.body);
  EXPECT_STREQ(resp["output"][0]["type"].GetString(), "custom_tool_call");
  EXPECT_STREQ(resp["output"][0]["input"].GetString(), "*** Begin Patch\n+x\n*** End Patch");

  // A stream through a Messages upstream.
  r = Post("/v1/responses", With(codex, "ant:claude-x", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  up = Json(LastUpstream().body);
  EXPECT_STREQ(up["tools"][0]["name"].GetString(), "apply_patch");
  EXPECT_NE(r.body.find("event: response.custom_tool_call_input.done"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("input":"+a\n+b")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("function_call"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("event: response.completed"), std::string::npos) << r.body;
}

// Issue 11 items 2 and 3: a call without input reaches a Chat client with
// JSON arguments, and tool calls closed by "stop" (vLLM, Ollama) finish with
// the tool-use reason, streamed and as JSON.
TEST_F(TranslateAgentsTest, EmptyToolInputsAndToolCallsClosedByStop) {
  upstream_->SetHandler([](const RecordedRequest& req) {
    Reply r;
    bool stream = req.body.find("\"stream\":true") != std::string::npos;
    if (req.target.find("/messages") != std::string::npos) {
      r.content_type = "text/event-stream";
      r.chunked = true;
      r.chunks = {MessagesToolUseStream("list_files", {})};
      return r;
    }
    if (stream) {
      r.content_type = "text/event-stream";
      r.chunked = true;
      r.chunks = {
          "data: "
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":null}]})"
          "\n\n",
          "data: "
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
          "\n\ndata: [DONE]\n\n"};
      return r;
    }
    r.body =
        R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":"stop"}]})";
    return r;
  });
  const std::string messages =
      R"({"model":"openai:gpt-4o","max_tokens":50,"stream":STREAM,"messages":[{"role":"user","content":"ls"}]})";
  auto with_stream = [&](bool stream) {
    std::string b = messages;
    b.replace(b.find("STREAM"), 6, stream ? "true" : "false");
    return b;
  };
  HttpResponse r = Post("/v1/messages", with_stream(true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("stop_reason":"tool_use")"), std::string::npos) << r.body;
  r = Post("/v1/messages", with_stream(false));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Json(r.body)["stop_reason"].GetString(), "tool_use");

  r = Post("/v1/chat/completions",
           R"({"model":"ant:claude-x","stream":true,"messages":[{"role":"user","content":"ls"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("arguments":"{}")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << r.body;
}

// Issue 11 item 4: a Chat upstream's reasoning in a JSON answer reaches a
// Messages client as a thinking block, as it does on the stream path.
TEST_F(TranslateAgentsTest, ChatJsonReasoningIsKept) {
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body =
        R"({"id":"c1","object":"chat.completion","created":1,"model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"Six times seven.","content":"42"},"finish_reason":"stop"}]})";
    return r;
  });
  HttpResponse r = Post(
      "/v1/messages",
      R"({"model":"openai:gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"6*7?"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r.body);
  ASSERT_EQ(d["content"].Size(), 2u) << r.body;
  EXPECT_STREQ(d["content"][0]["type"].GetString(), "thinking");
  EXPECT_STREQ(d["content"][0]["thinking"].GetString(), "Six times seven.");
  EXPECT_STREQ(d["content"][1]["text"].GetString(), "42");
}

size_t Count(const std::string& s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// Issue 11 items 6 and 8, passthrough: a Gemini stream that only says the
// prompt was blocked is complete, and a stream that carried the upstream's own
// error event gets no second error of ours.
TEST_F(TranslateAgentsTest, PassthroughStreamsEndedByTheUpstreamsOwnEvents) {
  upstream_->SetHandler([](const RecordedRequest& req) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    if (req.target.find(":streamGenerateContent") != std::string::npos) {
      r.chunks = {
          "data: "
          R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}})"
          "\n\n"};
    } else if (req.target.find("/messages") != std::string::npos) {
      r.chunks = {
          "event: message_start\ndata: "
          R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":0}}})"
          "\n\n",
          "event: error\ndata: "
          R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
          "\n\n"};
    } else {
      r.chunks = {
          "event: response.created\ndata: "
          R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}})"
          "\n\n",
          "event: error\ndata: "
          R"({"type":"error","code":"server_error","message":"boom","param":null,"sequence_number":1})"
          "\n\n"};
    }
    return r;
  });
  HttpResponse r = Post("/v1beta/models/gem:gemini-x:streamGenerateContent?alt=sse",
                        R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_NE(r.body.find("blockReason"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("error"), std::string::npos) << r.body;

  r = Post(
      "/v1/messages",
      R"({"model":"ant:claude-x","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(Count(r.body, "event: error"), 1u) << r.body;
  EXPECT_EQ(r.body.find("truncated"), std::string::npos) << r.body;

  r = Post("/v1/responses", R"({"model":"resp:r-model","stream":true,"input":"hi"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(Count(r.body, "event: error"), 1u) << r.body;
  EXPECT_EQ(r.body.find("response.failed"), std::string::npos) << r.body;
}

TEST_F(TranslateAgentsTest, ModelEndpointsInEachProtocolsShape) {
  HttpResponse r = Get("/v1/models/ant:claude-x");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r.body);
  EXPECT_STREQ(d["object"].GetString(), "model");
  EXPECT_STREQ(d["owned_by"].GetString(), "ant");

  r = Get("/v1/models/ant%3Aclaude-x", {{"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  EXPECT_STREQ(d["type"].GetString(), "model");
  EXPECT_STREQ(d["id"].GetString(), "ant:claude-x");
  EXPECT_TRUE(d["display_name"].IsString());
  EXPECT_TRUE(d["created_at"].IsString());

  r = Get("/v1/models?limit=1", {{"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  ASSERT_EQ(d["data"].Size(), 1u);
  EXPECT_STREQ(d["data"][0]["type"].GetString(), "model");
  EXPECT_TRUE(d["has_more"].GetBool());
  EXPECT_STREQ(d["first_id"].GetString(), d["data"][0]["id"].GetString());

  r = Get("/v1/models/nobody:nothing");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_STREQ(Json(r.body)["error"]["code"].GetString(), "model_not_found");
  r = Get("/v1/models/nobody:nothing", {{"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_STREQ(Json(r.body)["error"]["type"].GetString(), "not_found_error");

  r = Get("/v1beta/models");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  ASSERT_TRUE(d["models"].IsArray());
  bool found = false;
  for (const auto& m : d["models"].GetArray()) {
    found = found || std::string(m["name"].GetString()) == "models/ant:claude-x";
  }
  EXPECT_TRUE(found) << r.body;

  r = Get("/v1beta/models/ant:claude-x");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  EXPECT_STREQ(d["name"].GetString(), "models/ant:claude-x");
  EXPECT_TRUE(d["supportedGenerationMethods"].IsArray());
  r = Get("/v1beta/models/nobody:nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_STREQ(Json(r.body)["error"]["status"].GetString(), "NOT_FOUND");

  r = Post("/v1beta/models/ant:claude-x:countTokens",
           R"({"contents":[{"role":"user","parts":[{"text":"hello there"}]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_GT(Json(r.body)["totalTokens"].GetInt64(), 0);
  r = Post(
      "/v1beta/models/ant:claude-x:countTokens",
      R"({"generateContentRequest":{"model":"models/x","contents":[{"role":"user","parts":[{"text":"hi"}]}]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(upstream_->request_count(), 0u);  // all answered locally
}

TEST_F(TranslateAgentsTest, GeminiThinkingBudgetStaysBelowAnthropicsLimit) {
  HttpResponse r = Post("/v1beta/models/ant:claude-x:generateContent",
                        R"({"contents":[{"role":"user","parts":[{"text":"Plan."}]}],)"
                        R"("generationConfig":{"thinkingConfig":{"thinkingBudget":8192}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document up = Json(LastUpstream().body);
  EXPECT_EQ(up["thinking"]["budget_tokens"].GetInt64(), 8192);
  EXPECT_GT(up["max_tokens"].GetInt64(), 8192);

  r = Post(
      "/v1beta/models/ant:claude-x:generateContent",
      R"({"contents":[{"role":"user","parts":[{"text":"Plan."}]}],)"
      R"("generationConfig":{"maxOutputTokens":3000,"thinkingConfig":{"thinkingBudget":8192}}})");
  ASSERT_EQ(r.status, 200) << r.body;
  up = Json(LastUpstream().body);
  EXPECT_EQ(up["max_tokens"].GetInt64(), 3000);
  EXPECT_EQ(up["thinking"]["budget_tokens"].GetInt64(), 2999);
}

}  // namespace
}  // namespace bitrouter::testing
