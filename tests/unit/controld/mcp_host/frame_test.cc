#include "controld/mcp_host/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "controld/mcp_host/control_protocol.h"

namespace bitrouter::mcphost {
namespace {

TEST(LineSplitterTest, SplitsAcrossFeedsAndSkipsEmptyLines) {
  LineSplitter s(64);
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) {
    lines.emplace_back(l);
    return absl::OkStatus();
  };
  ASSERT_TRUE(s.Feed("ab", collect).ok());
  ASSERT_TRUE(s.Feed("c\r\n\nd", collect).ok());
  ASSERT_TRUE(s.Feed("e\n", collect).ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"abc", "de"}));
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(LineSplitterTest, ALineOverTheCapIsAnError) {
  LineSplitter s(4);
  auto ignore = [](std::string_view) { return absl::OkStatus(); };
  EXPECT_TRUE(s.Feed("abcd\n", ignore).ok());
  EXPECT_FALSE(s.Feed("abcde", ignore).ok());
  LineSplitter t(4);
  EXPECT_TRUE(t.Feed("ab", ignore).ok());
  EXPECT_FALSE(t.Feed("cde\n", ignore).ok());
}

TEST(FrameTest, RoundTrip) {
  std::string line = FrameLine("srv", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "1");
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  auto f = ParseFrame(line);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->server, "srv");
  EXPECT_EQ(f->message, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
  EXPECT_EQ(f->for_id, "1");
}

TEST(FrameTest, MalformedFramesAreErrors) {
  for (const char* bad :
       {"", "x", "[]", "{}", "{\"server\":1,\"message\":{}}", "{\"server\":\"a\"}",
        "{\"server\":\"a\",\"message\":[]}", "{\"server\":\"a\",\"message\":{},\"for\":{}}"}) {
    EXPECT_FALSE(ParseFrame(bad).ok()) << bad;
  }
}

TEST(ControlProtocolTest, DesiredSetRoundTrip) {
  DesiredSet set;
  set["a"] = ServerSpec{"/usr/bin/node", {"x.mjs", "--flag", "quote\"d"}, {{"K", "v\n"}}, "/tmp"};
  set["b"] = ServerSpec{"cmd", {}, {}, ""};
  std::string line = DesiredSetLine(set);
  line.pop_back();
  auto parsed = ParseDesiredSet(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, set);
  EXPECT_FALSE(ParseDesiredSet("{\"servers\":{\"a\":{}}}").ok());
  EXPECT_FALSE(ParseDesiredSet("{\"servers\":{\"a\":{\"command\":\"x\",\"args\":[1]}}}").ok());
}

TEST(ControlProtocolTest, StatusRoundTrip) {
  std::vector<ServerStatus> status = {{"a", 12, 3, "ready", ""},
                                      {"b", 0, 0, "backoff", "exited with status 1"}};
  std::string line = StatusLine(status);
  line.pop_back();
  auto parsed = ParseStatus(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, status);
  EXPECT_FALSE(ParseStatus("{\"status\":[{\"id\":\"a\"}]}").ok());
}

}  // namespace
}  // namespace bitrouter::mcphost
