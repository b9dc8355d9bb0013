// StreamUsageTap: the usage each protocol's stream reports, read on the side
// whatever the read boundaries; generated-output counting; the Chat
// usage-only chunk; answer usage of whole JSON answers.
#include "shared/usage/stream_usage_tap.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "shared/usage/answer_usage.h"

namespace bitrouter::usage {
namespace {

using protocol::Protocol;

struct Case {
  const char* name;
  Protocol protocol;
  std::string stream;
  int64_t prompt, completion, reasoning, cache_read, cache_write;
  int64_t output_bytes;
};

std::vector<Case> Cases() {
  return {
      {"chat", Protocol::kChat,
       "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}],\"usage\":null}\n\n"
       "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":"
       "\"stop\"}],\"usage\":null}\n\n"
       "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,"
       "\"prompt_tokens_details\":{\"cached_tokens\":40},\"completion_tokens_details\":{"
       "\"reasoning_tokens\":5}}}\n\n"
       "data: [DONE]\n\n",
       100, 20, 5, 40, 0, 11},
      {"messages", Protocol::kMessages,
       "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
       "\"content\":[],\"usage\":{\"input_tokens\":60,\"cache_read_input_tokens\":30,"
       "\"cache_creation_input_tokens\":10,\"output_tokens\":1}}}\n\n"
       "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"He said \\\"usage\\\": {\\\"x\\\"}\"}}\n\n"
       "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
       "\"end_turn\"},\"usage\":{\"output_tokens\":20}}\n\n"
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
       100, 20, 0, 30, 10, 26},
      {"responses", Protocol::kResponses,
       "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r\","
       "\"usage\":null}}\n\n"
       "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
       "\"delta\":\"Hi\"}\n\n"
       "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":"
       "\"r\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":"
       "\"Hi\"}]}],\"usage\":{\"input_tokens\":100,\"input_tokens_details\":{\"cached_tokens\":"
       "40},\"output_tokens\":20,\"output_tokens_details\":{\"reasoning_tokens\":5}}}}\n\n",
       100, 20, 5, 40, 0, 2},
      {"gemini", Protocol::kGemini,
       "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello\"}]}}],"
       "\"usageMetadata\":{\"promptTokenCount\":100}}\r\n\r\n"
       "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" there\"},{\"functionCall\":"
       "{\"name\":\"f\",\"args\":{\"usageMetadata\":{\"promptTokenCount\":9}}}}]},"
       "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":100,"
       "\"candidatesTokenCount\":15,\"thoughtsTokenCount\":5,\"cachedContentTokenCount\":40}}"
       "\r\n\r\n",
       100, 20, 5, 40, 0, 11},
  };
}

void Expect(const Case& c, const StreamUsageTap& tap, const std::string& how) {
  SCOPED_TRACE(std::string(c.name) + " " + how);
  auto u = tap.usage();
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->prompt_tokens, c.prompt);
  EXPECT_EQ(u->completion_tokens, c.completion);
  EXPECT_EQ(u->reasoning_tokens.value_or(0), c.reasoning);
  EXPECT_EQ(u->cache_read_tokens.value_or(0), c.cache_read);
  EXPECT_EQ(u->cache_write_tokens.value_or(0), c.cache_write);
  EXPECT_EQ(tap.output_bytes(), c.output_bytes);
}

TEST(StreamUsageTap, ReadsEachProtocolsUsageWhateverTheReadBoundaries) {
  for (const Case& c : Cases()) {
    StreamUsageTap whole(c.protocol);
    whole.Feed(c.stream);
    whole.End();
    Expect(c, whole, "in one read");
    for (size_t step : {1u, 2u, 3u, 7u, 64u}) {
      StreamUsageTap tap(Protocol::kChat);
      tap.Reset(c.protocol);
      for (size_t i = 0; i < c.stream.size(); i += step) {
        tap.Feed(std::string_view(c.stream).substr(i, step));
      }
      tap.End();
      Expect(c, tap, "in reads of " + std::to_string(step));
    }
  }
}

TEST(StreamUsageTap, NoUsageUntilTheStreamReportsIt) {
  StreamUsageTap tap(Protocol::kChat);
  tap.Feed("data: {\"choices\":[{\"delta\":{\"content\":\"abcd\"}}],\"usage\":null}\n\n");
  EXPECT_FALSE(tap.usage().has_value());
  EXPECT_EQ(tap.output_bytes(), 4);
  // A last event without its blank line counts at the end.
  tap.Feed("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}");
  EXPECT_FALSE(tap.usage().has_value());
  tap.End();
  ASSERT_TRUE(tap.usage().has_value());
  EXPECT_EQ(tap.usage()->prompt_tokens, 3);
}

TEST(StreamUsageTap, AnEventBeyondTheCapIsSkippedNotHeld) {
  StreamUsageTap tap(Protocol::kChat);
  std::string huge = "data: {\"x\":\"" + std::string(StreamUsageTap::kMaxCarry + 10, 'a');
  tap.Feed(huge);
  tap.Feed("\"}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":7}}\n\n");
  ASSERT_TRUE(tap.usage().has_value());
  EXPECT_EQ(tap.usage()->prompt_tokens, 7);
}

