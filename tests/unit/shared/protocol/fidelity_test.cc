// Translation fidelity on legal but unusual upstream answers (issue 11):
// calls without input, tool calls closed by "stop", parallel calls that
// interleave, answers without ids, server-side tool items (counted for the
// usage record), Chat web_search_options.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "shared/protocol/adapters.h"
#include "shared/protocol/stream_translator.h"
#include "tests/unit/shared/protocol/golden_support.h"

namespace bitrouter::protocol {
namespace {

std::string Translate(Protocol up, Protocol client, const std::string& sse) {
  EncoderOptions opts;
  opts.client_model = "m";
  opts.created = 1700000000;
  StreamTranslator t(up, client, opts);
  EXPECT_TRUE(t.Feed(sse).ok());
  EXPECT_TRUE(t.End().ok());
  return t.out();
}

std::string MessagesToolUse(const std::string& deltas) {
  return "event: message_start\ndata: "
         R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":0}}})"
         "\n\nevent: content_block_start\ndata: "
         R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"list_files","input":{}}})"
         "\n\n" +
         deltas +
         "event: content_block_stop\ndata: "
         R"({"type":"content_block_stop","index":0})"
         "\n\nevent: message_delta\ndata: "
         R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":4}})"
         "\n\nevent: message_stop\ndata: "
         R"({"type":"message_stop"})"
         "\n\n";
}

TEST(FidelityEmptyToolInput, ChatClientGetsJsonObjectArguments) {
  // No input delta at all, and an empty partial_json only.
  for (
      const std::string& deltas :
      {std::string(),
       std::string(
           "event: content_block_delta\ndata: "
           R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}})"
           "\n\n")}) {
    std::string out = Translate(Protocol::kMessages, Protocol::kChat, MessagesToolUse(deltas));
    EXPECT_NE(out.find(R"("arguments":"{}")"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("finish_reason":"tool_calls")"), std::string::npos) << out;
  }
  // Real arguments are not touched.
  std::string out = Translate(
      Protocol::kMessages, Protocol::kChat,
      MessagesToolUse(
          "event: content_block_delta\ndata: "
          R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"d\":1}"}})"
          "\n\n"));
  EXPECT_NE(out.find(R"("arguments":"{\"d\":1}")"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"("arguments":"{}")"), std::string::npos) << out;
}

constexpr char kChatToolCallThenStop[] =
    "data: "
    R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":null}]})"
    "\n\ndata: "
    R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
    "\n\ndata: [DONE]\n\n";

TEST(FidelityToolCallsClosedByStop, StreamFinishesWithTheToolUseReason) {
  std::string out = Translate(Protocol::kChat, Protocol::kMessages, kChatToolCallThenStop);
  EXPECT_NE(out.find(R"("stop_reason":"tool_use")"), std::string::npos) << out;
  EXPECT_EQ(out.find(R"("stop_reason":"end_turn")"), std::string::npos) << out;
}

TEST(FidelityToolCallsClosedByStop, TextAfterTheCallsKeepsStop) {
  std::string sse =
      "data: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":null}]})"
      "\n\ndata: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Done."},"finish_reason":"stop"}]})"
      "\n\ndata: [DONE]\n\n";
  std::string out = Translate(Protocol::kChat, Protocol::kMessages, sse);
  EXPECT_NE(out.find(R"("stop_reason":"end_turn")"), std::string::npos) << out;
}

TEST(FidelityToolCallsClosedByStop, JsonAnswerFinishesWithTheToolUseReason) {
  auto resp =
      AdapterFor(Protocol::kChat)
          .parse_response(
              R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":"stop"}]})");
  ASSERT_TRUE(resp.ok()) << resp.status();
  NormalizeToolUseFinish(&*resp);
  auto out = AdapterFor(Protocol::kMessages).render_response(*resp, "m");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NE(out->find(R"("stop_reason":"tool_use")"), std::string::npos) << *out;
}

// Item 4: reasoning in a Chat JSON answer is kept as on the stream path.
TEST(FidelityReasoning, ChatJsonReasoningReachesEveryClient) {
  for (const char* key : {"reasoning_content", "reasoning"}) {
    std::string body =
        std::string(
            R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant",")") +
        key + R"(":"Let me think.","content":"42"},"finish_reason":"stop"}]})";
    auto resp = AdapterFor(Protocol::kChat).parse_response(body);
    ASSERT_TRUE(resp.ok()) << resp.status();
    ASSERT_EQ(resp->content.size(), 2u) << key;
    EXPECT_EQ(resp->content[0].kind, ContentPart::Kind::kThinking);
    EXPECT_EQ(resp->content[0].text, "Let me think.");
    EXPECT_EQ(resp->content[1].text, "42");
    auto messages = AdapterFor(Protocol::kMessages).render_response(*resp, "m");
    ASSERT_TRUE(messages.ok()) << messages.status();
    EXPECT_NE(messages->find(R"("thinking":"Let me think.")"), std::string::npos) << *messages;
    auto responses = AdapterFor(Protocol::kResponses).render_response(*resp, "m");
    ASSERT_TRUE(responses.ok()) << responses.status();
    EXPECT_NE(responses->find(R"("type":"reasoning")"), std::string::npos) << *responses;
    auto gemini = AdapterFor(Protocol::kGemini).render_response(*resp, "m");
    ASSERT_TRUE(gemini.ok()) << gemini.status();
    EXPECT_NE(gemini->find(R"("thought":true)"), std::string::npos) << *gemini;
  }
  // A null or non-string reasoning member is ignored, not an error.
  auto resp =
      AdapterFor(Protocol::kChat)
          .parse_response(
              R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","reasoning":null,"content":"42"},"finish_reason":"stop"}]})");
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->content.size(), 1u);
}

