// Golden-file tests for request/response translation through the canonical
// form. Each testdata/translate/<direction>/<case>.in.json is translated and
// compared semantically (parsed DOM equality, key order ignored) with
// <case>.out.json.

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/chat_adapter.h"
#include "shared/protocol/messages_adapter.h"
#include "tests/unit/shared/protocol/golden_support.h"

namespace bitrouter::protocol {
namespace {

namespace fs = std::filesystem;
using golden::ByName;
using golden::ClientModel;
using golden::kCreated;
using golden::ReadFile;
using golden::UpstreamModel;
using Translate = std::function<absl::StatusOr<std::string>(const std::string&)>;

std::string Pretty(const rapidjson::Document& d) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return buf.GetString();
}

// Directories: <client>_to_<upstream> (requests) and
// <upstream>_resp_to_<client> (responses).
Translate ForDirection(const std::string& dir) {
  size_t to = dir.find("_to_");
  if (to == std::string::npos) return nullptr;
  std::string from_name = dir.substr(0, to);
  bool response = false;
  if (from_name.size() > 5 && from_name.substr(from_name.size() - 5) == "_resp") {
    response = true;
    from_name.resize(from_name.size() - 5);
  }
  std::optional<Protocol> from = ByName(from_name);
  std::optional<Protocol> into = ByName(dir.substr(to + 4));
  if (!from || !into) return nullptr;
  const Adapter& a = AdapterFor(*from);
  const Adapter& b = AdapterFor(*into);
  if (!response) {
    std::string model = UpstreamModel(*into);
    return [&a, &b, model](const std::string& in) -> absl::StatusOr<std::string> {
      auto parsed = a.parse_request(in);
      if (!parsed.ok()) return parsed.status();
      return b.render_request(*parsed, model);
    };
  }
  std::string model = ClientModel(*into);
  return [&a, &b, model](const std::string& in) -> absl::StatusOr<std::string> {
    auto parsed = a.parse_response(in);
    if (!parsed.ok()) return parsed.status();
    if (!parsed->created) parsed->created = kCreated;
    return b.render_response(*parsed, model);
  };
}

struct GoldenCase {
  std::string dir;
  std::string name;
};

std::vector<GoldenCase> ListCases() {
  std::vector<GoldenCase> cases;
  for (const auto& d : fs::directory_iterator(BR_TESTDATA_DIR)) {
    if (!d.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(d.path())) {
      std::string file = f.path().filename().string();
      const std::string suffix = ".in.json";
      if (d.path().filename().string().find("_stream_to_") != std::string::npos) continue;
      if (file.size() <= suffix.size() || file.substr(file.size() - suffix.size()) != suffix) {
        continue;
      }
      cases.push_back({d.path().filename().string(), file.substr(0, file.size() - suffix.size())});
    }
  }
  std::sort(cases.begin(), cases.end(), [](const GoldenCase& a, const GoldenCase& b) {
    return a.dir + "/" + a.name < b.dir + "/" + b.name;
  });
  return cases;
}

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.dir << "/" << c.name; }

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesGolden) {
  const GoldenCase& c = GetParam();
  fs::path base = fs::path(BR_TESTDATA_DIR) / c.dir;
  Translate translate = ForDirection(c.dir);
  ASSERT_TRUE(translate) << "unknown direction " << c.dir;
  absl::StatusOr<std::string> out = translate(ReadFile(base / (c.name + ".in.json")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  rapidjson::Document got, want;
  ASSERT_FALSE(got.Parse(out->c_str()).HasParseError()) << "renderer wrote invalid JSON: " << *out;
  std::string want_text = ReadFile(base / (c.name + ".out.json"));
  ASSERT_FALSE(want.Parse(want_text.c_str()).HasParseError()) << "bad golden file";
  EXPECT_TRUE(got == want) << "got:\n" << Pretty(got) << "\nwant:\n" << Pretty(want);
  // Responses objects carry the specification's nullable members as null.
  if (c.dir.find("_resp_to_responses") == std::string::npos) {
    EXPECT_EQ(out->find("null"), std::string::npos) << "renderers never write null";
  }
}

INSTANTIATE_TEST_SUITE_P(Translate, GoldenTest, ::testing::ValuesIn(ListCases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           return info.param.dir + "__" + info.param.name;
                         });

TEST(GoldenTest, HasCases) { EXPECT_GE(ListCases().size(), 20u); }

// ---- error cases ----

struct ErrorCase {
  const char* what;
  std::function<absl::Status(const std::string&)> run;
  const char* body;
  const char* message;  // expected substring
};

template <typename F>
std::function<absl::Status(const std::string&)> St(F f) {
  return [f](const std::string& s) { return f(s).status(); };
}

TEST(TranslateErrors, ClientFacingInvalidArgument) {
  auto chat_req = St(chat::ParseRequest);
  auto msg_req = St(messages::ParseRequest);
  auto chat_resp = St(chat::ParseResponse);
  auto msg_resp = St(messages::ParseResponse);
  auto resp_req = St(AdapterFor(Protocol::kResponses).parse_request);
  auto resp_resp = St(AdapterFor(Protocol::kResponses).parse_response);
  auto gem_req = St(AdapterFor(Protocol::kGemini).parse_request);
  auto gem_resp = St(AdapterFor(Protocol::kGemini).parse_response);
  const ErrorCase cases[] =
      {
          {"chat invalid json", chat_req, R"({"model":)", "not valid JSON"},
          {"chat empty user content", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[]}]})",
           "message 1 of the conversation has no content"},
          {"chat negative max_tokens", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":-5})",
           "at least 1"},
          {"gemini empty model turn", gem_req,
           R"({"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[]}]})",
           "message 2 of the conversation has no content"},
          {"responses empty user content", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[]}]})", "has no content"},
          {"responses negative max_output_tokens", resp_req,
           R"({"model":"m","input":"x","max_output_tokens":-5})", "at least 1"},
          {"messages invalid json", msg_req, "nope", "not valid JSON"},
          {"chat not an object", chat_req, "[1,2]", "must be a JSON object"},
          {"chat missing model", chat_req, R"({"messages":[]})", "'model'"},
          {"chat model type", chat_req, R"({"model":5,"messages":[]})", "'model' must be a string"},
          {"chat messages type", chat_req, R"({"model":"m","messages":{}})", "must be an array"},
          {"chat empty messages", chat_req, R"({"model":"m","messages":[]})", "'messages'"},
          {"chat unknown role", chat_req,
           R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})",
           "'messages[0].role' has unknown value 'wizard'"},
          {"chat content type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":7}]})",
           "'messages[0].content' must be a string or an array"},
          {"chat unsupported part", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"input_audio"}]}]})",
           "'input_audio' is not supported"},
          {"chat bad data url", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,xyz"}}]}]})",
           "base64 data URL"},
          {"chat orphan tool result", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"hi"},{"role":"tool","tool_call_id":"call_9","content":"42"}]})",
           "tool result for 'call_9' has no matching tool call"},
          {"chat duplicate tool result", chat_req,
           R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"1"},{"role":"tool","tool_call_id":"c1","content":"2"}]})",
           "answered twice"},
          {"chat temperature type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"})",
           "'temperature' must be a number"},
          {"chat tool_choice value", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"})",
           "'tool_choice' has unknown value"},
          {"chat tool type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search"}]})",
           "'web_search' is not supported"},
          {"chat empty assistant", chat_req, R"({"model":"m","messages":[{"role":"assistant"}]})",
           "needs 'content' or 'tool_calls'"},
          {"messages only a system message", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
           "has no user or assistant message"},
          {"messages bad role", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"tool","content":"x"}]})",
           "'messages[0].role' has unknown value 'tool'"},
          {"messages orphan tool_result", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"x"}]}]})",
           "tool result for 'toolu_1' has no matching tool call"},
          {"messages tool_use in user turn", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}]})",
           "'tool_use' is not supported here"},
          {"messages tool_use input type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"{}"}]}]})",
           "'messages[0].content[0].input' must be an object"},
          {"messages max_tokens type", msg_req,
           R"({"model":"m","max_tokens":"lots","messages":[{"role":"user","content":"x"}]})",
           "'max_tokens' must be an integer"},
          {"messages server tool", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]})",
           "server tool"},
          {"messages document without source", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document"}]}]})",
           "'messages[0].content[0].source' must be an object"},
          {"messages document file source", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_1"}}]}]})",
           "'messages[0].content[0].source.type' 'file' is not supported (uploaded files cannot be "
           "translated)"},
          {"messages document content source", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"content","content":"x"}}]}]})",
           "'messages[0].content[0].source.type' 'content' is not supported"},
          {"messages document text source type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/html","data":"<p>"}}]}]})",
           "'messages[0].content[0].source.media_type' 'text/html' is not supported"},
          {"messages document base64 without data", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf"}}]}]})",
           "'messages[0].content[0].source.data'"},
          {"messages document in assistant turn", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"document","source":{"type":"url","url":"https://x/d.pdf"}}]}]})",
           "'messages[0].content[0].type' 'document' is not supported here"},
          {"messages thinking type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"maybe"}})",
           "'thinking.type' has unknown value"},
          {"chat response no choices", chat_resp, R"({"id":"x","choices":[]})", "'choices'"},
          {"chat response bad usage", chat_resp,
           R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":"9"}})",
           "'usage.prompt_tokens' must be an integer"},
          {"messages response error body", msg_resp,
           R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
           "expected 'message'"},
          {"messages response content type", msg_resp,
           R"({"id":"m","type":"message","role":"assistant","content":5})",
           "'content' must be a string or an array"},
          // ---- Chat (more) ----
          {"chat not json at all", chat_req, "", "not valid JSON"},
          {"chat message not object", chat_req, R"({"model":"m","messages":["hi"]})",
           "'messages[0]' must be an object"},
          {"chat missing role", chat_req, R"({"model":"m","messages":[{"content":"x"}]})",
           "'messages[0].role'"},
          {"chat user without content", chat_req, R"({"model":"m","messages":[{"role":"user"}]})",
           "'messages[0].content' is required"},
          {"chat file_id", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]})",
           "'messages[0].content[0].file.file_id' is not supported (uploaded files cannot be "
           "translated)"},
          {"chat file not object", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":"x.pdf"}]}]})",
           "'messages[0].content[0].file' must be an object"},
          {"chat file raw base64", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"JVBERi0x"}}]}]})",
           "'messages[0].content[0].file.file_data' must be a base64 data URL"},
          {"chat file without data", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf"}}]}]})",
           "'messages[0].content[0].file.file_data'"},
          {"chat file in system", chat_req,
           R"({"model":"m","messages":[{"role":"system","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,AA=="}}]},{"role":"user","content":"x"}]})",
           "'messages[0].content[0].type' 'file' is not supported here"},
          {"chat file in tool message", chat_req,
           R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,AA=="}}]}]})",
           "'messages[1].content[0].type' 'file' is not supported here"},
          {"chat image in system", chat_req,
           R"({"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"x"}]})",
           "'messages[0].content[0].type' 'image_url' is not supported here"},
          {"chat image_url not object", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]})",
           "'messages[0].content[0].image_url' must be an object"},
          {"chat tool_calls type", chat_req,
           R"({"model":"m","messages":[{"role":"assistant","tool_calls":{}}]})",
           "'messages[0].tool_calls' must be an array"},
          {"chat tool without id", chat_req,
           R"({"model":"m","messages":[{"role":"tool","content":"42"}]})",
           "'messages[0].tool_call_id'"},
          {"chat only system", chat_req,
           R"({"model":"m","messages":[{"role":"system","content":"x"}]})",
           "must contain a user or assistant message"},
          {"chat tool parameters type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]})",
           "'tools[0].function.parameters' must be an object"},
          {"chat tool_choice type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":3})",
           "'tool_choice' must be a string or an object"},
          {"chat response_format type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}})",
           "'response_format.type' has unknown value 'yaml'"},
          {"chat json_schema missing", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}})",
           "'response_format.json_schema' must be an object"},
          {"chat stop type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]})",
           "'stop' must be a string or an array of strings"},
          {"chat max_tokens fraction", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})",
           "'max_tokens' must be an integer"},
          {"chat stream type", chat_req,
           R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})",
           "'stream' must be a boolean"},
          {"chat response message missing", chat_resp, R"({"id":"x","choices":[{"index":0}]})",
           "'choices[0].message' must be an object"},
          {"chat response missing id", chat_resp,
           R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]})", "'id'"},
          // ---- Messages (more) ----
          {"messages not an object", msg_req, "[]", "must be a JSON object"},
          {"messages missing messages", msg_req, R"({"model":"m","max_tokens":5})",
           "'messages' is required"},
          {"messages empty messages", msg_req, R"({"model":"m","max_tokens":5,"messages":[]})",
           "'messages' must not be empty"},
          {"messages missing content", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user"}]})",
           "'messages[0].content' is required"},
          {"messages image source type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]})",
           "'messages[0].content[0].source.type' 'file' is not supported"},
          {"messages image in assistant turn", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]})",
           "'messages[0].content[0].type' 'image' is not supported here"},
          {"messages thinking in user turn", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"hm"}]}]})",
           "'messages[0].content[0].type' 'thinking' is not supported here"},
          {"messages system image", msg_req,
           R"({"model":"m","max_tokens":5,"system":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}],"messages":[{"role":"user","content":"x"}]})",
           "'system"},
          {"messages tool input_schema missing", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f"}]})",
           "'tools[0].input_schema' must be an object"},
          {"messages tool_choice string", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":"auto"})",
           "'tool_choice' must be an object"},
          {"messages tool_choice type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"sometimes"}})",
           "'tool_choice.type' has unknown value 'sometimes'"},
          {"messages stop_sequences type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stop_sequences":"END"})",
           "'stop_sequences' must be an array of strings"},
          {"messages output format type", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"output_config":{"format":{"type":"yaml"}}})",
           "'output_config.format.type' has unknown value 'yaml'"},
          {"messages output format schema", msg_req,
           R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"output_format":{"type":"json_schema"}})",
           "'output_format.schema' must be an object"},
          {"messages response wrong type", msg_resp,
           R"({"id":"m","type":"completion","role":"assistant","content":[]})",
           "'type' is 'completion', expected 'message'"},
          {"messages response usage type", msg_resp,
           R"({"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":"9"}})",
           "'usage.input_tokens' must be an integer"},
          // ---- Responses requests ----
          {"responses invalid json", resp_req, R"({"model":"m","input":)", "not valid JSON"},
          {"responses not an object", resp_req, R"("hi")", "must be a JSON object"},
          {"responses missing model", resp_req, R"({"input":"hi"})", "'model'"},
          {"responses missing input", resp_req, R"({"model":"m"})", "'input' is required"},
          {"responses input type", resp_req, R"({"model":"m","input":5})",
           "'input' must be a string or an array"},
          {"responses input empty", resp_req, R"({"model":"m","input":[]})",
           "'input' must contain a user or assistant message"},
          {"responses item not object", resp_req, R"({"model":"m","input":["hi"]})",
           "'input[0]' must be an object"},
          {"responses unknown item type", resp_req,
           R"({"model":"m","input":[{"type":"web_search_call","id":"ws_1"}]})",
           "'input[0].type' 'web_search_call' is not supported"},
          {"responses item_reference", resp_req,
           R"({"model":"m","input":[{"type":"item_reference","id":"msg_1"}]})",
           "'input[0].type' 'item_reference' is not supported"},
          {"responses unknown role", resp_req,
           R"({"model":"m","input":[{"role":"wizard","content":"x"}]})",
           "'input[0].role' has unknown value 'wizard'"},
          {"responses message without content", resp_req,
           R"({"model":"m","input":[{"role":"user"}]})", "'input[0].content' is required"},
          {"responses content type", resp_req,
           R"({"model":"m","input":[{"role":"user","content":7}]})",
           "'input[0].content' must be a string or an array"},
          {"responses unsupported part", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_audio"}]}]})",
           "'input[0].content[0].type' 'input_audio' is not supported here"},
          {"responses input_file file_id", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]})",
           "'input[0].content[0].file_id' is not supported (uploaded files cannot be translated)"},
          {"responses input_file empty", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.pdf"}]}]})",
           "'input[0].content[0]' needs 'file_data' or 'file_url'"},
          {"responses input_file raw base64", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"JVBERi0x"}]}]})",
           "'input[0].content[0].file_data' must be a base64 data URL"},
          {"responses input_file url type", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":7}]}]})",
           "'input[0].content[0].file_url' must be a string"},
          {"responses input_file in assistant", resp_req,
           R"({"model":"m","input":[{"role":"assistant","content":[{"type":"input_file","file_url":"https://x/d.pdf"}]}]})",
           "'input[0].content[0].type' 'input_file' is not supported here"},
          {"responses image in assistant", resp_req,
           R"({"model":"m","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]})",
           "'input[0].content[0].type' 'input_image' is not supported here"},
          {"responses input_image file_id", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]})",
           "'input[0].content[0].file_id' is not supported"},
          {"responses bad data url", resp_req,
           R"({"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,xyz"}]}]})",
           "'input[0].content[0].image_url' must be an http(s) URL or a base64 data URL"},
          {"responses previous_response_id", resp_req,
           R"({"model":"m","input":"hi","previous_response_id":"resp_1"})",
           "'previous_response_id' is not supported"},
          {"responses conversation", resp_req,
           R"({"model":"m","input":"hi","conversation":"conv_1"})",
           "'conversation' is not supported"},
          {"responses stored prompt", resp_req,
           R"({"model":"m","input":"hi","prompt":{"id":"pmpt_1"}})", "'prompt'"},
          {"responses background", resp_req, R"({"model":"m","input":"hi","background":true})",
           "'background' is not supported"},
          {"responses background type", resp_req,
           R"({"model":"m","input":"hi","background":"yes"})", "'background' must be a boolean"},
          {"responses namespace without tools", resp_req,
           R"({"model":"m","input":"hi","tools":[{"type":"namespace","name":"ns"}]})",
           "'tools[0].tools' must be an array"},
          {"responses tool_choice of an unknown tool type", resp_req,
           R"({"model":"m","input":"hi","tool_choice":{"type":"bogus"}})",
           "'tool_choice.type' 'bogus' is not supported"},
          {"responses tool parameters type", resp_req,
           R"({"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":[]}]})",
           "'tools[0].parameters' must be an object"},
          {"responses orphan function_call_output", resp_req,
           R"({"model":"m","input":[{"role":"user","content":"hi"},{"type":"function_call_output","call_id":"call_9","output":"42"}]})",
           "tool result for 'call_9' has no matching tool call"},
          {"responses duplicate function_call_output", resp_req,
           R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"1"},{"type":"function_call_output","call_id":"c1","output":"2"}]})",
           "answered twice"},
          {"responses function_call_output without output", resp_req,
           R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f"},{"type":"function_call_output","call_id":"c1"}]})",
           "'input[1].output' is required"},
          {"responses function_call without call_id", resp_req,
           R"({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]})",
           "'input[0].call_id'"},
          {"responses text.format type", resp_req,
           R"({"model":"m","input":"hi","text":{"format":{"type":"yaml"}}})",
           "'text.format.type' has unknown value 'yaml'"},
          {"responses text.format not object", resp_req,
           R"({"model":"m","input":"hi","text":{"format":"json"}})",
           "'text.format' must be an object"},
          {"responses json_schema without schema", resp_req,
           R"({"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"r"}}})",
           "'text.format.schema' must be an object"},
          {"responses json_schema without name", resp_req,
           R"({"model":"m","input":"hi","text":{"format":{"type":"json_schema","schema":{}}}})",
           "'text.format.name'"},
          {"responses tool_choice value", resp_req,
           R"({"model":"m","input":"hi","tool_choice":"sometimes"})",
           "'tool_choice' has unknown value 'sometimes'"},
          {"responses tool_choice builtin", resp_req,
           R"({"model":"m","input":"hi","tool_choice":{"type":"web_search_preview"}})",
           "'tool_choice.type' 'web_search_preview' is not supported"},
          {"responses tool_choice type", resp_req, R"({"model":"m","input":"hi","tool_choice":1})",
           "'tool_choice' must be a string or an object"},
          {"responses reasoning type", resp_req, R"({"model":"m","input":"hi","reasoning":"high"})",
           "'reasoning' must be an object"},
          {"responses reasoning summary part", resp_req,
           R"({"model":"m","input":[{"type":"reasoning","summary":[{"type":"output_text","text":"x"}]},{"role":"user","content":"hi"}]})",
           "'input[0].summary[0].type' 'output_text' is not supported here"},
          {"responses max_output_tokens type", resp_req,
           R"({"model":"m","input":"hi","max_output_tokens":"10"})",
           "'max_output_tokens' must be an integer"},
          // ---- Responses responses ----
          {"responses response invalid json", resp_resp, "{", "not valid JSON"},
          {"responses response failed", resp_resp,
           R"({"id":"resp_1","object":"response","status":"failed","error":{"code":"server_error","message":"boom"},"output":[]})",
           "'status' is 'failed': boom"},
          {"responses response cancelled", resp_resp,
           R"({"id":"resp_1","object":"response","status":"cancelled","output":[]})",
           "'status' is 'cancelled'"},
          {"responses response in progress", resp_resp,
           R"({"id":"resp_1","object":"response","status":"in_progress","output":[]})",
           "'status' is 'in_progress', expected a finished response"},
          {"responses response wrong object", resp_resp,
           R"({"id":"x","object":"chat.completion","choices":[]})",
           "'object' is 'chat.completion', expected 'response'"},
          {"responses response missing output", resp_resp,
           R"({"id":"resp_1","object":"response","status":"completed"})",
           "'output' must be an array"},
          {"responses response unknown item", resp_resp,
           R"({"id":"resp_1","object":"response","status":"completed","output":[{"type":"web_search_call","id":"ws"}]})",
           "'output[0].type' 'web_search_call' is not supported"},
          {"responses response message content", resp_resp,
           R"({"id":"resp_1","object":"response","status":"completed","output":[{"type":"message","role":"assistant","content":"hi"}]})",
           "'output[0].content' must be an array"},
          {"responses response usage type", resp_resp,
           R"({"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":"9"}})",
           "'usage.input_tokens' must be an integer"},
          // ---- Gemini requests ----
          {"gemini invalid json", gem_req, R"({"contents":[)", "not valid JSON"},
          {"gemini not an object", gem_req, "[]", "must be a JSON object"},
          {"gemini missing contents", gem_req, "{}", "'contents' is required"},
          {"gemini contents type", gem_req, R"({"contents":{"role":"user"}})",
           "'contents' must be an array"},
          {"gemini contents empty", gem_req, R"({"contents":[]})", "'contents' must not be empty"},
          {"gemini content not object", gem_req, R"({"contents":["hi"]})",
           "'contents[0]' must be an object"},
          {"gemini unknown role", gem_req, R"({"contents":[{"role":"x","parts":[{"text":"hi"}]}]})",
           "field 'contents[0].role' has unknown value 'x'"},
          {"gemini parts missing", gem_req, R"({"contents":[{"role":"user"}]})",
           "'contents[0].parts' must be an array"},
          {"gemini part not object", gem_req, R"({"contents":[{"role":"user","parts":["hi"]}]})",
           "'contents[0].parts[0]' must be an object"},
          {"gemini empty part", gem_req, R"({"contents":[{"role":"user","parts":[{}]}]})",
           "'contents[0].parts[0]' must have a text, inlineData, fileData or functionResponse"},
          {"gemini unknown user part", gem_req,
           R"({"contents":[{"role":"user","parts":[{"executableCode":{"code":"1"}}]}]})",
           "'contents[0].parts[0].executableCode' is not supported in a user turn"},
          {"gemini unknown model part", gem_req,
           R"({"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}]})",
           "'contents[1].parts[0].inlineData' is not supported in a model turn"},
          {"gemini functionCall in user turn", gem_req,
           R"({"contents":[{"role":"user","parts":[{"functionCall":{"name":"f","args":{}}}]}]})",
           "'contents[0].parts[0].functionCall' is not supported in a user turn"},
          {"gemini functionCall args type", gem_req,
           R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":"{}"}}]}]})",
           "'contents[0].parts[0].functionCall.args' must be an object"},
          {"gemini text type", gem_req, R"({"contents":[{"role":"user","parts":[{"text":5}]}]})",
           "'contents[0].parts[0].text' must be a string"},
          {"gemini inlineData document without data", gem_req,
           R"({"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"application/pdf"}}]}]})",
           "'contents[0].parts[0].inlineData.data'"},
          {"gemini inlineData without mimeType", gem_req,
           R"({"contents":[{"role":"user","parts":[{"inlineData":{"data":"AA=="}}]}]})",
           "'contents[0].parts[0].inlineData.mimeType'"},
          {"gemini fileData without fileUri", gem_req,
           R"({"contents":[{"role":"user","parts":[{"fileData":{"mimeType":"application/pdf"}}]}]})",
           "'contents[0].parts[0].fileData.fileUri'"},
          {"gemini fileData snake_case mimeType type", gem_req,
           R"({"contents":[{"role":"user","parts":[{"file_data":{"mime_type":5,"file_uri":"gs://b/a.wav"}}]}]})",
           "'contents[0].parts[0].file_data.mime_type' must be a string"},
          {"gemini orphan functionResponse", gem_req,
           R"({"contents":[{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"result":"1"}}}]}]})",
           "'contents[0].parts[0].functionResponse' answers 'f' but no unanswered functionCall"},
          {"gemini functionResponse answered twice", gem_req,
           R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}},{"functionResponse":{"name":"f","response":{}}}]}]})",
           "'contents[1].parts[1].functionResponse' answers 'f'"},
          {"gemini functionResponse response type", gem_req,
           R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":"ok"}}]}]})",
           "'contents[1].parts[0].functionResponse.response' must be an object"},
          {"gemini functionResponse parts", gem_req,
           R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"f","response":{},"parts":[]}}]}]})",
           "'contents[1].parts[0].functionResponse.parts' is not supported"},
          {"gemini googleSearch tool", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"googleSearch":{}}]})",
           "'tools[0].googleSearch' is not supported"},
          {"gemini codeExecution tool", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"codeExecution":{}}]})",
           "'tools[0].codeExecution' is not supported"},
          {"gemini functionDeclarations type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":{}}]})",
           "'tools[0].functionDeclarations' must be an array"},
          {"gemini declaration parameters type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":"x"}]}]})",
           "'tools[0].functionDeclarations[0].parameters' must be an object"},
          {"gemini toolConfig mode", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}})",
           "'toolConfig.functionCallingConfig.mode' has unknown value 'SOMETIMES'"},
          {"gemini allowedFunctionNames type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":[1]}}})",
           "'toolConfig.functionCallingConfig.allowedFunctionNames' must be an array of strings"},
          {"gemini candidateCount", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"candidateCount":2}})",
           "'generationConfig.candidateCount' must be 1"},
          {"gemini responseMimeType", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"responseMimeType":"text/x.enum"}})",
           "'generationConfig.responseMimeType' 'text/x.enum' is not supported"},
          {"gemini responseSchema type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"responseSchema":"x"}})",
           "'generationConfig.responseSchema' must be an object"},
          {"gemini stopSequences type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"stopSequences":"END"}})",
           "'generationConfig.stopSequences' must be an array of strings"},
          {"gemini maxOutputTokens snake_case type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generation_config":{"max_output_tokens":"9"}})",
           "'generation_config.max_output_tokens' must be an integer"},
          {"gemini thinkingBudget type", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":"lots"}}})",
           "'generationConfig.thinkingConfig.thinkingBudget' must be an integer"},
          {"gemini cachedContent", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"cachedContent":"cachedContents/abc"})",
           "'cachedContent' is not supported"},
          {"gemini cached_content", gem_req,
           R"({"contents":[{"parts":[{"text":"hi"}]}],"cached_content":"cachedContents/abc"})",
           "'cached_content' is not supported"},
          {"gemini systemInstruction part", gem_req,
           R"({"systemInstruction":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]},"contents":[{"parts":[{"text":"hi"}]}]})",
           "'systemInstruction.parts[0].text'"},
          // ---- Gemini responses ----
          {"gemini response invalid json", gem_resp, "{\"candidates\":", "not valid JSON"},
          {"gemini response error body", gem_resp,
           R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})",
           "'error' is set"},
          {"gemini response no candidates", gem_resp, R"({"responseId":"r"})",
           "'candidates' must be a non-empty array"},
          {"gemini response empty candidates", gem_resp,
           R"({"candidates":[],"promptFeedback":{"safetyRatings":[]}})",
           "'candidates' must be a non-empty array"},
          {"gemini response candidate type", gem_resp, R"({"candidates":[5]})",
           "'candidates[0]' must be an object"},
          {"gemini response parts type", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":{}}}]})",
           "'candidates[0].content.parts' must be an array"},
          {"gemini response unknown part", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":[{"executableCode":{"code":"1"}}]}}]})",
           "'candidates[0].content.parts[0].executableCode' is not supported in a model turn"},
          {"gemini response usage type", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]}}],"usageMetadata":{"promptTokenCount":"9"}})",
           "'usageMetadata.promptTokenCount' must be an integer"},
          {"gemini response usage snake_case type", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]}}],"usage_metadata":{"thoughts_token_count":1.5}})",
           "'usage_metadata.thoughts_token_count' must be an integer"},
          {"gemini response usage not object", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]}}],"usageMetadata":[]})",
           "'usageMetadata' must be an object"},
          {"gemini response finishReason type", gem_resp,
           R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":1}]})",
           "'candidates[0].finishReason' must be a string"},
      };
  for (const ErrorCase& c : cases) {
    absl::Status s = c.run(c.body);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), absl::string_view::npos)
        << c.what << ": got '" << s.message() << "'";
  }
}

