#include "shared/protocol/openai_request.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

namespace bitrouter::protocol {
namespace {

// Copies `body` into a heap buffer with exactly kJsonPadding readable bytes
// after it (filled with garbage, which the contract says is ignored), so ASan
// catches any read beyond the padding.
absl::StatusOr<RequestView> Inspect(std::string_view body, char fill = '}') {
  std::unique_ptr<char[]> buf(new char[body.size() + kJsonPadding]);
  std::copy(body.begin(), body.end(), buf.get());
  std::fill(buf.get() + body.size(), buf.get() + body.size() + kJsonPadding, fill);
  return InspectRequest(buf.get(), body.size());
}

// The bytes of the model value as located in `body`.
std::string_view Token(std::string_view body, const RequestView& v) {
  return body.substr(v.model_begin, v.model_end - v.model_begin);
}

std::string Splice(std::string_view body, const RequestView& v, std::string_view model) {
  std::string out(body.substr(0, v.model_begin));
  AppendJsonString(model, &out);
  out.append(body.substr(v.model_end));
  return out;
}

// ---------------------------------------------------------------------------
// Valid bodies

struct GoodCase {
  std::string name;
  std::string body;
  std::string model;
  std::string token;  // raw bytes of the model value, quotes included
  bool stream;
};

void PrintTo(const GoodCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class InspectGoodTest : public testing::TestWithParam<GoodCase> {};

TEST_P(InspectGoodTest, ReadsModelStreamAndOffsets) {
  const GoodCase& c = GetParam();
  for (char fill : {'}', '\0', '"'}) {
    auto v = Inspect(c.body, fill);
    ASSERT_TRUE(v.ok()) << c.body << ": " << v.status();
    EXPECT_EQ(v->model, c.model);
    EXPECT_EQ(v->stream, c.stream);
    ASSERT_LT(v->model_begin, v->model_end);
    ASSERT_LE(v->model_end, c.body.size());
    EXPECT_EQ(Token(c.body, *v), c.token);
  }
}

TEST_P(InspectGoodTest, SplicingKeepsValidJson) {
  const GoodCase& c = GetParam();
  auto v = Inspect(c.body);
  ASSERT_TRUE(v.ok()) << v.status();
  for (std::string_view replacement : {"x", "gpt-4o", "", "a\"b\\c\n\x01", "\xE2\x82\xAC"}) {
    std::string spliced = Splice(c.body, *v, replacement);
    auto again = Inspect(spliced);
    ASSERT_TRUE(again.ok()) << spliced << ": " << again.status();
    EXPECT_EQ(again->model, replacement) << spliced;
    EXPECT_EQ(again->stream, c.stream);
    EXPECT_EQ(again->model_begin, v->model_begin);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, InspectGoodTest,
    testing::Values(
        GoodCase{"Minimal", R"({"model":"openai:x"})", "openai:x", R"("openai:x")", false},
        GoodCase{"Typical",
                 R"({"model": "openai:gpt-4o", "messages": [{"role": "user", "content": "hi"}]})",
                 "openai:gpt-4o", R"("openai:gpt-4o")", false},
        GoodCase{"ModelLast", R"({"messages":[],"temperature":0.2,"model":"a:b"})", "a:b",
                 R"("a:b")", false},
        GoodCase{"Whitespace", " \n\t{ \"model\" \r\n :\t \"m\" } \n", "m", R"("m")", false},
        GoodCase{"StreamTrue", R"({"model":"m","stream":true})", "m", R"("m")", true},
        GoodCase{"StreamFalse", R"({"stream":false,"model":"m"})", "m", R"("m")", false},
        GoodCase{"StreamNull", R"({"model":"m","stream":null})", "m", R"("m")", false},
        GoodCase{"EscapedQuote", R"({"model":"a\"b"})", "a\"b", R"("a\"b")", false},
        GoodCase{"EscapedBackslashAtEnd", R"({"model":"a\\"})", "a\\", R"("a\\")", false},
        GoodCase{"EscapedBackslashThenQuote", R"({"model":"a\\\"","x":1})", "a\\\"", R"("a\\\"")",
                 false},
        GoodCase{"UnicodeEscape", R"({"model":"gpt\u002d4o"})", "gpt-4o", R"("gpt\u002d4o")",
                 false},
        GoodCase{"SurrogatePair", R"({"model":"\ud83d\ude00"})", "\xF0\x9F\x98\x80",
                 R"("\ud83d\ude00")", false},
        GoodCase{"Utf8", "{\"model\":\"mod\xC3\xA8le\"}", "mod\xC3\xA8le", "\"mod\xC3\xA8le\"",
                 false},
        GoodCase{"EmptyModel", R"({"model":""})", "", R"("")", false},
        GoodCase{"EscapedKey", R"({"mod\u0065l":"k"})", "k", R"("k")", false},
        GoodCase{"NestedModelIgnored",
                 R"({"messages":[{"model":"inner"}],"tools":{"model":"t"},"model":"outer"})",
                 "outer", R"("outer")", false},
        GoodCase{"ModelInsideStringIgnored", R"({"content":"\"model\":\"fake\"","model":"real"})",
                 "real", R"("real")", false},
        GoodCase{"NestedStreamIgnored", R"({"model":"m","opts":{"stream":true}})", "m", R"("m")",
                 false},
        GoodCase{"DeepOtherFields",
                 R"({"a":[[[[{"b":[1,2.5e10,-0,true,false,null,"s"]}]]]],"model":"m"})", "m",
                 R"("m")", false}),
    [](const testing::TestParamInfo<GoodCase>& info) { return info.param.name; });