// Item 1: a Chat upstream interleaves two calls' argument deltas by index;
// each client gets both calls whole, with their own arguments.
std::string ChatChunk(const std::string& delta, const char* finish = "null") {
  return std::string(
             R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":)") +
         delta + R"(,"finish_reason":)" + finish + "}]}\n\n";
}

std::string InterleavedCalls(bool with_index) {
  auto call = [&](int i, const std::string& rest) {
    return (with_index ? "{\"index\":" + std::to_string(i) + "," : std::string("{")) + rest + "}";
  };
  return ChatChunk(
             R"({"role":"assistant","tool_calls":[)" +
             call(
                 0,
                 R"("id":"call_A","type":"function","function":{"name":"a","arguments":"{\"x\":"})") +
             "]}") +
         ChatChunk(
             R"({"tool_calls":[)" +
             call(
                 1,
                 R"("id":"call_B","type":"function","function":{"name":"b","arguments":"{\"y\":"})") +
             "]}") +
         ChatChunk(R"({"tool_calls":[)" +
                   call(0, R"("id":"call_A","function":{"arguments":"1}"})") + "," +
                   call(1, R"("id":"call_B","function":{"arguments":"2}"})") + "]}") +
         ChatChunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
}

TEST(FidelityInterleavedToolCalls, EveryClientGetsBothCallsWhole) {
  for (bool with_index : {true, false}) {  // without index, the id names the call
    std::string sse = InterleavedCalls(with_index);
    std::string messages = Translate(Protocol::kChat, Protocol::kMessages, sse);
    EXPECT_NE(messages.find(R"("partial_json":"{\"x\":")"), std::string::npos) << messages;
    EXPECT_NE(messages.find(R"("partial_json":"1}")"), std::string::npos) << messages;
    EXPECT_NE(messages.find(R"("partial_json":"{\"y\":2}")"), std::string::npos) << messages;
    EXPECT_EQ(messages.find("error"), std::string::npos) << messages;
    std::string responses = Translate(Protocol::kChat, Protocol::kResponses, sse);
    EXPECT_NE(responses.find(R"("arguments":"{\"x\":1}")"), std::string::npos) << responses;
    EXPECT_NE(responses.find(R"("arguments":"{\"y\":2}")"), std::string::npos) << responses;
    std::string gemini = Translate(Protocol::kChat, Protocol::kGemini, sse);
    EXPECT_NE(gemini.find(R"("args":{"x":1})"), std::string::npos) << gemini;
    EXPECT_NE(gemini.find(R"("args":{"y":2})"), std::string::npos) << gemini;
  }
}

TEST(FidelityInterleavedToolCalls, TextAfterTheCallsFlushesTheHeldOnes) {
  std::string sse =
      ChatChunk(
          R"({"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"a","arguments":"{}"}},{"index":1,"id":"b","type":"function","function":{"name":"b","arguments":"{}"}}]})") +
      ChatChunk(R"({"content":"done"})") + ChatChunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  std::string out = Translate(Protocol::kChat, Protocol::kMessages, sse);
  size_t a = out.find(R"("name":"a")"), b = out.find(R"("name":"b")"),
         text = out.find(R"("text_delta","text":"done")");
  ASSERT_NE(text, std::string::npos) << out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, text);
  EXPECT_NE(out.find(R"("stop_reason":"end_turn")"), std::string::npos) << out;
}

// A hostile upstream cannot grow the decoder without bound.
TEST(FidelityInterleavedToolCalls, ToolCallsPerAnswerAreCapped) {
  auto run = [](const std::string& sse) {
    EncoderOptions opts;
    opts.client_model = "m";
    StreamTranslator t(Protocol::kChat, Protocol::kMessages, opts);
    return t.Feed(sse);
  };
  EXPECT_FALSE(
      run(ChatChunk(
              R"({"tool_calls":[{"index":5000,"id":"x","type":"function","function":{"name":"a","arguments":"{}"}}]})"))
          .ok());
  std::string calls;
  for (int i = 0; i <= 1024; ++i) {
    if (!calls.empty()) calls += ",";
    calls += R"({"id":"u)" + std::to_string(i) + R"(","type":"function","function":{"name":"a"}})";
  }
  absl::Status s = run(ChatChunk(R"({"tool_calls":[)" + calls + "]}"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("limit of 1024 tool calls"), std::string::npos) << s;
}

// Item 5: ids made up for an answer without ids are unique per answer.
TEST(FidelityMissingIds, JsonAnswersGetTheCallersUniqueId) {
  const std::string body =
      R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}},{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]})";
  auto first = AdapterFor(Protocol::kGemini).parse_response(body);
  auto second = AdapterFor(Protocol::kGemini).parse_response(body);
  ASSERT_TRUE(first.ok() && second.ok());
  FillMissingIds(&*first, "gen-1");
  FillMissingIds(&*second, "gen-2");
  EXPECT_EQ(first->id, "gen-1");
  EXPECT_EQ(first->content[0].tool_call_id, "call_gen-1_0");
  EXPECT_EQ(first->content[1].tool_call_id, "call_gen-1_1");
  EXPECT_EQ(second->content[0].tool_call_id, "call_gen-2_0");
  // An upstream's own ids are kept.
  auto with_ids =
      AdapterFor(Protocol::kGemini)
          .parse_response(
              R"({"responseId":"r9","candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"fc1","name":"f","args":{}}}]},"finishReason":"STOP"}]})");
  ASSERT_TRUE(with_ids.ok());
  FillMissingIds(&*with_ids, "gen-3");
  EXPECT_EQ(with_ids->id, "r9");
  EXPECT_EQ(with_ids->content[0].tool_call_id, "fc1");
}

