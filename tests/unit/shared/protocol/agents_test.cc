// What real agents send (issue 9 item 10), below the golden files:
//  - every Responses object the router builds carries each member the Open
//    Responses specification requires (ResponseResource.required), with the
//    specification's JSON type; request members are echoed;
//  - Codex namespace tools: flattened upstream, mapped back to name +
//    namespace in JSON answers and streams; hosted tools dropped and listed;
//  - Claude Code's mid-conversation system messages.

#include <rapidjson/document.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/errors.h"
#include "shared/protocol/messages_adapter.h"
#include "shared/protocol/responses_adapter.h"
#include "shared/protocol/sse.h"
#include "shared/protocol/stream_translator.h"
#include "tests/unit/shared/protocol/golden_support.h"

namespace bitrouter::protocol {
namespace {

namespace fs = std::filesystem;

// ResponseResource.json "required", with each member's allowed JSON types.
enum T : unsigned { kStr = 1, kInt = 2, kNum = 4, kBool = 8, kArr = 16, kObj = 32, kNull = 64 };
struct Required {
  const char* key;
  unsigned types;
};
constexpr Required kRequired[] = {
    {"id", kStr},
    {"object", kStr},
    {"created_at", kInt},
    {"completed_at", kInt | kNull},
    {"status", kStr},
    {"incomplete_details", kObj | kNull},
    {"model", kStr},
    {"previous_response_id", kStr | kNull},
    {"instructions", kStr | kArr | kNull},
    {"output", kArr},
    {"error", kObj | kNull},
    {"tools", kArr},
    {"tool_choice", kStr | kObj},
    {"truncation", kStr},
    {"parallel_tool_calls", kBool},
    {"text", kObj},
    {"top_p", kNum},
    {"presence_penalty", kNum},
    {"frequency_penalty", kNum},
    {"top_logprobs", kInt},
    {"temperature", kNum},
    {"reasoning", kObj | kNull},
    {"user", kStr | kNull},
    {"usage", kObj | kNull},
    {"max_output_tokens", kInt | kNull},
    {"max_tool_calls", kInt | kNull},
    {"store", kBool},
    {"background", kBool},
    {"service_tier", kStr},
    {"metadata", kObj},
    {"safety_identifier", kStr | kNull},
    {"prompt_cache_key", kStr | kNull},
};

bool HasType(const rapidjson::Value& v, unsigned types) {
  if ((types & kStr) && v.IsString()) return true;
  if ((types & (kInt | kNum)) && (v.IsInt64() || v.IsUint64())) return true;
  if ((types & kNum) && v.IsNumber()) return true;
  if ((types & kBool) && v.IsBool()) return true;
  if ((types & kArr) && v.IsArray()) return true;
  if ((types & kObj) && v.IsObject()) return true;
  return (types & kNull) && v.IsNull();
}

void ExpectSpecResponse(const rapidjson::Value& r, const std::string& where) {
  ASSERT_TRUE(r.IsObject()) << where;
  for (const Required& req : kRequired) {
    auto it = r.FindMember(req.key);
    if (it == r.MemberEnd()) {
      ADD_FAILURE() << where << ": missing '" << req.key << "'";
      continue;
    }
    EXPECT_TRUE(HasType(it->value, req.types))
        << where << ": '" << req.key << "' has the wrong type";
  }
  EXPECT_STREQ(r["object"].GetString(), "response") << where;
  std::string truncation = r["truncation"].GetString();
  EXPECT_TRUE(truncation == "auto" || truncation == "disabled") << where;
  std::string status = r["status"].GetString();
  EXPECT_EQ(r["completed_at"].IsNull(), status != "completed") << where;
  EXPECT_EQ(r["incomplete_details"].IsNull(), status != "incomplete") << where;
  EXPECT_EQ(r["error"].IsNull(), status != "failed") << where;
}

// Every response object in a Responses body or stream transcript.
void ExpectSpecEverywhere(const std::string& text, bool stream, const std::string& where) {
  if (!stream) {
    rapidjson::Document d;
    ASSERT_FALSE(d.Parse(text.c_str()).HasParseError()) << where;
    ExpectSpecResponse(d, where);
    return;
  }
  SseParser p;
  int snapshots = 0;
  absl::Status s = p.Feed(text, [&](std::string_view event, std::string_view data) {
    rapidjson::Document d;
    std::string json(data);
    if (d.Parse(json.c_str()).HasParseError()) return absl::OkStatus();
    if (d.IsObject() && d.HasMember("response")) {
      ++snapshots;
      ExpectSpecResponse(d["response"], where + " " + std::string(event));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_GE(snapshots, 1) << where;
}

TEST(TranslateResponsesObject, EveryGoldenAnswerHasTheRequiredMembers) {
  int checked = 0;
  for (const auto& d : fs::directory_iterator(BR_TESTDATA_DIR)) {
    std::string dir = d.path().filename().string();
    bool json = dir.size() > 18 && dir.substr(dir.size() - 18) == "_resp_to_responses";
    bool stream = dir.find("_stream_to_responses") != std::string::npos;
    if (!json && !stream) continue;
    for (const auto& f : fs::directory_iterator(d.path())) {
      std::string name = f.path().filename().string();
      if (name.find(".out.") == std::string::npos) continue;
      ExpectSpecEverywhere(golden::ReadFile(f.path()), stream, dir + "/" + name);
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(TranslateResponsesObject, TheRoutersOwnFailureEventIsComplete) {
  std::string event = RenderStreamError(
      Protocol::kResponses, {502, "upstream_error", "stream_truncated", "cut"}, "resp_1");
  ExpectSpecEverywhere(event, true, "response.failed");
}

constexpr char kCodexRequest[] = R"({"model":"gpt-5.2-codex","instructions":"You are Codex.",
 "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Open an issue."}]}],
 "tools":[
  {"type":"function","name":"shell","parameters":{"type":"object"}},
  {"type":"namespace","name":"github","description":"GitHub MCP server.","tools":[
    {"type":"function","name":"create_issue","parameters":{"type":"object","properties":{"title":{"type":"string"}}}}]},
  {"type":"web_search"},
  {"type":"custom","name":"apply_patch","format":{"type":"text"}}],
 "tool_choice":{"type":"web_search"},"parallel_tool_calls":false,"temperature":0.5,
 "reasoning":{"effort":"medium"},"metadata":{"k":"v"},"prompt_cache_key":"abc","user":null})";

constexpr char kChatToolCall[] =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000001,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"github__create_issue","arguments":"{\"title\":\"x\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";

TEST(TranslateCodexTools, NamespacesFlattenAndHostedToolsAreDropped) {
  auto req = responses::ParseRequest(kCodexRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->tools.size(), 3u);
  EXPECT_EQ(req->tools[0].name, "shell");
  EXPECT_EQ(req->tools[1].name, "github__create_issue");
  EXPECT_EQ(req->tools[1].description, "GitHub MCP server.");
  // A custom tool is a function with one string argument upstream.
  EXPECT_EQ(req->tools[2].name, "apply_patch");
  EXPECT_NE(req->tools[2].parameters.find("\"input\""), std::string::npos);
  EXPECT_TRUE(req->responses_echo.IsCustom("apply_patch"));
  EXPECT_EQ(req->dropped_tools, (std::vector<std::string>{"web_search"}));
  ASSERT_TRUE(req->tool_choice);  // forced a dropped tool: left to the model
  EXPECT_EQ(req->tool_choice->mode, ToolChoice::Mode::kAuto);
  for (Protocol up : {Protocol::kChat, Protocol::kMessages, Protocol::kGemini}) {
    auto rendered = AdapterFor(up).render_request(*req, "m");
    ASSERT_TRUE(rendered.ok()) << ProtocolName(up) << ": " << rendered.status();
    EXPECT_NE(rendered->find("github__create_issue"), std::string::npos);
    EXPECT_EQ(rendered->find("web_search"), std::string::npos);
    EXPECT_NE(rendered->find("apply_patch"), std::string::npos);
  }
}

TEST(TranslateCodexTools, JsonAnswerRestoresTheNamespaceAndEchoesTheRequest) {
  auto req = responses::ParseRequest(kCodexRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  auto resp = AdapterFor(Protocol::kChat).parse_response(kChatToolCall);
  ASSERT_TRUE(resp.ok()) << resp.status();
  resp->echo = &req->responses_echo;
  resp->completed_at = 1700000005;
  auto out = responses::RenderResponse(*resp, "codex-model");
  ASSERT_TRUE(out.ok()) << out.status();
  ExpectSpecEverywhere(*out, false, "json");
  rapidjson::Document d;
  d.Parse(out->c_str());
  const rapidjson::Value& call = d["output"][0];
  EXPECT_STREQ(call["type"].GetString(), "function_call");
  EXPECT_STREQ(call["name"].GetString(), "create_issue");
  EXPECT_STREQ(call["namespace"].GetString(), "github");
  EXPECT_STREQ(call["call_id"].GetString(), "call_9");
  EXPECT_EQ(d["completed_at"].GetInt64(), 1700000005);
  // Echoed as sent: the namespace and hosted tools are the client's own.
  ASSERT_EQ(d["tools"].Size(), 4u);
  EXPECT_STREQ(d["tools"][1]["type"].GetString(), "namespace");
  EXPECT_STREQ(d["tool_choice"]["type"].GetString(), "web_search");
  EXPECT_FALSE(d["parallel_tool_calls"].GetBool());
  EXPECT_DOUBLE_EQ(d["temperature"].GetDouble(), 0.5);
  EXPECT_STREQ(d["reasoning"]["effort"].GetString(), "medium");
  EXPECT_STREQ(d["metadata"]["k"].GetString(), "v");
  EXPECT_STREQ(d["prompt_cache_key"].GetString(), "abc");
  EXPECT_STREQ(d["instructions"].GetString(), "You are Codex.");
  EXPECT_TRUE(d["user"].IsNull());  // sent as null: the default
  EXPECT_FALSE(d["store"].GetBool());
  EXPECT_EQ(d["top_p"].GetInt(), 1);
}

int64_t FixedNow() { return 1700000009; }

TEST(TranslateCodexTools, StreamRestoresTheNamespaceInEveryEvent) {
  auto req = responses::ParseRequest(kCodexRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  EncoderOptions opts;
  opts.client_model = "codex-model";
  opts.created = golden::kCreated;
  opts.echo = &req->responses_echo;
  opts.now = &FixedNow;
  StreamTranslator t(Protocol::kChat, Protocol::kResponses, opts);
  std::string in =
      "data: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"github__create_issue","arguments":""}}]},"finish_reason":null}]})"
      "\n\ndata: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":"tool_calls"}]})"
      "\n\ndata: [DONE]\n\n";
  ASSERT_TRUE(t.Feed(in).ok());
  ASSERT_TRUE(t.End().ok());
  std::string out = t.out();
  ExpectSpecEverywhere(out, true, "stream");
  EXPECT_EQ(out.find("github__create_issue"), std::string::npos) << out;
  SseParser p;
  int named = 0;
  ASSERT_TRUE(p.Feed(out, [&](std::string_view event, std::string_view data) {
                 rapidjson::Document d;
                 std::string json(data);
                 d.Parse(json.c_str());
                 if (event == "response.output_item.added" ||
                     event == "response.output_item.done") {
                   EXPECT_STREQ(d["item"]["name"].GetString(), "create_issue");
                   EXPECT_STREQ(d["item"]["namespace"].GetString(), "github");
                   ++named;
                 }
                 if (event == "response.function_call_arguments.done") {
                   EXPECT_STREQ(d["name"].GetString(), "create_issue");
                   ++named;
                 }
                 if (event == "response.completed") {
                   EXPECT_EQ(d["response"]["completed_at"].GetInt64(), 1700000009);
                   EXPECT_STREQ(d["response"]["output"][0]["namespace"].GetString(), "github");
                   EXPECT_EQ(d["response"]["tools"].Size(), 4u);
                 }
                 return absl::OkStatus();
               }).ok());
  EXPECT_EQ(named, 3);
}

