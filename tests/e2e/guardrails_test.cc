// Issue 16 through the real binaries: guardrails on the request (block,
// redact, warn) in every client protocol, passthrough and translated; on
// JSON answers and on streams, with a secret split across stream chunks at
// every byte offset; tool-call arguments streamed as deltas; the manual's
// section loaded verbatim; reload; the record and /metrics.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/e2e/e2e_fixture.h"
#include "tests/support/openai_json.h"
#include "tests/support/prometheus_text.h"

namespace bitrouter::testing {
namespace {

// An OpenAI-style secret (api_keys) and an AWS one.
constexpr char kSecret[] = "sk-proj-Zq3k9T0pLx7Vb2Nw8Rt5Ym1Hc4Jd6Fa0";
constexpr char kAws[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kPem[] =
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA1c3xZ9\\n-----END RSA PRIVATE KEY-----";

// The manual's guardrails section, verbatim (../shared/seeds/003), kept once
// in testdata for this test and the loader's.
std::string ManualSection() {
  std::ifstream f(std::string(BR_TESTDATA_DIR) + "/guardrails_manual.yaml", std::ios::binary);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

class GuardrailsTest : public RouterTest {
 protected:
  void Start(const std::string& guardrails_yaml, int workers = 1) {
    upstream_ = std::make_unique<FakeUpstream>();
    ASSERT_TRUE(upstream_->Start()) << upstream_->last_error();
    upstream_->SetHandler([this](const RecordedRequest& req) { return Answer(req); });
    const std::string base = upstream_->base_url();
    StartRouterOnly(guardrails_yaml +
                        "providers:\n  ant:\n    api_protocol: anthropic\n"
                        "    api_base: " +
                        base + "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n",
                    workers);
  }
  // What the fake upstream says: `answer_` as a chat JSON or stream (split
  // into `pieces_` when set), or a Messages answer.
  Reply Answer(const RecordedRequest& req) {
    Reply r;
    bool stream = req.body.find("\"stream\":true") != std::string::npos;
    if (req.target.find("/messages") != std::string::npos) {
      r.body =
          R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":")" +
          JsonEscape(answer_) +
          R"("}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":5}})";
      return r;
    }
    if (!stream) {
      r.body = ChatCompletionJson("gpt-4o-mini", answer_);
      return r;
    }
    r.content_type = "text/event-stream";
    r.chunked = true;
    r.chunks = ChatCompletionSseChunks(
        "gpt-4o-mini", pieces_.empty() ? std::vector<std::string>{answer_} : pieces_);
    return r;
  }
  static std::string ChatBody(const std::string& text, bool stream = false) {
    return R"({"model":"openai:gpt-4o-mini","stream":)" + std::string(stream ? "true" : "false") +
           R"(,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":")" +
           text + R"("}]})";
  }
  std::string LastUpstreamBody() {
    auto reqs = upstream_->requests();
    return reqs.empty() ? "" : reqs.back().body;
  }
  double Matches(const std::string& pattern, const std::string& direction,
                 const std::string& action) {
    HttpResponse m = Fetch(router_->port(), "GET", "/metrics");
    return ParsePrometheusText(m.body).Sum(
        "bitrouter_guardrail_matches_total",
        {{"pattern", pattern}, {"direction", direction}, {"action", action}});
  }

  std::string answer_ = "Hello there";
  std::vector<std::string> pieces_;
};

