#include "shared/protocol/openai_errors.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace bitrouter::protocol {
namespace {

// Parses `json` and returns error.<field>, or "<absent>" / "<invalid>".
std::string Field(const std::string& json, const char* field) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) return "<invalid>";
  std::string_view value;
  auto err = root["error"][field].get_string().get(value);
  if (err == simdjson::NO_SUCH_FIELD) return "<absent>";
  if (err) return "<invalid>";
  return std::string(value);
}

TEST(RenderOpenAIErrorTest, ExactShape) {
  EXPECT_EQ(RenderOpenAIError({404, "invalid_request_error", "model_not_found", "no such model"}),
            R"({"error":{"message":"no such model","type":"invalid_request_error",)"
            R"("code":"model_not_found"}})");
}

TEST(RenderOpenAIErrorTest, EmptyCodeIsOmitted) {
  std::string json = RenderOpenAIError({500, "server_error", "", "boom"});
  EXPECT_EQ(json, R"({"error":{"message":"boom","type":"server_error"}})");
  EXPECT_EQ(Field(json, "code"), "<absent>");
}

TEST(RenderOpenAIErrorTest, EscapesMessage) {
  struct Case {
    std::string message;
    std::string escaped;  // as it appears between the quotes
  };
  const Case cases[] = {
      {"model 'a\"b' not found", R"(model 'a\"b' not found)"},
      {"C:\\path", R"(C:\\path)"},
      {"line1\nline2\r\n", R"(line1\nline2\r\n)"},
      {"tab\there", R"(tab\there)"},
      {std::string("nul\0byte", 8), R"(nul\u0000byte)"},
      {"bell\x07 esc\x1b", R"(bell\u0007 esc\u001b)"},
      {"</script>", "</script>"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
      {"", ""},
  };
  for (const Case& c : cases) {
    std::string json = RenderOpenAIError({400, "invalid_request_error", "bad", c.message});
    EXPECT_EQ(json, R"({"error":{"message":")" + c.escaped +
                        R"(","type":"invalid_request_error","code":"bad"}})");
    EXPECT_EQ(Field(json, "message"), c.message) << json;
    EXPECT_EQ(Field(json, "type"), "invalid_request_error");
    EXPECT_EQ(Field(json, "code"), "bad");
  }
}

TEST(RenderOpenAIErrorTest, EscapesTypeAndCode) {
  std::string json = RenderOpenAIError({400, "t\"y", "c\\d\n", "m"});
  EXPECT_EQ(Field(json, "type"), "t\"y") << json;
  EXPECT_EQ(Field(json, "code"), "c\\d\n") << json;
}

TEST(RenderOpenAIErrorTest, AllControlCharactersStayValidJson) {
  std::string message;
  for (int c = 0; c < 0x20; ++c) message.push_back(static_cast<char>(c));
  message += "\"\\\x7f end";
  std::string json = RenderOpenAIError({502, "upstream_error", "bad_gateway", message});
  for (char c : json) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control char";
  EXPECT_EQ(Field(json, "message"), message);
}

TEST(RenderOpenAIStreamErrorTest, IsOneSseEvent) {
  HttpError error{502, "upstream_error", "upstream_disconnected", "upstream\nclosed"};
  std::string event = RenderOpenAIStreamError(error);
  EXPECT_EQ(event, "data: " + RenderOpenAIError(error) + "\n\n");
  // A newline in the message must not split the SSE event.
  std::string payload = event.substr(6, event.size() - 8);
  EXPECT_EQ(payload.find('\n'), std::string::npos);
  EXPECT_EQ(payload.find('\r'), std::string::npos);
  EXPECT_EQ(Field(payload, "message"), "upstream\nclosed");
}

TEST(ReasonPhraseTest, Table) {
  struct Case {
    int status;
    std::string_view phrase;
  };
  const Case cases[] = {{200, "OK"},
                        {201, "Created"},
                        {204, "No Content"},
                        {400, "Bad Request"},
                        {401, "Unauthorized"},
                        {402, "Payment Required"},
                        {403, "Forbidden"},
                        {404, "Not Found"},
                        {405, "Method Not Allowed"},
                        {408, "Request Timeout"},
                        {409, "Conflict"},
                        {411, "Length Required"},
                        {413, "Payload Too Large"},
                        {415, "Unsupported Media Type"},
                        {422, "Unprocessable Entity"},
                        {429, "Too Many Requests"},
                        {431, "Request Header Fields Too Large"},
                        {500, "Internal Server Error"},
                        {501, "Not Implemented"},
                        {502, "Bad Gateway"},
                        {503, "Service Unavailable"},
                        {504, "Gateway Timeout"},
                        {0, "Unknown"},
                        {-1, "Unknown"},
                        {299, "Unknown"},
                        {999, "Unknown"}};
  for (const Case& c : cases) EXPECT_EQ(ReasonPhrase(c.status), c.phrase) << c.status;
}

}  // namespace
}  // namespace bitrouter::protocol
