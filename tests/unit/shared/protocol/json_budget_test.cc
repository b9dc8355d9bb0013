#include "shared/protocol/json_budget.h"

#include <gtest/gtest.h>

#include <string>

namespace bitrouter::protocol {
namespace {

TEST(JsonBudget, CountsObjectsNotBracesInsideStrings) {
  EXPECT_TRUE(CheckJsonObjectBudget(R"({"a":{"b":{}}})", 3).ok());
  EXPECT_FALSE(CheckJsonObjectBudget(R"({"a":{"b":{}}})", 2).ok());
  // Braces inside strings, escaped quotes and backslashes do not count.
  EXPECT_TRUE(CheckJsonObjectBudget(R"({"code":"{{{{ \" {{{ \\","x":"{"})", 1).ok());
  EXPECT_FALSE(CheckJsonObjectBudget(R"({"code":"\\"},{"y":{}})", 2).ok());
}

TEST(JsonBudget, MalformedInputIsLeftToTheParser) {
  EXPECT_TRUE(CheckJsonObjectBudget(R"({"unterminated: {{{{)", 1).ok());
  EXPECT_TRUE(CheckJsonObjectBudget("", 0).ok());
}

TEST(JsonBudget, ManyTinyPartsAreRefusedWithAClearMessage) {
  std::string body = "[";
  for (int i = 0; i < 1000; ++i) body += R"({"type":"text","text":"a"},)";
  body += "{}]";
  absl::Status s = CheckJsonObjectBudget(body, 1000);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("more than 1000 JSON objects"), std::string::npos);
  EXPECT_TRUE(CheckJsonObjectBudget(body, 1001).ok());
}

}  // namespace
}  // namespace bitrouter::protocol