TEST_F(GuardrailsTest, TheManualsSectionLoadsVerbatimAndWorks) {
  const std::string manual = ManualSection();
  ASSERT_FALSE(manual.empty()) << BR_TESTDATA_DIR "/guardrails_manual.yaml";
  Start(manual);
  // api_keys: redact upgoing. The upstream never sees the key.
  HttpResponse r = Chat(ChatBody(std::string("my key is ") + kSecret));
  EXPECT_EQ(r.status, 200) << r.body;
  std::string up = LastUpstreamBody();
  EXPECT_EQ(up.find(kSecret), std::string::npos) << up;
  EXPECT_NE(up.find("my key is [REDACTED]"), std::string::npos) << up;
  // private_keys: block upgoing, in the client's shape; nothing goes upstream.
  size_t before = upstream_->request_count();
  r = Chat(ChatBody(std::string("here: ") + kPem));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("guardrail blocked upgoing"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("private_keys"), std::string::npos) << "include_details";
  EXPECT_EQ(r.body.find("MIIEow"), std::string::npos) << "never the matched text";
  EXPECT_EQ(upstream_->request_count(), before);
  // The custom pattern, blocked upgoing.
  r = Chat(ChatBody("token myapp_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 ok"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("internal_token"), std::string::npos) << r.body;
  // ip_addresses is disabled: an address goes through untouched.
  r = Chat(ChatBody("ping 10.1.2.3"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(LastUpstreamBody().find("10.1.2.3"), std::string::npos);
  // suspicious_commands: block downgoing, on a JSON answer: 422.
  answer_ = "run: rm -rf / and enjoy";
  r = Chat(ChatBody("what should I run?"));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("suspicious_commands"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("rm -rf"), std::string::npos) << r.body;
  EXPECT_EQ(Matches("api_keys", "upgoing", "redact"), 1);
  EXPECT_EQ(Matches("private_keys", "upgoing", "block"), 1);
  EXPECT_EQ(Matches("suspicious_commands", "downgoing", "block"), 1);
  EXPECT_EQ(router_->Log().find(kSecret), std::string::npos);
}

TEST_F(GuardrailsTest, UpgoingInEveryClientProtocolPassthroughAndTranslated) {
  Start("guardrails:\n  upgoing:\n    api_keys: redact\n    private_keys: block\n");
  const std::string text = std::string("aws ") + kAws + " done";
  struct Case {
    std::string path, body;
    HeaderList headers;
  };
  const std::vector<Case> cases = {
      {"/v1/chat/completions", ChatBody(text), {}},
      {"/v1/chat/completions",
       R"({"model":"ant:claude-x","messages":[{"role":"user","content":")" + text + R"("}]})",
       {}},
      {"/v1/messages",
       R"({"model":"ant:claude-x","max_tokens":10,"system":")" + text +
           R"(","messages":[{"role":"user","content":"hi"}]})",
       {{"anthropic-version", "2023-06-01"}}},
      {"/v1/messages",
       R"({"model":"openai:gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":")" +
           text + R"("}]}]})",
       {{"anthropic-version", "2023-06-01"}}},
      {"/v1/responses", R"({"model":"openai:gpt-4o-mini","input":")" + text + R"("})", {}},
      {"/v1beta/models/openai:gpt-4o-mini:generateContent",
       R"({"contents":[{"role":"user","parts":[{"text":")" + text + R"("}]}]})",
       {}},
      // Tool-call arguments (Chat history), as a JSON string.
      {"/v1/chat/completions",
       R"({"model":"openai:gpt-4o-mini","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"key\":\")" +
           std::string(kAws) + R"(\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]})",
       {}},
  };
  for (const Case& c : cases) {
    size_t before = upstream_->request_count();
    HttpResponse r = Fetch(router_->port(), "POST", c.path, c.body, c.headers);
    EXPECT_EQ(r.status, 200) << c.path << " " << c.body << "\n" << r.body;
    ASSERT_EQ(upstream_->request_count(), before + 1) << c.body;
    std::string up = LastUpstreamBody();
    EXPECT_EQ(up.find(kAws), std::string::npos) << c.body << "\n" << up;
    EXPECT_NE(up.find("[REDACTED]"), std::string::npos) << c.body << "\n" << up;
  }
  // A block in each protocol's error shape.
  HttpResponse m =
      Fetch(router_->port(), "POST", "/v1/messages",
            R"({"model":"ant:claude-x","max_tokens":10,"messages":[{"role":"user","content":")" +
                std::string(kPem) + R"("}]})",
            {{"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(m.status, 400);
  EXPECT_NE(m.body.find("\"type\":\"error\""), std::string::npos) << m.body;
}

TEST_F(GuardrailsTest, NothingToRedactIsForwardedByteForByteAndWarnOnlyRecords) {
  Start("guardrails:\n  upgoing:\n    pii_emails: warn\n");
  const std::string body = ChatBody("mail me at jane.doe@example.com please");
  EXPECT_EQ(Chat(body).status, 200);
  std::string up = LastUpstreamBody();
  EXPECT_NE(up.find("jane.doe@example.com"), std::string::npos);
  // The passthrough splice changes only the model value.
  EXPECT_NE(up.find(R"("messages":[{"role":"system","content":"be brief"})"), std::string::npos)
      << up;
  EXPECT_EQ(Matches("pii_emails", "upgoing", "warn"), 1);
  std::string out;
  ASSERT_TRUE(WaitUntil(
      [&] {
        router_->Ctl({"requests", "--json", "--limit", "1"}, &out);
        return out.find("pii_emails:warn:upgoing") != std::string::npos;
      },
      5000))
      << out;
  EXPECT_EQ(out.find("jane.doe"), std::string::npos) << "records never hold the text";
}

TEST_F(GuardrailsTest, AJsonAnswerIsRedactedInTheClientsShape) {
  Start("guardrails:\n  downgoing:\n    api_keys: redact\n");
  answer_ = std::string("your key: ") + kSecret + ".";
  HttpResponse chat = Chat(ChatBody("key?"));
  EXPECT_EQ(chat.status, 200);
  EXPECT_EQ(chat.body.find(kSecret), std::string::npos) << chat.body;
  EXPECT_NE(chat.body.find("your key: [REDACTED]."), std::string::npos) << chat.body;
  // Translated (Messages client, Chat upstream) and passthrough Messages.
  for (std::string model : {"openai:gpt-4o-mini", "ant:claude-x"}) {
    HttpResponse m =
        Fetch(router_->port(), "POST", "/v1/messages",
              R"({"model":")" + model +
                  R"(","max_tokens":10,"messages":[{"role":"user","content":"key?"}]})",
              {{"anthropic-version", "2023-06-01"}});
    EXPECT_EQ(m.status, 200) << m.body;
    EXPECT_EQ(m.body.find(kSecret), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("[REDACTED]"), std::string::npos) << m.body;
  }
  // Responses and Gemini clients (translated), whole answers and streams.
  struct Case {
    std::string path, body;
  };
  const std::vector<Case> cases = {
      {"/v1/responses", R"({"model":"openai:gpt-4o-mini","input":"key?"})"},
      {"/v1/responses", R"({"model":"openai:gpt-4o-mini","input":"key?","stream":true})"},
      {"/v1beta/models/openai:gpt-4o-mini:generateContent",
       R"({"contents":[{"role":"user","parts":[{"text":"key?"}]}]})"},
      {"/v1beta/models/openai:gpt-4o-mini:streamGenerateContent?alt=sse",
       R"({"contents":[{"role":"user","parts":[{"text":"key?"}]}]})"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Fetch(router_->port(), "POST", c.path, c.body);
    EXPECT_EQ(r.status, 200) << c.path << "\n" << r.body;
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << c.path << "\n" << r.body;
    EXPECT_NE(r.body.find("[REDACTED]"), std::string::npos) << c.path << "\n" << r.body;
  }
}