TEST(TranslateErrors, RenderRejectsWhatTheTargetCannotCarry) {
  // Tool-call arguments that are not a JSON object cannot become tool_use.input.
  auto req = chat::ParseRequest(
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  auto out = messages::RenderRequest(*req, "claude");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  // Images inside tool results have no Chat representation.
  auto mreq = messages::ParseRequest(
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"shot","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}]})");
  ASSERT_TRUE(mreq.ok()) << mreq.status();
  auto cout = chat::RenderRequest(*mreq, "gpt");
  EXPECT_EQ(cout.status().code(), absl::StatusCode::kInvalidArgument);
}

// Parses `body` with `from`, renders the request into `into`; the render must
// fail with InvalidArgument naming `message`.
void ExpectRenderRequestRejected(Protocol from, Protocol into, const std::string& body,
                                 const std::string& message) {
  SCOPED_TRACE(std::string(ProtocolName(from)) + " -> " + std::string(ProtocolName(into)) + ": " +
               body);
  auto req = AdapterFor(from).parse_request(body);
  ASSERT_TRUE(req.ok()) << req.status();
  auto out = AdapterFor(into).render_request(*req, "up");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find(message), absl::string_view::npos) << out.status();
}

void ExpectRenderResponseRejected(Protocol from, Protocol into, const std::string& body,
                                  const std::string& message) {
  SCOPED_TRACE(std::string(ProtocolName(from)) + " -> " + std::string(ProtocolName(into)) + ": " +
               body);
  auto resp = AdapterFor(from).parse_response(body);
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto out = AdapterFor(into).render_response(*resp, "client");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find(message), absl::string_view::npos) << out.status();
}