TEST(StreamUsageTap, MalformedUsageIsIgnored) {
  StreamUsageTap tap(Protocol::kMessages);
  tap.Feed("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":\n\n");
  tap.Feed("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":\"many\"}}\n\n");
  EXPECT_FALSE(tap.usage().has_value());
}

TEST(ChatUsageOnlyChunk, IsTheExtraChunkOnly) {
  EXPECT_TRUE(IsChatUsageOnlyChunk(
      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n"));
  EXPECT_TRUE(IsChatUsageOnlyChunk("data: {\"choices\": [], \"usage\": {\"a\":1}}\n\n"));
  EXPECT_FALSE(IsChatUsageOnlyChunk("data: {\"choices\":[],\"usage\":null}\n\n"));
  EXPECT_FALSE(IsChatUsageOnlyChunk(
      "data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n"));
  EXPECT_FALSE(IsChatUsageOnlyChunk("data: [DONE]\n\n"));
}

TEST(AnswerUsage, ReadsEachProtocolsWholeAnswer) {
  struct J {
    Protocol p;
    std::string json;
    int64_t prompt, completion, cache_read, cache_write;
  };
  const J cases[] = {
      {Protocol::kChat,
       R"({"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}})",
       10, 2, 4, 0},
      {Protocol::kMessages,
       R"({"content":[{"type":"tool_use","input":{"usage":{"input_tokens":999}}}],"usage":{"input_tokens":6,"cache_read_input_tokens":3,"cache_creation_input_tokens":1,"output_tokens":2}})",
       10, 2, 3, 1},
      {Protocol::kResponses, R"({"usage":{"input_tokens":10,"output_tokens":2}})", 10, 2, 0, 0},
      {Protocol::kGemini,
       R"({"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":2,"cachedContentTokenCount":4}})",
       10, 2, 4, 0},
  };
  simdjson::dom::parser parser;
  for (const J& c : cases) {
    simdjson::dom::object root;
    ASSERT_EQ(parser.parse(c.json).get(root), simdjson::SUCCESS);
    auto u = AnswerUsage(c.p, root);
    ASSERT_TRUE(u.has_value()) << c.json;
    EXPECT_EQ(u->prompt_tokens, c.prompt) << c.json;
    EXPECT_EQ(u->completion_tokens, c.completion) << c.json;
    EXPECT_EQ(u->cache_read_tokens.value_or(0), c.cache_read) << c.json;
    EXPECT_EQ(u->cache_write_tokens.value_or(0), c.cache_write) << c.json;
  }
  simdjson::dom::object root;
  ASSERT_EQ(parser.parse(std::string(R"({"id":"x"})")).get(root), simdjson::SUCCESS);
  EXPECT_FALSE(AnswerUsage(Protocol::kChat, root).has_value());
}

}  // namespace
}  // namespace bitrouter::usage
