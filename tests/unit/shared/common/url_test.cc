#include "shared/common/url.h"

#include <gtest/gtest.h>

#include <string>

#include "shared/common/log.h"

namespace bitrouter {
namespace {

struct GoodUrl {
  std::string input;
  bool tls;
  std::string host;
  uint16_t port;
  std::string path;
  std::string host_header;
  std::string origin;
};

void PrintTo(const GoodUrl& c, std::ostream* os) { *os << testing::PrintToString(c.input); }

class ParseUrlGoodTest : public testing::TestWithParam<GoodUrl> {};

TEST_P(ParseUrlGoodTest, Parses) {
  const GoodUrl& c = GetParam();
  auto url = ParseUrl(c.input);
  ASSERT_TRUE(url.ok()) << c.input << ": " << url.status();
  EXPECT_EQ(url->tls, c.tls);
  EXPECT_EQ(url->host, c.host);
  EXPECT_EQ(url->port, c.port);
  EXPECT_EQ(url->path, c.path);
  EXPECT_EQ(url->HostHeader(), c.host_header);
  EXPECT_EQ(url->Origin(), c.origin);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseUrlGoodTest,
    testing::Values(GoodUrl{"http://example.com", false, "example.com", 80, "", "example.com",
                            "http://example.com:80"},
                    GoodUrl{"https://api.openai.com/v1", true, "api.openai.com", 443, "/v1",
                            "api.openai.com", "https://api.openai.com:443"},
                    GoodUrl{"https://api.openai.com/v1/", true, "api.openai.com", 443, "/v1",
                            "api.openai.com", "https://api.openai.com:443"},
                    GoodUrl{"https://h/v1///", true, "h", 443, "/v1", "h", "https://h:443"},
                    GoodUrl{"http://h/", false, "h", 80, "", "h", "http://h:80"},
                    GoodUrl{"http://127.0.0.1:8080", false, "127.0.0.1", 8080, "", "127.0.0.1:8080",
                            "http://127.0.0.1:8080"},
                    GoodUrl{"http://localhost:1/a/b/c", false, "localhost", 1, "/a/b/c",
                            "localhost:1", "http://localhost:1"},
                    GoodUrl{"https://h:65535", true, "h", 65535, "", "h:65535", "https://h:65535"},
                    // Default ports are omitted from Host, explicit or not.
                    GoodUrl{"http://h:80/x", false, "h", 80, "/x", "h", "http://h:80"},
                    GoodUrl{"https://h:443", true, "h", 443, "", "h", "https://h:443"},
                    // A non-default port for the scheme is kept.
                    GoodUrl{"https://h:80", true, "h", 80, "", "h:80", "https://h:80"},
                    GoodUrl{"http://h:443", false, "h", 443, "", "h:443", "http://h:443"},
                    // IPv6 literals: host is stored without brackets; Host header re-adds them.
                    GoodUrl{"http://[::1]", false, "::1", 80, "", "[::1]", "http://::1:80"},
                    GoodUrl{"http://[::1]:8080/v1/", false, "::1", 8080, "/v1", "[::1]:8080",
                            "http://::1:8080"},
                    GoodUrl{"https://[2001:db8::7]/api", true, "2001:db8::7", 443, "/api",
                            "[2001:db8::7]", "https://2001:db8::7:443"},
                    GoodUrl{"https://dashscope-intl.aliyuncs.com/compatible-mode/v1", true,
                            "dashscope-intl.aliyuncs.com", 443, "/compatible-mode/v1",
                            "dashscope-intl.aliyuncs.com",
                            "https://dashscope-intl.aliyuncs.com:443"}));

struct BadUrl {
  std::string input;
  std::string fragment;  // expected in the message
};

void PrintTo(const BadUrl& c, std::ostream* os) { *os << testing::PrintToString(c.input); }

class ParseUrlBadTest : public testing::TestWithParam<BadUrl> {};

TEST_P(ParseUrlBadTest, Rejects) {
  const BadUrl& c = GetParam();
  auto url = ParseUrl(c.input);
  ASSERT_FALSE(url.ok()) << c.input << " parsed as host=" << url->host << " port=" << url->port
                         << " path=" << url->path;
  EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(url.status().message().find(c.fragment), absl::string_view::npos)
      << c.input << ": " << url.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseUrlBadTest,
    testing::Values(BadUrl{"", "must start with http:// or https://"},
                    BadUrl{"example.com", "must start with http:// or https://"},
                    BadUrl{"ftp://example.com", "must start with http:// or https://"},
                    BadUrl{"ws://example.com", "must start with http:// or https://"},
                    BadUrl{"unix:///tmp/sock", "must start with http:// or https://"},
                    BadUrl{"http:/example.com", "must start with http:// or https://"},
                    BadUrl{"http://user:pass@example.com", "credentials"},
                    BadUrl{"https://user@example.com/v1", "credentials"},
                    BadUrl{"https://example.com/v1?key=abc", "query strings and fragments"},
                    BadUrl{"https://example.com/v1#frag", "query strings and fragments"},
                    BadUrl{"https://example.com?", "query strings and fragments"},
                    BadUrl{"http://", "missing host"}, BadUrl{"https:///v1", "missing host"},
                    BadUrl{"http://h:", "bad port"}, BadUrl{"http://h:0", "bad port"},
                    BadUrl{"http://h:65536", "bad port"},
                    BadUrl{"http://h:99999999999", "bad port"}, BadUrl{"http://h:-1", "bad port"},
                    BadUrl{"http://h:http", "bad port"}, BadUrl{"http://:80", "bad port"},
                    BadUrl{"http://[::1]:", "bad port"}, BadUrl{"http://[::1]:x", "bad port"},
                    BadUrl{"http://[::1", "bad IPv6 host"},
                    BadUrl{"http://[::1]x", "bad IPv6 host"}, BadUrl{"http://[]", "bad host"},
                    BadUrl{"http://[]:80", "bad port"}, BadUrl{"http://ho st/", "bad host"},
                    BadUrl{"http://h\\x/", "bad host"}, BadUrl{"http://[a]b]", "bad host"},
                    // IPv6 literals need brackets; "fe80::1" is not host "fe80:" port 1.
                    BadUrl{"http://fe80::1/v1", "bad port"}, BadUrl{"http://::1:8080", "bad port"},
                    BadUrl{std::string("http://h\0x", 10), "bad host"},
                    // Bytes that would corrupt the request line.
                    BadUrl{"http://h/v1 HTTP/1.1", "bad path"},
                    BadUrl{"http://h/v1\r\nX-Evil: 1", "bad path"},
                    BadUrl{"http://h/v\x7f", "bad path"}));

struct HostPortCase {
  std::string input;
  bool ok;
  std::string host;
  uint16_t port;
};

void PrintTo(const HostPortCase& c, std::ostream* os) { *os << testing::PrintToString(c.input); }

class ParseHostPortTest : public testing::TestWithParam<HostPortCase> {};

TEST_P(ParseHostPortTest, Table) {
  const HostPortCase& c = GetParam();
  std::string host = "unchanged";
  uint16_t port = 7;
  absl::Status s = ParseHostPort(c.input, &host, &port);
  EXPECT_EQ(s.ok(), c.ok) << c.input << ": " << s;
  if (c.ok) {
    EXPECT_EQ(host, c.host);
    EXPECT_EQ(port, c.port);
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(host, "unchanged") << "outputs must not change on error";
    EXPECT_EQ(port, 7);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseHostPortTest,
    testing::Values(HostPortCase{"127.0.0.1:4356", true, "127.0.0.1", 4356},
                    HostPortCase{"localhost:0", true, "localhost", 0},
                    HostPortCase{"0.0.0.0:65535", true, "0.0.0.0", 65535},
                    HostPortCase{"[::1]:8080", true, "::1", 8080},
                    HostPortCase{"[::]:0", true, "::", 0}, HostPortCase{"localhost", false, "", 0},
                    HostPortCase{"", false, "", 0}, HostPortCase{":80", false, "", 0},
                    HostPortCase{"h:", false, "", 0}, HostPortCase{"h:65536", false, "", 0},
                    HostPortCase{"h:-1", false, "", 0}, HostPortCase{"h:abc", false, "", 0},
                    HostPortCase{"[::1]", false, "", 0}, HostPortCase{"[::1]8080", false, "", 0},
                    HostPortCase{"[::1]:", false, "", 0}, HostPortCase{"[]:80", false, "", 0},
                    HostPortCase{"[::1:80", false, "", 0}, HostPortCase{"fe80::1", false, "", 0},
                    HostPortCase{"::1:80", false, "", 0}, HostPortCase{"[[a]:1", false, "", 0},
                    HostPortCase{"[a[b]:1", false, "", 0}, HostPortCase{"a]:1", false, "", 0}));

TEST(ParseHostPortTest, ErrorNamesTheInput) {
  std::string host;
  uint16_t port;
  absl::Status s = ParseHostPort("nonsense", &host, &port);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'nonsense'"), absl::string_view::npos) << s;
  s = ParseHostPort("[::1", &host, &port);
  EXPECT_NE(s.message().find("[ipv6]:port"), absl::string_view::npos) << s;
}

TEST(ParseLevelTest, KnownNames) {
  struct Case {
    const char* text;
    log::Level level;
  };
  const Case cases[] = {{"trace", log::Level::kTrace},  {"debug", log::Level::kDebug},
                        {"info", log::Level::kInfo},    {"warn", log::Level::kWarn},
                        {"warning", log::Level::kWarn}, {"error", log::Level::kError}};
  for (const Case& c : cases) {
    log::Level out = log::Level::kError;
    if (c.level == log::Level::kError) out = log::Level::kTrace;
    EXPECT_TRUE(log::ParseLevel(c.text, &out)) << c.text;
    EXPECT_EQ(out, c.level) << c.text;
  }
}

TEST(ParseLevelTest, UnknownNamesLeaveOutputAlone) {
  for (const char* text : {"", "INFO", "Info", "fatal", "info ", " info", "warnings", "err"}) {
    log::Level out = log::Level::kDebug;
    EXPECT_FALSE(log::ParseLevel(text, &out)) << "'" << text << "'";
    EXPECT_EQ(out, log::Level::kDebug);
  }
}

}  // namespace
}  // namespace bitrouter