TEST(TranslateErrors, RenderIntoResponsesRejectsStopSequences) {
  const std::string stop = "stop sequences are not supported";
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kResponses,
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":"END"})", stop);
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kResponses,
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"stop_sequences":["END"]})",
      stop);
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kResponses,
      R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["END"]}})",
      stop);
  // Without stop sequences the same request renders.
  auto req = AdapterFor(Protocol::kChat)
                 .parse_request(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(AdapterFor(Protocol::kResponses).render_request(*req, "up").ok());
}

TEST(TranslateErrors, RenderIntoGeminiRejectsWhatItCannotCarry) {
  // Images inside tool results: functionResponse.response is JSON only.
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kGemini,
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"shot","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}]})",
      "only text tool results");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kGemini,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"shot","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":[{"type":"input_image","image_url":"https://x/y.png"}]}]})",
      "only text tool results");
  // Tool-call arguments that are not a JSON object cannot become args.
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kGemini,
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"[1]"}}]}]})",
      "arguments of tool call 'c1' are not a JSON object");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kGemini,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{not json"}]})",
      "arguments of tool call 'c1' are not a JSON object");
  // A tool result with no call in the request (no parser produces one, but a
  // renderer must not invent the function name).
  CanonicalRequest req;
  ContentPart result;
  result.kind = ContentPart::Kind::kToolResult;
  result.tool_call_id = "call_9";
  result.result.push_back(ContentPart::Text("42"));
  req.messages.push_back(Message{Role::kUser, {ContentPart::Text("hi")}});
  req.messages.push_back(Message{Role::kTool, {result}});
  auto out = AdapterFor(Protocol::kGemini).render_request(req, "gemini");
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find("'call_9' has no matching tool call"),
            absl::string_view::npos)
      << out.status();
}