TEST(InspectTest, SpliceExampleFromRouting) {
  const std::string body = R"({"model":"openai:gpt-4o-mini","stream":true,"messages":[]})";
  auto v = Inspect(body);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(Splice(body, *v, "gpt-4o-mini"),
            R"({"model":"gpt-4o-mini","stream":true,"messages":[]})");
}

TEST(InspectTest, LargeBody) {
  std::string body = R"({"messages":[)";
  for (int i = 0; i < 20000; ++i) body += R"({"role":"user","content":"hello world"},)";
  body += R"({"role":"user","content":"end"}],"model":"p:m"})";
  auto v = Inspect(body);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->model, "p:m");
  EXPECT_EQ(Token(body, *v), R"("p:m")");
  // Then a small body again: the thread-local parsers must not keep stale state.
  v = Inspect(R"({"model":"small"})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->model, "small");
  EXPECT_EQ(v->model_begin, 9u);
}

// ---------------------------------------------------------------------------
// Invalid bodies

struct BadCase {
  std::string name;
  std::string body;
  std::string want;  // message prefix
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class InspectBadTest : public testing::TestWithParam<BadCase> {};

TEST_P(InspectBadTest, Rejects) {
  const BadCase& c = GetParam();
  auto v = Inspect(c.body);
  ASSERT_FALSE(v.ok()) << c.body << " -> model " << v->model;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(v.status().message().substr(0, c.want.size())), c.want)
      << v.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, InspectBadTest,
    testing::Values(
        BadCase{"Empty", "", "request body is not valid JSON"},
        BadCase{"OnlySpace", "  \n", "request body is not valid JSON"},
        BadCase{"Truncated", R"({"model":"m")", "request body is not valid JSON"},
        BadCase{"TruncatedString", R"({"model":"m)", "request body is not valid JSON"},
        BadCase{"TrailingGarbage", R"({"model":"m"} x)", "request body is not valid JSON"},
        BadCase{"TwoDocuments", R"({"model":"m"}{"model":"n"})", "request body is not valid JSON"},
        BadCase{"TrailingComma", R"({"model":"m",})", "request body is not valid JSON"},
        BadCase{"SingleQuotes", R"({'model':'m'})", "request body is not valid JSON"},
        BadCase{"Comment", "{\"model\":\"m\" /* c */}", "request body is not valid JSON"},
        BadCase{"RawControlCharInString", "{\"model\":\"a\nb\"}", "request body is not valid JSON"},
        BadCase{"BadEscape", R"({"model":"\x"})", "request body is not valid JSON"},
        BadCase{"LoneSurrogate", R"({"model":"\ud83d"})", "request body is not valid JSON"},
        BadCase{"InvalidUtf8", "{\"model\":\"\xFF\"}", "request body is not valid JSON"},
        BadCase{"OverlongUtf8", "{\"model\":\"\xC0\xAF\"}", "request body is not valid JSON"},
        BadCase{"InvalidUtf8Elsewhere", "{\"model\":\"m\",\"x\":\"\xE2\x82\"}",
                "request body is not valid JSON"},
        BadCase{"NulByte", std::string("{\"model\":\"m\"}\0", 14),
                "request body is not valid JSON"},
        BadCase{"Array", R"([{"model":"m"}])", "request body must be a JSON object"},
        BadCase{"String", R"("model")", "request body must be a JSON object"},
        BadCase{"Number", "42", "request body must be a JSON object"},
        BadCase{"Null", "null", "request body must be a JSON object"},
        BadCase{"MissingModel", R"({"messages":[]})", "missing required field 'model'"},
        BadCase{"EmptyObject", "{}", "missing required field 'model'"},
        BadCase{"OnlyNestedModel", R"({"x":{"model":"m"}})", "missing required field 'model'"},
        BadCase{"ModelCase", R"({"Model":"m"})", "missing required field 'model'"},
        BadCase{"ModelNull", R"({"model":null})", "field 'model' must be a string"},
        BadCase{"ModelNumber", R"({"model":4})", "field 'model' must be a string"},
        BadCase{"ModelObject", R"({"model":{"id":"m"}})", "field 'model' must be a string"},
        BadCase{"ModelArray", R"({"model":["m"]})", "field 'model' must be a string"},
        BadCase{"StreamString", R"({"model":"m","stream":"true"})",
                "field 'stream' must be a boolean"},
        BadCase{"StreamNumber", R"({"model":"m","stream":1})", "field 'stream' must be a boolean"},
        BadCase{"StreamObject", R"({"model":"m","stream":{}})", "field 'stream' must be a boolean"},
        // Upstreams often keep the last duplicate; we would route on the first.
        BadCase{"DuplicateModel", R"({"model":"openai:cheap","model":"expensive"})",
                "duplicate field 'model'"},
        BadCase{"DuplicateModelEscaped", R"({"model":"a:b","mod\u0065l":"c"})",
                "duplicate field 'model'"},
        BadCase{"DuplicateStream", R"({"model":"m","stream":false,"stream":true})",
                "duplicate field 'stream'"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(InspectTest, DeepNestingIsAnErrorNotACrash) {
  std::string body = R"({"model":"m","x":)";
  body += std::string(100000, '[');
  body += std::string(100000, ']');
  body += "}";
  auto v = Inspect(body);
  EXPECT_FALSE(v.ok());
}

// ---------------------------------------------------------------------------
// AppendJsonString

TEST(AppendJsonStringTest, Escapes) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"q\"uote", R"("q\"uote")"},
      {"back\\slash", R"("back\\slash")"},
      {"nl\ncr\rtab\t", R"("nl\ncr\rtab\t")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
      {"\b\f", R"("\u0008\u000c")"},
      {"/ stays", R"("/ stays")"},
      {"\xE2\x82\xAC \xF0\x9F\x98\x80", "\"\xE2\x82\xAC \xF0\x9F\x98\x80\""},
  };
  for (const Case& c : cases) {
    std::string out = "prefix:";
    AppendJsonString(c.in, &out);
    EXPECT_EQ(out, "prefix:" + c.out);
  }
}

TEST(AppendJsonStringTest, EveryByteRoundTrips) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  std::string json;
  AppendJsonString(all, &json);
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  std::string_view back;
  ASSERT_EQ(parser.parse(padded).get_string().get(back), simdjson::SUCCESS) << json;
  EXPECT_EQ(back, all);
}

}  // namespace
}  // namespace bitrouter::protocol