TEST_F(GuardrailsTest, AStreamNeverLetsAByteOfASplitSecretThroughAtAnyOffset) {
  Start("guardrails:\n  downgoing:\n    api_keys: redact\n");
  const std::string text = std::string("key ") + kSecret + " end";
  // The secret's distinctive middle: no part of it may reach the client.
  const std::string middle = std::string(kSecret).substr(8, 12);
  for (size_t cut = 1; cut < text.size(); ++cut) {
    pieces_ = {text.substr(0, cut), text.substr(cut)};
    HttpResponse r = Chat(ChatBody("key?", /*stream=*/true));
    ASSERT_EQ(r.status, 200) << cut;
    EXPECT_EQ(r.body.find(middle.substr(0, 6)), std::string::npos) << "cut " << cut << "\n"
                                                                   << r.body;
    EXPECT_EQ(r.body.find(middle.substr(6)), std::string::npos) << "cut " << cut;
    EXPECT_NE(r.body.find("[REDACTED]"), std::string::npos) << "cut " << cut << "\n" << r.body;
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << "a redacted stream ends cleanly";
  }
}

TEST_F(GuardrailsTest, ABlockMidStreamEndsWithTheProtocolsErrorNeverACleanEnd) {
  Start("guardrails:\n  downgoing:\n    suspicious_commands: block\n");
  pieces_ = {"Sure. First ", "run: rm -r", "f / and then", " relax."};
  HttpResponse r = Chat(ChatBody("help", /*stream=*/true));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("Sure. First"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("rm -r"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("guardrail_blocked"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos) << r.body;
  // A Messages client gets its own error event.
  HttpResponse m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"openai:gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"help"}]})",
      {{"anthropic-version", "2023-06-01"}});
  EXPECT_NE(m.body.find("event: error"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("message_stop"), std::string::npos) << m.body;
}

TEST_F(GuardrailsTest, AStreamAnsweredWithOneJsonBodyIsGuardedToo) {
  Start("guardrails:\n  downgoing:\n    api_keys: redact\n    suspicious_commands: block\n");
  // The upstream ignores "stream": one JSON body, replayed as stream events.
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = ChatCompletionJson("gpt-4o-mini", std::string("key ") + kSecret + " ok");
    return r;
  });
  HttpResponse r = Chat(ChatBody("key?", /*stream=*/true));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(kSecret), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("[REDACTED]"), std::string::npos) << r.body;
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body = ChatCompletionJson("gpt-4o-mini", "then run rm -rf / now");
    return r;
  });
  r = Chat(ChatBody("help", /*stream=*/true));
  EXPECT_EQ(r.body.find("rm -rf"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("guardrail_blocked"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos) << r.body;
}

TEST_F(GuardrailsTest, ToolCallArgumentsStreamedAsDeltasAreRedacted) {
  Start("guardrails:\n  downgoing:\n    api_keys: redact\n");
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.content_type = "text/event-stream";
    r.chunked = true;
    auto ev = [](const std::string& args) {
      return R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":")" +
             JsonEscape(args) + R"("}}]},"finish_reason":null}]})" + "\n\n";
    };
    r.chunks = {
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"save","arguments":""}}]},"finish_reason":null}]})"
        "\n\n",
        ev("{\"k\":\"sk-proj-Zq3k9T"),
        ev("0pLx7Vb2Nw8R"),
        ev("t5Ym1Hc4Jd6Fa0\"}"),
        R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"
        "\n\n",
        "data: [DONE]\n\n"};
    return r;
  });
  HttpResponse r = Chat(ChatBody("save it", /*stream=*/true));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("Zq3k9T"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("0pLx7Vb2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("[REDACTED]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"tool_calls\""), std::string::npos) << r.body;
}