TEST(TranslateErrors, RenderRejectsDocumentsTheTargetCannotCarry) {
  // Chat takes documents as inline file data only (no file_url).
  const std::string by_url = "a document given by URL cannot be sent to a Chat Completions";
  ExpectRenderRequestRejected(
      Protocol::kMessages, Protocol::kChat,
      R"({"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/d.pdf"}}]}]})",
      by_url);
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kChat,
      R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/d.pdf"}]}]})",
      by_url);
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kChat,
      R"({"contents":[{"parts":[{"fileData":{"mimeType":"application/pdf","fileUri":"gs://b/d.pdf"}}]}]})",
      by_url);
  // Anthropic documents are PDF or plain text.
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"inlineData":{"mimeType":"video/mp4","data":"AAAA"}}]}]})",
      "a document of type 'video/mp4' cannot be sent to an Anthropic upstream");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kMessages,
      R"({"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.docx","file_data":"data:application/vnd.openxmlformats-officedocument.wordprocessingml.document;base64,UEsDBA=="}]}]})",
      "cannot be sent to an Anthropic upstream (it accepts PDF and plain-text documents)");
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"fileData":{"mimeType":"audio/wav","fileUri":"gs://b/a.wav"}}]}]})",
      "a document of type 'audio/wav' cannot be sent to an Anthropic upstream");
  // Plain text travels to Anthropic decoded, so it must be base64 UTF-8.
  ExpectRenderRequestRejected(
      Protocol::kChat, Protocol::kMessages,
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.txt","file_data":"data:text/plain;base64,@@@"}}]}]})",
      "a text/plain document is not valid base64-encoded UTF-8 text");
  ExpectRenderRequestRejected(
      Protocol::kGemini, Protocol::kMessages,
      R"({"contents":[{"parts":[{"inlineData":{"mimeType":"text/plain","data":"/w=="}}]}]})",
      "a text/plain document is not valid base64-encoded UTF-8 text");
  // Documents inside tool results: Chat tool messages and Gemini
  // functionResponse.response carry text only.
  const std::string msg_tool_doc =
      R"({"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"fetch","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}]}]}]})";
  ExpectRenderRequestRejected(Protocol::kMessages, Protocol::kChat, msg_tool_doc,
                              "only text tool results");
  ExpectRenderRequestRejected(Protocol::kMessages, Protocol::kGemini, msg_tool_doc,
                              "only text tool results");
  ExpectRenderRequestRejected(
      Protocol::kResponses, Protocol::kChat,
      R"({"model":"m","input":[{"type":"function_call","call_id":"c1","name":"fetch","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}]}]})",
      "only text tool results");
  // The same tool-result document renders into Responses and Messages.
  auto req = AdapterFor(Protocol::kMessages).parse_request(msg_tool_doc);
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(AdapterFor(Protocol::kResponses).render_request(*req, "up").ok());
  EXPECT_TRUE(AdapterFor(Protocol::kMessages).render_request(*req, "up").ok());
}

