// Translation fidelity through the real binaries (issue 11 item 7 and its
// follow-ups): upstream answers taken from the golden transcripts
// (tests/unit/shared/protocol/testdata/translate) reach clients of another
// protocol: server-side tool items skipped, refusals carried, Gemini finish
// reasons kept, response.failed with the streamed output, early input
// tokens, and web_search_options refused where it cannot be carried.
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_fixture.h"

namespace bitrouter::testing {
namespace {

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

// A golden input, e.g. Golden("messages_stream_to_chat/server_tool_web_search.in.sse").
std::string Golden(const std::string& name) {
  std::ifstream in(std::filesystem::path(BR_TESTDATA_DIR) / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

Reply JsonReply(const std::string& body) {
  Reply r;
  r.body = body;
  return r;
}

Reply StreamReply(const std::string& sse) {
  Reply r;
  r.content_type = "text/event-stream";
  r.chunked = true;
  r.chunks = {sse};
  return r;
}

constexpr char kChatRequest[] =
    R"({"model":"MODEL","stream":STREAM,"messages":[{"role":"user","content":"Weather?"}]})";
constexpr char kResponsesRequest[] = R"({"model":"MODEL","stream":STREAM,"input":"Weather?"})";
constexpr char kMessagesRequest[] =
    R"({"model":"MODEL","stream":STREAM,"max_tokens":50,"messages":[{"role":"user","content":"Weather?"}]})";

std::string With(std::string body, const std::string& model, bool stream) {
  body.replace(body.find("MODEL"), 5, model);
  body.replace(body.find("STREAM"), 6, stream ? "true" : "false");
  return body;
}

class FidelityTest : public RouterTest {
 protected:
  void SetUp() override {
    StartAllProtocols();
    if (HasFatalFailure()) return;
  }

  // Every upstream request is answered with `reply`.
  void Answer(Reply reply) {
    upstream_->SetHandler([reply](const RecordedRequest&) { return reply; });
  }

  HttpResponse Post(const std::string& path, const std::string& body,
                    const HeaderList& headers = {}) {
    return Fetch(router_->port(), "POST", path, body, headers);
  }
};

const HeaderList kAnthropic = {{"anthropic-version", "2023-06-01"}};

TEST_F(FidelityTest, ServerToolItemsAreSkippedOnEveryTranslatedPath) {
  struct Case {
    const char* model;
    const char* golden;  // <dir>/<case> without the resp/stream part
    const char* text;    // the answer's text that must arrive
  };
  const Case cases[] = {
      {"resp:gpt-x", "responses_%s_to_chat/server_tool_web_search", "Sunny, 21C."},
      {"ant:claude-x", "messages_%s_to_chat/server_tool_web_search", "Sunny, 21C."},
      {"gem:gemini-x", "gemini_%s_to_chat/server_tool_code_execution", " It is 4."},
  };
  for (const Case& c : cases) {
    for (bool stream : {false, true}) {
      std::string golden = c.golden;
      golden.replace(golden.find("%s"), 2, stream ? "stream" : "resp");
      SCOPED_TRACE(golden);
      Answer(stream ? StreamReply(Golden(golden + ".in.sse"))
                    : JsonReply(Golden(golden + ".in.json")));
      HttpResponse r = Post("/v1/chat/completions", With(kChatRequest, c.model, stream));
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_TRUE(r.complete);
      EXPECT_NE(r.body.find(c.text), std::string::npos) << r.body;
      EXPECT_EQ(r.body.find("error"), std::string::npos) << r.body;
      if (stream) {
        EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << r.body;
      }
    }
  }
  // A Messages client fed by a Responses upstream: the same, in its shape.
  Answer(JsonReply(Golden("responses_resp_to_messages/server_tool_web_search.in.json")));
  HttpResponse r = Post("/v1/messages", With(kMessagesRequest, "resp:gpt-x", false), kAnthropic);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r.body);
  ASSERT_EQ(d["content"].Size(), 1u) << r.body;
  EXPECT_STREQ(d["content"][0]["text"].GetString(), "Sunny, 21C.");
}

TEST_F(FidelityTest, RefusalsCrossBetweenChatAndResponses) {
  // Chat upstream -> Responses client: a refusal content part.
  Answer(JsonReply(Golden("chat_resp_to_responses/refusal.in.json")));
  HttpResponse r = Post("/v1/responses", With(kResponsesRequest, "openai:gpt-4o", false));
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r.body);
  EXPECT_STREQ(d["output"][0]["content"][0]["type"].GetString(), "refusal");
  EXPECT_STREQ(d["output"][0]["content"][0]["refusal"].GetString(), "I can't help with that.");
  Answer(StreamReply(Golden("chat_stream_to_responses/refusal.in.sse")));
  r = Post("/v1/responses", With(kResponsesRequest, "openai:gpt-4o", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("event: response.refusal.delta"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("refusal":"I can't help with that.")"), std::string::npos) << r.body;

  // Responses upstream -> Chat client: message.refusal / delta.refusal.
  Answer(JsonReply(Golden("responses_resp_to_chat/refusal.in.json")));
  r = Post("/v1/chat/completions", With(kChatRequest, "resp:gpt-x", false));
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r.body);
  EXPECT_STREQ(d["choices"][0]["message"]["refusal"].GetString(), "I can't help with that.");
  EXPECT_FALSE(d["choices"][0]["message"].HasMember("content")) << r.body;
  Answer(StreamReply(Golden("responses_stream_to_chat/refusal.in.sse")));
  r = Post("/v1/chat/completions", With(kChatRequest, "resp:gpt-x", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("delta":{"refusal":"I can't"})"), std::string::npos) << r.body;
}

TEST_F(FidelityTest, GeminiArrayStreamKeepsTheUpstreamFinishReason) {
  for (const char* reason : {"MALFORMED_FUNCTION_CALL", "RECITATION"}) {
    std::string name = reason;
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    Answer(StreamReply(Golden("gemini_stream_to_gemini/" + name + "_array.in.sse")));
    // Without alt=sse: a JSON array, rebuilt from the upstream's SSE.
    HttpResponse r = Post("/v1beta/models/gem:gemini-x:streamGenerateContent",
                          R"({"contents":[{"role":"user","parts":[{"text":"Go."}]}]})");
    ASSERT_EQ(r.status, 200) << r.body;
    rapidjson::Document d = Json(r.body);
    ASSERT_TRUE(d.IsArray()) << r.body;
    const auto& last = d[d.Size() - 1];
    EXPECT_STREQ(last["candidates"][0]["finishReason"].GetString(), reason) << r.body;
  }
}

TEST_F(FidelityTest, ResponseFailedCarriesTheOutputAlreadyStreamed) {
  // The error event comes in a later read, after the client stream started
  // (before that it would be a failed attempt, not a failed answer).
  std::string sse = Golden("messages_stream_to_responses/error_after_output.in.sse");
  size_t error = sse.find("event: error");
  ASSERT_NE(error, std::string::npos);
  Reply reply = StreamReply("");
  reply.chunks = {sse.substr(0, error), sse.substr(error)};
  reply.delay_between_chunks_ms = 200;
  Answer(reply);
  HttpResponse r = Post("/v1/responses", With(kResponsesRequest, "ant:claude-x", true));
  ASSERT_EQ(r.status, 200) << r.body;
  size_t failed = r.body.find("event: response.failed\ndata: ");
  ASSERT_NE(failed, std::string::npos) << r.body;
  std::string data = r.body.substr(failed + 29);
  data = data.substr(0, data.find('\n'));
  rapidjson::Document d = Json(data);
  const auto& output = d["response"]["output"];
  ASSERT_EQ(output.Size(), 2u) << data;
  EXPECT_STREQ(output[0]["content"][0]["text"].GetString(), "Reading the file.");
  EXPECT_STREQ(output[1]["type"].GetString(), "function_call");
  EXPECT_STREQ(output[1]["status"].GetString(), "incomplete");
}

TEST_F(FidelityTest, MessageStartCarriesInputTokensTheUpstreamSentEarly) {
  Answer(StreamReply(Golden("responses_stream_to_messages/early_usage.in.sse")));
  HttpResponse r = Post("/v1/messages", With(kMessagesRequest, "resp:gpt-x", true), kAnthropic);
  ASSERT_EQ(r.status, 200) << r.body;
  size_t start = r.body.find("event: message_start");
  ASSERT_NE(start, std::string::npos) << r.body;
  EXPECT_LT(r.body.find(R"("usage":{"input_tokens":21,"output_tokens":0})"),
            r.body.find("event: content_block_start"))
      << r.body;
}

TEST_F(FidelityTest, WebSearchOptionsNoEndpointCanCarryIsRefused) {
  const std::string body =
      R"({"model":"ant:claude-x","messages":[{"role":"user","content":"News?"}],"web_search_options":{}})";
  HttpResponse r = Post("/v1/chat/completions", body);
  EXPECT_EQ(r.status, 400) << r.body;
  rapidjson::Document d = Json(r.body);
  std::string message = d["error"]["message"].GetString();
  EXPECT_NE(message.find("web_search_options"), std::string::npos) << message;
  EXPECT_EQ(upstream_->request_count(), 0u);
}

}  // namespace
}  // namespace bitrouter::testing
