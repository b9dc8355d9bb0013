// Issue 16, guardrails.tools through the real binaries: the tools a request
// offers are filtered per the serving provider's policy in every client
// protocol (passthrough and translated), a forced denied tool is refused,
// and the tool calls an answer makes are checked (a denied tool blocks, a
// restricted argument is stripped or blocks), in JSON answers and in
// streams whose arguments arrive as deltas; every action is recorded.
#include <string>
#include <vector>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/openai_json.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

// One policy, given to every provider (a model provider's name keys it).
std::string Policy(const std::string& provider) {
  return "      " + provider +
         ":\n"
         "        filter:\n"
         "          deny: [delete_*]\n"
         "        param_restrictions:\n"
         "          rules:\n"
         "            create_issue:\n"
         "              deny: [assignees]\n"
         "              action: strip\n"
         "            run_shell:\n"
         "              deny: [sudo]\n"
         "              action: block\n";
}

constexpr char kSchema[] =
    R"({"type":"object","properties":{"title":{"type":"string"},"assignees":{"type":"array","items":{"type":"string"}}},"required":["title","assignees"]})";

std::string ChatChunk(const std::string& delta, const std::string& finish = "null") {
  return R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + finish + "}]}\n\n";
}

class GuardrailsToolsTest : public RouterTest {
 protected:
  void SetUp() override {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler([this](const RecordedRequest& req) { return Answer(req); });
    const std::string base = upstream_->base_url();
    StartRouterOnly("guardrails:\n  tools:\n    providers:\n" + Policy("openai") + Policy("ant") +
                    Policy("gem") + Policy("resp") +
                    "providers:\n  ant:\n    api_protocol: anthropic\n    api_base: " + base +
                    "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n"
                    "  gem:\n    api_protocol: google\n    api_base: " +
                    base +
                    "\n    api_key: gem-key\n"
                    "  resp:\n    api_protocol: openai_responses\n    api_base: " +
                    base +
                    "\n    api_key: resp-key\n"
                    "  free:\n    api_protocol: openai\n    api_base: " +
                    base + "\n    api_key: free-key\n");
  }

  // A plain answer in the upstream's protocol, or `chat_answer_` for Chat.
  Reply Answer(const RecordedRequest& req) {
    Reply r;
    if (req.target.find("/messages") != std::string::npos) {
      r.body =
          R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":5}})";
    } else if (req.target.find("/responses") != std::string::npos) {
      r.body =
          R"({"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"m","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"ok","annotations":[]}]}],"usage":{"input_tokens":5,"output_tokens":5,"total_tokens":10}})";
    } else if (req.target.find(":generateContent") != std::string::npos) {
      r.body =
          R"({"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":5,"totalTokenCount":10},"modelVersion":"m"})";
    } else if (!chat_chunks_.empty()) {
      r.content_type = "text/event-stream";
      r.chunked = true;
      r.chunks = chat_chunks_;
    } else if (!chat_answer_.empty()) {
      r.body = chat_answer_;
    } else {
      r.body = ChatCompletionJson("gpt-4o-mini", "ok");
    }
    return r;
  }

  // A Chat answer calling `name` with `args` (a JSON object's text).
  static std::string ChatToolCall(const std::string& name, const std::string& args) {
    return R"({"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":")" +
           name + R"(","arguments":")" + JsonEscape(args) +
           R"("}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}})";
  }

  std::string LastUpstreamBody() {
    auto reqs = upstream_->requests();
    return reqs.empty() ? "" : reqs.back().body;
  }
  double Matches(const std::string& direction, const std::string& action) {
    HttpResponse m = Fetch(router_->port(), "GET", "/metrics");
    return ParsePrometheusText(m.body).Sum(
        "bitrouter_guardrail_matches_total",
        {{"pattern", "tool_policy"}, {"direction", direction}, {"action", action}});
  }

  std::string chat_answer_;
  std::vector<std::string> chat_chunks_;
};

const HeaderList kAnthropic = {{"anthropic-version", "2023-06-01"}};

struct Offer {
  std::string what;
  std::string path;
  std::string body;
  HeaderList headers;
};