// Calls `fn` with the delta of each event of a Chat stream.
template <typename Fn>
void ForEachChatDelta(const std::string& sse, Fn fn) {
  size_t at = 0;
  while ((at = sse.find("data: {", at)) != std::string::npos) {
    size_t end = sse.find("\n", at);
    rapidjson::Document d;
    d.Parse(sse.data() + at + 6, end - at - 6);
    at = end;
    if (d.HasParseError() || !d.HasMember("choices") || d["choices"].Empty()) continue;
    const auto& delta = d["choices"][0]["delta"];
    if (delta.IsObject()) fn(delta);
  }
}

// The tool-call arguments the client assembles from a stream's deltas.
std::string StreamedArguments(const std::string& sse) {
  std::string args;
  ForEachChatDelta(sse, [&](const rapidjson::Value& delta) {
    if (!delta.HasMember("tool_calls")) return;
    const auto& fn = delta["tool_calls"][0]["function"];
    if (fn.HasMember("arguments")) args += fn["arguments"].GetString();
  });
  return args;
}

// The text the client assembles from a Chat stream's content deltas.
std::string StreamedContent(const std::string& sse) {
  std::string text;
  ForEachChatDelta(sse, [&](const rapidjson::Value& delta) {
    if (delta.HasMember("content") && delta["content"].IsString()) {
      text += delta["content"].GetString();
    }
  });
  return text;
}

TEST_F(GuardrailsTest, ABlockAtEverySplitSendsNoByteOfTheMatch) {
  Start("guardrails:\n  downgoing:\n    suspicious_commands: block\n");
  const std::string before = "ok then ";
  const std::string text = before + "rm -rf / now";
  for (size_t cut = 1; cut < text.size(); ++cut) {
    pieces_ = {text.substr(0, cut), text.substr(cut)};
    HttpResponse r = Chat(ChatBody("help", /*stream=*/true));
    ASSERT_EQ(r.status, 200) << cut;
    const std::string got = StreamedContent(r.body);
    EXPECT_EQ(before.compare(0, got.size(), got), 0)
        << "cut " << cut << ": the client got '" << got << "'";
    EXPECT_NE(r.body.find("guardrail_blocked"), std::string::npos) << "cut " << cut;
    EXPECT_EQ(r.body.find("data: [DONE]"), std::string::npos) << "cut " << cut;
  }
}