TEST(TranslateErrors, RenderResponseRejectsNonObjectArguments) {
  const std::string body =
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{oops"}}]},"finish_reason":"tool_calls"}]})";
  ExpectRenderResponseRejected(Protocol::kChat, Protocol::kGemini, body,
                               "arguments of tool call 'c1' are not a JSON object");
  ExpectRenderResponseRejected(Protocol::kChat, Protocol::kMessages, body,
                               "arguments of tool call 'c1' are not a JSON object");
}

TEST(TranslateCanonical, AbsentFieldsAreOmitted) {
  CanonicalRequest req;
  req.messages.push_back(Message{Role::kUser, {ContentPart::Text("hi")}});
  auto chat_out = chat::RenderRequest(req, "gpt");
  ASSERT_TRUE(chat_out.ok());
  EXPECT_EQ(*chat_out, R"({"model":"gpt","messages":[{"role":"user","content":"hi"}]})");
  auto msg_out = messages::RenderRequest(req, "claude");
  ASSERT_TRUE(msg_out.ok());
  EXPECT_EQ(*msg_out,
            R"({"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]})");
}

// Every fixture (and every truncation of it) through every parser and, when
// it parses, every renderer: statuses are fine, crashes are not.
TEST(TranslateRobustness, AnyInputThroughAnyAdapter) {
  std::vector<std::string> bodies;
  for (const auto& d : fs::recursive_directory_iterator(BR_TESTDATA_DIR)) {
    if (d.is_regular_file() && d.path().extension() == ".json")
      bodies.push_back(ReadFile(d.path()));
  }
  ASSERT_FALSE(bodies.empty());
  size_t parsed = 0;
  constexpr Protocol kAll[] = {Protocol::kChat, Protocol::kResponses, Protocol::kMessages,
                               Protocol::kGemini};
  auto run = [&](const std::string& text) {
    for (Protocol from : kAll) {
      const Adapter& a = AdapterFor(from);
      auto req = a.parse_request(text);
      auto resp = a.parse_response(text);
      for (Protocol into : kAll) {
        const Adapter& b = AdapterFor(into);
        if (req.ok()) {
          ++parsed;
          (void)b.render_request(*req, "m");
        }
        if (resp.ok()) {
          ++parsed;
          (void)b.render_response(*resp, "m");
        }
      }
    }
  };
  for (const std::string& body : bodies) {
    for (size_t len = 0; len < body.size(); len += 7) run(body.substr(0, len));
    run(body);
  }
  EXPECT_GT(parsed, bodies.size());
}

}  // namespace
}  // namespace bitrouter::protocol