TEST(TranslateCodexTools, NamespacedCallsInTheHistoryAreFlattened) {
  auto req = responses::ParseRequest(R"({"model":"m","input":[
    {"type":"message","role":"user","content":"hi"},
    {"type":"function_call","call_id":"c1","name":"create_issue","namespace":"github","arguments":"{}"},
    {"type":"function_call_output","call_id":"c1","output":"done"}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->messages.size(), 3u);
  EXPECT_EQ(req->messages[1].content[0].name, "github__create_issue");
  ASSERT_NE(req->responses_echo.FindFlat("github__create_issue"), nullptr);
}

// Codex's apply_patch is a custom tool: free-form input, not JSON arguments.
constexpr char kCustomToolRequest[] = R"({"model":"m","input":[
  {"type":"message","role":"user","content":"fix it"},
  {"type":"custom_tool_call","call_id":"c0","name":"apply_patch","input":"*** Begin Patch\n*** End Patch"},
  {"type":"custom_tool_call_output","call_id":"c0","output":"ok"}],
 "tools":[{"type":"custom","name":"apply_patch","description":"Edit files.",
           "format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch"}}],
 "tool_choice":{"type":"custom","name":"apply_patch"}})";

constexpr char kChatCustomCall[] =
    R"({"id":"chatcmpl-2","object":"chat.completion","created":1700000001,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_p","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin Patch\\n+x\\n*** End Patch\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";