TEST_F(GuardrailsTest, RedactedToolCallArgumentsStayValidJsonAtEverySplit) {
  Start("guardrails:\n  downgoing:\n    credentials: redact\n");
  const std::string args = R"({"user":"bob","password":"hunter2-Secret!","retries":3})";
  for (size_t cut = 1; cut < args.size(); cut += 2) {
    upstream_->SetHandler([&](const RecordedRequest&) {
      Reply r;
      r.content_type = "text/event-stream";
      r.chunked = true;
      auto ev = [](const std::string& a) {
        return R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":")" +
               JsonEscape(a) + R"("}}]},"finish_reason":null}]})" + "\n\n";
      };
      r.chunks = {
          R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"login","arguments":""}}]},"finish_reason":null}]})"
          "\n\n",
          ev(args.substr(0, cut)), ev(args.substr(cut)),
          R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"
          "\n\n",
          "data: [DONE]\n\n"};
      return r;
    });
    HttpResponse r = Chat(ChatBody("log in", /*stream=*/true));
    ASSERT_EQ(r.status, 200) << cut;
    const std::string got = StreamedArguments(r.body);
    EXPECT_EQ(got.find("hunter2"), std::string::npos) << "cut " << cut << ": " << got;
    rapidjson::Document d;
    d.Parse(got.data(), got.size());
    EXPECT_FALSE(d.HasParseError()) << "cut " << cut << ": " << got;
    EXPECT_NE(got.find(R"("user":"bob")"), std::string::npos) << "cut " << cut << ": " << got;
  }
  // The same arguments in a JSON answer: the "arguments" string stays JSON.
  upstream_->SetHandler([&](const RecordedRequest&) {
    Reply r;
    r.body =
        R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"login","arguments":")" +
        JsonEscape(args) + R"("}}]},"finish_reason":"tool_calls"}]})";
    return r;
  });
  HttpResponse j = Chat(ChatBody("log in"));
  ASSERT_EQ(j.status, 200) << j.body;
  rapidjson::Document answer;
  answer.Parse(j.body.data(), j.body.size());
  ASSERT_FALSE(answer.HasParseError()) << j.body;
  std::string got =
      answer["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].GetString();
  EXPECT_EQ(got.find("hunter2"), std::string::npos) << got;
  rapidjson::Document d;
  d.Parse(got.data(), got.size());
  EXPECT_FALSE(d.HasParseError()) << got;
}

TEST_F(GuardrailsTest, ArgumentsAsAJsonObjectAreScannedAsTheirJsonText) {
  Start(
      "guardrails:\n  upgoing:\n    credentials: redact\n  downgoing:\n    credentials: redact\n");
  // A Messages answer (passthrough) whose tool_use input is an object.
  upstream_->SetHandler([](const RecordedRequest&) {
    Reply r;
    r.body =
        R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"tool_use","id":"tu_1","name":"login","input":{"user":"bob","password":"hunter2-Secret!"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":5}})";
    return r;
  });
  HttpResponse m = Fetch(
      router_->port(), "POST", "/v1/messages",
      R"({"model":"ant:claude-x","max_tokens":10,"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"t0","name":"login","input":{"password":"s3cr3t-Value!"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t0","content":"ok"}]}]})",
      {{"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(m.body.find("hunter2"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find(R"("user":"bob")"), std::string::npos) << m.body;
  rapidjson::Document d;
  d.Parse(m.body.data(), m.body.size());
  ASSERT_FALSE(d.HasParseError()) << m.body;
  EXPECT_TRUE(d["content"][0]["input"].IsObject()) << m.body;
  // Upgoing: the history's tool_use input never reaches the upstream.
  const std::string up = LastUpstreamBody();
  EXPECT_EQ(up.find("s3cr3t"), std::string::npos) << up;
  EXPECT_NE(up.find("[REDACTED]"), std::string::npos) << up;
}

TEST_F(GuardrailsTest, ReloadAppliesNewRulesAndABadPatternKeepsTheOldSet) {
  Start("guardrails:\n  upgoing:\n    api_keys: redact\n");
  EXPECT_EQ(Chat(ChatBody(kAws)).status, 200);
  std::string yaml =
      std::string("guardrails:\n  upgoing:\n    api_keys: block\n") +
      "providers:\n  ant:\n    api_protocol: anthropic\n    api_base: " + upstream_->base_url() +
      "\n    api_key: sk-ant-upstream\n    models: [claude-x]\n";
  {
    std::ofstream f(router_->home() + "/bitrouter.yaml");
    f << yaml;
  }
  std::string out;
  ASSERT_EQ(router_->Ctl({"reload"}, &out), 0) << out;
  EXPECT_EQ(Chat(ChatBody(kAws)).status, 400);
  {
    std::ofstream f(router_->home() + "/bitrouter.yaml");
    f << "guardrails:\n  custom_patterns:\n    - name: broken\n      regex: \"(unclosed\"\n"
      << yaml.substr(yaml.find("providers:"));
  }
  EXPECT_NE(router_->Ctl({"reload"}, &out), 0) << out;
  EXPECT_NE(out.find("broken"), std::string::npos) << out;
  EXPECT_NE(out.find("bitrouter.yaml:4"), std::string::npos) << out;
  EXPECT_EQ(Chat(ChatBody(kAws)).status, 400) << "the old set still serves";
}

}  // namespace
}  // namespace bitrouter::testing
