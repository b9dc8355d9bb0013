#include "shared/common/header_text.h"

#include <gtest/gtest.h>

#include <string>

namespace bitrouter {
namespace {

TEST(HeaderTextTest, ValuesRejectControlBytesButKeepTabsAndObsText) {
  EXPECT_TRUE(IsHeaderValueText("sk-abc 123\tx"));
  EXPECT_TRUE(IsHeaderValueText("caf\xc3\xa9"));
  EXPECT_TRUE(IsHeaderValueText(""));
  for (char c : {'\r', '\n', '\0', '\x01', '\x1f', '\x7f'}) {
    EXPECT_FALSE(IsHeaderValueText(std::string("a") + c + "b")) << static_cast<int>(c);
  }
}

TEST(HeaderTextTest, NamesAreTokens) {
  EXPECT_TRUE(IsHeaderName("x-api-key"));
  EXPECT_TRUE(IsHeaderName("X_Custom!#$%&'*+.^`|~9"));
  EXPECT_FALSE(IsHeaderName(""));
  EXPECT_FALSE(IsHeaderName("x key"));
  EXPECT_FALSE(IsHeaderName("x:key"));
  EXPECT_FALSE(IsHeaderName("x\r\nkey"));
}

TEST(HeaderTextTest, MessagesNameTheFieldAndNeverShowTheValue) {
  absl::Status s = CheckHeaderValue("providers.a.api_key", "sk-secret\r\nX-Evil: 1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::string m(s.message());
  EXPECT_EQ(m.find("providers.a.api_key: contains a byte not allowed"), 0u) << m;
  EXPECT_EQ(m.find("sk-secret"), std::string::npos) << m;
  EXPECT_TRUE(CheckHeaderValue("f", "fine").ok());
  std::string n(CheckHeaderName("auth.header_name", "a\nb").message());
  EXPECT_EQ(n,
            "auth.header_name: 'a?b' is not a valid header name (letters, digits and "
            "!#$%&'*+-.^_`|~ only)");
}

}  // namespace
}  // namespace bitrouter