TEST(TranslateCodexTools, CustomToolIsAFunctionWithOneStringArgument) {
  auto req = responses::ParseRequest(kCustomToolRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->tools.size(), 1u);
  EXPECT_NE(req->tools[0].description.find("lark grammar:\nstart: begin_patch"), std::string::npos);
  ASSERT_TRUE(req->tool_choice);
  EXPECT_EQ(req->tool_choice->mode, ToolChoice::Mode::kSpecific);
  EXPECT_EQ(req->tool_choice->name, "apply_patch");
  // The history's custom call is a function call wrapping its input.
  ASSERT_EQ(req->messages.size(), 3u);
  EXPECT_EQ(req->messages[1].content[0].arguments, R"({"input":"*** Begin Patch\n*** End Patch"})");
  EXPECT_EQ(req->messages[2].role, Role::kTool);
  EXPECT_TRUE(req->dropped_tools.empty());
}

TEST(TranslateCodexTools, CustomToolCallsGoBackAsCustomToolCallItems) {
  auto req = responses::ParseRequest(kCustomToolRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  auto resp = AdapterFor(Protocol::kChat).parse_response(kChatCustomCall);
  ASSERT_TRUE(resp.ok()) << resp.status();
  resp->echo = &req->responses_echo;
  auto out = responses::RenderResponse(*resp, "codex-model");
  ASSERT_TRUE(out.ok()) << out.status();
  rapidjson::Document d;
  d.Parse(out->c_str());
  const rapidjson::Value& call = d["output"][0];
  EXPECT_STREQ(call["type"].GetString(), "custom_tool_call");
  EXPECT_STREQ(call["name"].GetString(), "apply_patch");
  EXPECT_STREQ(call["call_id"].GetString(), "call_p");
  EXPECT_STREQ(call["input"].GetString(), "*** Begin Patch\n+x\n*** End Patch");
  EXPECT_FALSE(call.HasMember("arguments"));
}

TEST(TranslateCodexTools, CustomToolCallStreamsItsInputAsText) {
  auto req = responses::ParseRequest(kCustomToolRequest);
  ASSERT_TRUE(req.ok()) << req.status();
  EncoderOptions opts;
  opts.client_model = "codex-model";
  opts.created = golden::kCreated;
  opts.echo = &req->responses_echo;
  opts.now = &FixedNow;
  StreamTranslator t(Protocol::kChat, Protocol::kResponses, opts);
  std::string in =
      "data: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_p","type":"function","function":{"name":"apply_patch","arguments":"{\"inp"}}]},"finish_reason":null}]})"
      "\n\ndata: "
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ut\":\"+line\\n\"}"}}]},"finish_reason":"tool_calls"}]})"
      "\n\ndata: [DONE]\n\n";
  ASSERT_TRUE(t.Feed(in).ok());
  ASSERT_TRUE(t.End().ok());
  std::string out = t.out();
  ExpectSpecEverywhere(out, true, "stream");
  EXPECT_EQ(out.find("function_call"), std::string::npos) << out;
  SseParser p;
  std::vector<std::string> events;
  ASSERT_TRUE(p.Feed(out, [&](std::string_view event, std::string_view data) {
                 events.emplace_back(event);
                 rapidjson::Document d;
                 std::string json(data);
                 d.Parse(json.c_str());
                 if (event == "response.output_item.added" ||
                     event == "response.output_item.done") {
                   EXPECT_STREQ(d["item"]["type"].GetString(), "custom_tool_call");
                   EXPECT_STREQ(d["item"]["name"].GetString(), "apply_patch");
                 }
                 if (event == "response.custom_tool_call_input.delta") {
                   EXPECT_STREQ(d["delta"].GetString(), "+line\n");
                   EXPECT_TRUE(d.HasMember("item_id") && d.HasMember("output_index"));
                 }
                 if (event == "response.custom_tool_call_input.done") {
                   EXPECT_STREQ(d["input"].GetString(), "+line\n");
                 }
                 if (event == "response.output_item.done") {
                   EXPECT_STREQ(d["item"]["input"].GetString(), "+line\n");
                 }
                 return absl::OkStatus();
               }).ok());
  std::vector<std::string> want_order = {
      "response.output_item.added", "response.custom_tool_call_input.delta",
      "response.custom_tool_call_input.done", "response.output_item.done", "response.completed"};
  size_t at = 0;
  for (const std::string& e : events) {
    if (at < want_order.size() && e == want_order[at]) ++at;
  }
  EXPECT_EQ(at, want_order.size()) << out;
}

TEST(TranslateMidConversationSystem, TextOnlyAndKeptInPlace) {
  auto req = messages::ParseRequest(R"({"model":"m","max_tokens":10,"messages":[
    {"role":"user","content":"a"},{"role":"system","content":"b"},{"role":"user","content":"c"}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  ASSERT_EQ(req->messages.size(), 3u);
  EXPECT_EQ(req->messages[1].role, Role::kSystem);
  EXPECT_TRUE(req->system.empty());
  auto bad = messages::ParseRequest(R"({"model":"m","max_tokens":10,"messages":[
    {"role":"user","content":"a"},
    {"role":"system","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("only text"), std::string_view::npos) << bad.status();
}

}  // namespace
}  // namespace bitrouter::protocol