// Item 7: the server-tool goldens (testdata/translate/*/server_tool_*) skip
// the same items on the stream and the JSON path, and both count them.
TEST(FidelityServerTools, StreamAndJsonCountTheSkippedItems) {
  struct Case {
    Protocol up;
    const char* stream;  // <dir>/<case> of a stream golden
    const char* json;    // of a JSON golden
    int items;
  };
  const Case cases[] = {
      {Protocol::kResponses, "responses_stream_to_chat/server_tool_web_search",
       "responses_resp_to_chat/server_tool_web_search", 1},  // one web_search_call
      {Protocol::kMessages, "messages_stream_to_chat/server_tool_web_search",
       "messages_resp_to_chat/server_tool_web_search", 2},  // server_tool_use + its result
      {Protocol::kGemini, "gemini_stream_to_chat/server_tool_code_execution",
       "gemini_resp_to_chat/server_tool_code_execution", 2},  // executableCode + its result
  };
  const std::filesystem::path dir = BR_TESTDATA_DIR;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.stream);
    for (Protocol client :
         {Protocol::kChat, Protocol::kMessages, Protocol::kResponses, Protocol::kGemini}) {
      EncoderOptions opts;
      opts.client_model = "m";
      StreamTranslator t(c.up, client, opts);
      ASSERT_TRUE(t.Feed(golden::ReadFile(dir / (std::string(c.stream) + ".in.sse"))).ok());
      ASSERT_TRUE(t.End().ok());
      EXPECT_TRUE(t.done());
      EXPECT_EQ(t.skipped_server_tool_items(), c.items);
    }
    auto resp =
        AdapterFor(c.up).parse_response(golden::ReadFile(dir / (std::string(c.json) + ".in.json")));
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_EQ(resp->skipped_server_tool_items, c.items);
  }
}

// Client-executed Responses items are not server tools: still refused.
TEST(FidelityServerTools, ClientExecutedItemsAreNotSkipped) {
  auto resp =
      AdapterFor(Protocol::kResponses)
          .parse_response(
              R"({"id":"resp_1","object":"response","status":"completed","output":[{"type":"local_shell_call","id":"ls","call_id":"c","action":{}}]})");
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument);
}

// Also: a Chat web_search_options reaches a Chat upstream and is refused,
// naming it, by every renderer that cannot carry it.
TEST(FidelityWebSearchOptions, CarriedToChatRefusedElsewhere) {
  auto req =
      AdapterFor(Protocol::kChat)
          .parse_request(
              R"({"model":"m","messages":[{"role":"user","content":"news?"}],"web_search_options":{"search_context_size":"low"}})");
  ASSERT_TRUE(req.ok()) << req.status();
  auto chat = AdapterFor(Protocol::kChat).render_request(*req, "up");
  ASSERT_TRUE(chat.ok()) << chat.status();
  EXPECT_NE(chat->find(R"("web_search_options":{"search_context_size":"low"})"), std::string::npos)
      << *chat;
  for (Protocol up : {Protocol::kMessages, Protocol::kResponses, Protocol::kGemini}) {
    auto out = AdapterFor(up).render_request(*req, "up");
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << ProtocolName(up);
    EXPECT_NE(out.status().message().find("web_search_options"), absl::string_view::npos)
        << out.status();
  }
  auto bad =
      AdapterFor(Protocol::kChat)
          .parse_request(
              R"({"model":"m","messages":[{"role":"user","content":"x"}],"web_search_options":true})");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bitrouter::protocol
