// The sampling controls elizaOS sends (seed, frequency_penalty,
// presence_penalty) and its structured-output kinds, through the canonical
// form: parsed from Chat and Gemini, rendered where the target has the
// parameter (Chat, Gemini generationConfig) and left out where it has none
// (Messages, Responses); json_object on Messages becomes a system instruction.

#include <rapidjson/document.h>

#include <string>

#include "gtest/gtest.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/gemini_adapter.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/responses_adapter.h"

namespace bitrouter::protocol {
namespace {

constexpr char kChat[] =
    R"({"model":"m","messages":[{"role":"system","content":"Be Eliza."},)"
    R"({"role":"user","content":"hi"}],"max_tokens":64,"temperature":0.5,"top_p":0.8,)"
    R"("frequency_penalty":0.5,"presence_penalty":-0.25,"seed":42,"stop":["END"],)"
    R"("response_format":{"type":"json_object"}})";

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

CanonicalRequest ParseChat(const std::string& body) {
  auto req = chat::ParseRequest(body);
  EXPECT_TRUE(req.ok()) << req.status();
  return req.ok() ? *req : CanonicalRequest{};
}

TEST(SamplingParams, ChatParsesThemIntoTheCanonicalForm) {
  CanonicalRequest req = ParseChat(kChat);
  ASSERT_TRUE(req.seed && req.frequency_penalty && req.presence_penalty);
  EXPECT_EQ(*req.seed, 42);
  EXPECT_DOUBLE_EQ(*req.frequency_penalty, 0.5);
  EXPECT_DOUBLE_EQ(*req.presence_penalty, -0.25);
  CanonicalRequest none = ParseChat(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  EXPECT_FALSE(none.seed || none.frequency_penalty || none.presence_penalty);
  EXPECT_FALSE(chat::ParseRequest(R"({"model":"m","messages":[{"role":"user","content":"x"}],)"
                                  R"("seed":"42"})")
                   .ok());
}

TEST(SamplingParams, GeminiCarriesThemInGenerationConfig) {
  auto out = gemini::RenderRequest(ParseChat(kChat), "gem");
  ASSERT_TRUE(out.ok()) << out.status();
  rapidjson::Document d = Json(*out);
  const auto& gc = d["generationConfig"];
  EXPECT_EQ(gc["seed"].GetInt64(), 42);
  EXPECT_DOUBLE_EQ(gc["frequencyPenalty"].GetDouble(), 0.5);
  EXPECT_DOUBLE_EQ(gc["presencePenalty"].GetDouble(), -0.25);
  EXPECT_STREQ(gc["responseMimeType"].GetString(), "application/json");
  EXPECT_FALSE(gc.HasMember("responseJsonSchema"));

  // And back: a Gemini client's generationConfig (camelCase or snake_case).
  for (const char* body :
       {R"({"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"seed":7,)"
        R"("frequencyPenalty":1.5,"presencePenalty":0.5}})",
        R"({"contents":[{"role":"user","parts":[{"text":"x"}]}],"generation_config":{"seed":7,)"
        R"("frequency_penalty":1.5,"presence_penalty":0.5}})"}) {
    auto parsed = gemini::ParseRequest(body);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->seed, 7);
    EXPECT_EQ(parsed->frequency_penalty, 1.5);
    EXPECT_EQ(parsed->presence_penalty, 0.5);
    auto chat = chat::RenderRequest(*parsed, "gpt");
    ASSERT_TRUE(chat.ok()) << chat.status();
    rapidjson::Document c = Json(*chat);
    EXPECT_EQ(c["seed"].GetInt64(), 7);
    EXPECT_DOUBLE_EQ(c["frequency_penalty"].GetDouble(), 1.5);
    EXPECT_DOUBLE_EQ(c["presence_penalty"].GetDouble(), 0.5);
  }
}

TEST(SamplingParams, MessagesAndResponsesLeaveThemOut) {
  CanonicalRequest req = ParseChat(kChat);
  auto messages = messages::RenderRequest(req, "claude");
  ASSERT_TRUE(messages.ok()) << messages.status();
  req.stop.clear();  // Responses has no stop sequences (refused, tested elsewhere)
  auto responses = responses::RenderRequest(req, "gpt");
  ASSERT_TRUE(responses.ok()) << responses.status();
  for (const std::string& out : {*messages, *responses}) {
    rapidjson::Document d = Json(out);
    for (const char* gone : {"seed", "frequency_penalty", "presence_penalty", "frequencyPenalty",
                             "presencePenalty", "response_format"}) {
      EXPECT_FALSE(d.HasMember(gone)) << gone << " in " << out;
    }
  }
  EXPECT_STREQ(Json(*responses)["text"]["format"]["type"].GetString(), "json_object");
}

TEST(SamplingParams, JsonObjectOnMessagesIsASystemInstruction) {
  auto out = messages::RenderRequest(ParseChat(kChat), "claude");
  ASSERT_TRUE(out.ok()) << out.status();
  rapidjson::Document d = Json(*out);
  ASSERT_TRUE(d["system"].IsArray());
  ASSERT_EQ(d["system"].Size(), 2u);
  EXPECT_STREQ(d["system"][0]["text"].GetString(), "Be Eliza.");
  EXPECT_EQ(std::string(d["system"][1]["text"].GetString()),
            std::string(messages::kJsonObjectInstruction));
  EXPECT_FALSE(d.HasMember("output_config"));

  // Without a system prompt of its own, the instruction is the system string.
  auto bare = messages::RenderRequest(
      ParseChat(R"({"model":"m","messages":[{"role":"user","content":"x"}],)"
                R"("response_format":{"type":"json_object"}})"),
      "claude");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(std::string(Json(*bare)["system"].GetString()),
            std::string(messages::kJsonObjectInstruction));

  // json_schema stays output_config.format, with no instruction added.
  auto schema = messages::RenderRequest(
      ParseChat(R"({"model":"m","messages":[{"role":"system","content":"S"},)"
                R"({"role":"user","content":"x"}],"response_format":{"type":"json_schema",)"
                R"("json_schema":{"name":"response","strict":true,"schema":{"type":"object"}}}})"),
      "claude");
  ASSERT_TRUE(schema.ok()) << schema.status();
  rapidjson::Document s = Json(*schema);
  EXPECT_STREQ(s["system"].GetString(), "S");
  EXPECT_STREQ(s["output_config"]["format"]["type"].GetString(), "json_schema");
}

}  // namespace
}  // namespace bitrouter::protocol
