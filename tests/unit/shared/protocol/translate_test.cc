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

namespace bitrouter::protocol {
namespace {

namespace fs = std::filesystem;
using Translate = std::function<absl::StatusOr<std::string>(const std::string&)>;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Pretty(const rapidjson::Document& d) {
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return buf.GetString();
}

// Response fixtures without a `created` (Messages, Gemini) get this one.
constexpr int64_t kCreated = 1700000000;

std::optional<Protocol> ByName(std::string_view name) {
  for (Protocol p :
       {Protocol::kChat, Protocol::kResponses, Protocol::kMessages, Protocol::kGemini}) {
    if (ProtocolName(p) == name) return p;
  }
  return std::nullopt;
}

// The model names the fixtures expect: upstream models in requests, client
// models in responses.
std::string UpstreamModel(Protocol p) {
  switch (p) {
    case Protocol::kMessages:
      return "claude-up";
    case Protocol::kGemini:
      return "gemini-up";
    default:
      return "gpt-up";
  }
}
std::string ClientModel(Protocol p) {
  switch (p) {
    case Protocol::kMessages:
      return "claude-client";
    case Protocol::kGemini:
      return "gemini-client";
    default:
      return "gpt-client";
  }
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
  EXPECT_EQ(out->find("null"), std::string::npos) << "renderers never write null";
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
  const ErrorCase cases[] = {
      {"chat invalid json", chat_req, R"({"model":)", "not valid JSON"},
      {"messages invalid json", msg_req, "nope", "not valid JSON"},
      {"chat not an object", chat_req, "[1,2]", "must be a JSON object"},
      {"chat missing model", chat_req, R"({"messages":[]})", "'model'"},
      {"chat model type", chat_req, R"({"model":5,"messages":[]})", "'model' must be a string"},
      {"chat messages type", chat_req, R"({"model":"m","messages":{}})", "must be an array"},
      {"chat empty messages", chat_req, R"({"model":"m","messages":[]})", "'messages'"},
      {"chat unknown role", chat_req,
       R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})",
       "'messages[0].role' has unknown value 'wizard'"},
      {"chat content type", chat_req, R"({"model":"m","messages":[{"role":"user","content":7}]})",
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
      {"messages system role", msg_req,
       R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
       "'messages[0].role' has unknown value 'system'"},
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
      {"messages document block", msg_req,
       R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document"}]}]})",
       "'document' is not supported"},
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
