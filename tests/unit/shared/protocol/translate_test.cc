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
    FillMissingIds(&*parsed, "gen-golden");  // as the worker does, with a random id
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