// The same two tools (delete_repo, create_issue) offered in each client
// protocol, to a Chat upstream (translated unless the client speaks Chat)
// and to an upstream of the client's own protocol (passthrough).
std::vector<Offer> Offers() {
  const std::string s = kSchema;
  std::vector<Offer> out;
  for (std::string model : {"openai:gpt-4o-mini", "ant:claude-x"}) {
    out.push_back(
        {"messages -> " + model, "/v1/messages",
         R"({"model":")" + model +
             R"(","max_tokens":10,"messages":[{"role":"user","content":"go"}],"tools":[{"name":"delete_repo","input_schema":{"type":"object"}},{"name":"create_issue","input_schema":)" +
             s + "}]}",
         kAnthropic});
  }
  for (std::string model : {"openai:gpt-4o-mini"}) {  // Chat upstream: passthrough
    out.push_back(
        {"chat -> " + model,
         "/v1/chat/completions",
         R"({"model":")" + model +
             R"(","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"delete_repo","parameters":{"type":"object"}}},{"type":"function","function":{"name":"create_issue","parameters":)" +
             s + "}}]}",
         {}});
  }
  for (std::string model : {"openai:gpt-4o-mini", "resp:gpt-4o-mini"}) {
    out.push_back(
        {"responses -> " + model,
         "/v1/responses",
         R"({"model":")" + model +
             R"(","input":"go","tools":[{"type":"function","name":"delete_repo","parameters":{"type":"object"}},{"type":"function","name":"create_issue","parameters":)" +
             s + "}]}",
         {}});
  }
  for (std::string model : {"openai:gpt-4o-mini", "gem:gemini-x"}) {
    out.push_back(
        {"gemini -> " + model,
         "/v1beta/models/" + model + ":generateContent",
         R"({"contents":[{"role":"user","parts":[{"text":"go"}]}],"tools":[{"functionDeclarations":[{"name":"delete_repo","parameters":{"type":"object"}},{"name":"create_issue","parameters":)" +
             s + "}]}]}",
         {}});
  }
  return out;
}

TEST_F(GuardrailsToolsTest, DeniedToolsAndArgumentsAreNotOfferedInAnyClientProtocol) {
  for (const Offer& o : Offers()) {
    size_t before = upstream_->request_count();
    HttpResponse r = Fetch(router_->port(), "POST", o.path, o.body, o.headers);
    EXPECT_EQ(r.status, 200) << o.what << "\n" << r.body;
    ASSERT_EQ(upstream_->request_count(), before + 1) << o.what;
    std::string up = LastUpstreamBody();
    EXPECT_EQ(up.find("delete_repo"), std::string::npos) << o.what << "\n" << up;
    EXPECT_NE(up.find("create_issue"), std::string::npos) << o.what << "\n" << up;
    EXPECT_EQ(up.find("assignees"), std::string::npos) << o.what << "\n" << up;
    EXPECT_NE(up.find("title"), std::string::npos) << o.what << "\n" << up;
  }
  EXPECT_EQ(Matches("upgoing", "redact"), static_cast<double>(Offers().size()));
}

TEST_F(GuardrailsToolsTest, WhatNoPolicyGovernsIsForwardedByteForByte) {
  // A request without tools is never re-serialised: the passthrough splice
  // changes only the model value.
  const std::string body =
      R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}],"temperature":0.50})";
  EXPECT_EQ(Chat(body).status, 200);
  EXPECT_NE(LastUpstreamBody().find(R"("temperature":0.50)"), std::string::npos)
      << LastUpstreamBody();
  // `free` has no policy: its tools go as offered.
  HttpResponse r = Chat(
      R"({"model":"free:gpt-4o-mini","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"delete_repo","parameters":{"type":"object"}}}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(LastUpstreamBody().find("delete_repo"), std::string::npos) << LastUpstreamBody();
  EXPECT_EQ(Matches("upgoing", "redact"), 0);
}

TEST_F(GuardrailsToolsTest, AForcedDeniedToolIsRefusedAndNothingGoesUpstream) {
  size_t before = upstream_->request_count();
  HttpResponse r = Chat(
      R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"delete_repo","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"delete_repo"}}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("guardrail_blocked"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("not allowed for provider 'openai'"), std::string::npos) << r.body;
  HttpResponse m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"ant:claude-x","max_tokens":10,"messages":[{"role":"user","content":"go"}],"tools":[{"name":"delete_branch","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}})",
      kAnthropic);
  EXPECT_EQ(m.status, 400) << m.body;
  EXPECT_NE(m.body.find("\"type\":\"error\""), std::string::npos) << m.body;
  EXPECT_EQ(upstream_->request_count(), before);
  // Every tool removed, tool_choice "auto": the request goes without tools.
  r = Chat(
      R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}],"tools":[{"type":"function","function":{"name":"delete_repo","parameters":{"type":"object"}}}],"tool_choice":"auto","parallel_tool_calls":true})");
  EXPECT_EQ(r.status, 200) << r.body;
  std::string up = LastUpstreamBody();
  EXPECT_EQ(up.find("\"tools\""), std::string::npos) << up;
  EXPECT_EQ(up.find("tool_choice"), std::string::npos) << up;
  EXPECT_EQ(up.find("parallel_tool_calls"), std::string::npos) << up;
  EXPECT_EQ(Matches("upgoing", "block"), 2);
}

TEST_F(GuardrailsToolsTest, AnAnswersToolCallsAreCheckedPassthroughAndTranslated) {
  // A call to a denied tool: 422 in the client's shape, never passed on.
  chat_answer_ = ChatToolCall("delete_repo", R"({"repo":"x"})");
  HttpResponse r =
      Chat(R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("guardrail blocked downgoing tool call 'delete_repo'"), std::string::npos)
      << r.body;
  HttpResponse m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"openai:gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"go"}]})",
      kAnthropic);
  EXPECT_EQ(m.status, 422) << m.body;
  EXPECT_NE(m.body.find("\"type\":\"error\""), std::string::npos) << m.body;
  // A restricted argument with action strip: removed, the rest kept.
  chat_answer_ = ChatToolCall("create_issue", R"({"title":"bug","assignees":["bob"]})");
  r = Chat(R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}]})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("assignees"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({\"title\":\"bug\"})"), std::string::npos) << r.body;
  m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"openai:gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"go"}]})",
      kAnthropic);
  EXPECT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.body.find("assignees"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find(R"("input":{"title":"bug"})"), std::string::npos) << m.body;
  // With action block: the answer is refused.
  chat_answer_ = ChatToolCall("run_shell", R"({"cmd":"ls","sudo":true})");
  r = Chat(R"({"model":"openai:gpt-4o-mini","messages":[{"role":"user","content":"go"}]})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("argument 'sudo' is not allowed"), std::string::npos) << r.body;
  EXPECT_EQ(Matches("downgoing", "block"), 3);
  EXPECT_EQ(Matches("downgoing", "redact"), 2);
  std::string out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"requests", "--json", "--limit", "1"}, &out);
        return out.find("tool_policy:block:downgoing") != std::string::npos;
      },
      5000))
      << out;
}

TEST_F(GuardrailsToolsTest, StreamedToolCallsAreCheckedWhateverTheDeltaSplit) {
  const std::string args = R"({"title":"bug","assignees":["bob"]})";
  const std::string start = ChatChunk(
      R"({"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"create_issue","arguments":""}}]})");
  auto piece = [](const std::string& a) {
    return ChatChunk(R"({"tool_calls":[{"index":0,"function":{"arguments":")" + JsonEscape(a) +
                     R"("}}]})");
  };
  const std::string body =
      R"({"model":"openai:gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"go"}]})";
  for (size_t cut = 1; cut < args.size(); cut += 3) {
    chat_chunks_ = {start, piece(args.substr(0, cut)), piece(args.substr(cut)),
                    ChatChunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"};
    HttpResponse r = Chat(body);
    ASSERT_EQ(r.status, 200) << cut;
    EXPECT_EQ(r.body.find("assignees"), std::string::npos) << "cut " << cut << "\n" << r.body;
    EXPECT_EQ(r.body.find("bob"), std::string::npos) << "cut " << cut;
    EXPECT_NE(r.body.find(R"({\"title\":\"bug\"})"), std::string::npos) << "cut " << cut << "\n"
                                                                        << r.body;
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << "cut " << cut;
  }
  // A streamed call to a denied tool ends the stream in-band before any of it.
  chat_chunks_ = {
      ChatChunk(R"({"role":"assistant","content":"Deleting. "})"),
      ChatChunk(
          R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"delete_repo","arguments":""}}]})"),
      piece(R"({"repo":"x"})"), ChatChunk("{}", "\"tool_calls\""), "data: [DONE]\n\n"};
  HttpResponse r = Chat(body);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Deleting."), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"tool_calls\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("guardrail_blocked"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos) << r.body;
  // A Messages client gets its own error event, and no tool_use block.
  HttpResponse m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"openai:gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"go"}]})",
      kAnthropic);
  EXPECT_NE(m.body.find("event: error"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("tool_use"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("message_stop"), std::string::npos) << m.body;
}

}  // namespace
}  // namespace bitrouter::testing
