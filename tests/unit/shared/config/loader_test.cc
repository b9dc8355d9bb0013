// Loader tests: defaults, server/upstream fields, durations, and the error
// messages ("file:line: field.path: why") for bad input. Provider merging and
// the manual's reference config are in loader_providers_test.cc.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "shared/common/url.h"
#include "shared/config/loader.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml, const EnvMap& env = {}) {
  return ParseConfig(yaml, "cfg.yaml", env);
}

// ---------------------------------------------------------------------------
// Defaults

void ExpectDefaults(const Config& cfg) {
  EXPECT_EQ(cfg.server.listen, "127.0.0.1:4356");
  EXPECT_EQ(cfg.server.workers, 0u);
  EXPECT_EQ(cfg.server.log_level, "info");
  EXPECT_EQ(cfg.server.drain_timeout_ms, 30'000u);
  EXPECT_EQ(cfg.server.header_timeout_ms, 10'000u);
  EXPECT_EQ(cfg.server.keepalive_timeout_ms, 75'000u);
  EXPECT_EQ(cfg.timeouts.connect_ms, 10'000u);
  EXPECT_EQ(cfg.timeouts.first_byte_ms, 600'000u);
  EXPECT_EQ(cfg.timeouts.idle_ms, 60'000u);
  EXPECT_EQ(cfg.timeouts.stream_first_byte_ms, 30'000u);
  EXPECT_EQ(cfg.timeouts.first_event_ms, 60'000u);
  EXPECT_EQ(cfg.failover.retry_after_wait_ms, 5'000u);
  EXPECT_EQ(cfg.timeouts.total_ms, 0u);
  EXPECT_EQ(cfg.limits.max_body_bytes, 16u << 20);
  EXPECT_EQ(cfg.ca_file, "");
  EXPECT_TRUE(cfg.inherit_defaults);
  EXPECT_TRUE(cfg.warnings.empty());
  for (const char* name :
       {"openai", "anthropic", "google", "openrouter", "deepseek", "mistral", "groq", "xai",
        "together", "fireworks", "moonshot", "zai", "qwen", "minimax"}) {
    auto it = cfg.providers.find(name);
    ASSERT_NE(it, cfg.providers.end()) << name;
    EXPECT_TRUE(it->second.builtin) << name;
    EXPECT_FALSE(it->second.active) << name << " is active with an empty environment";
    EXPECT_EQ(it->second.name, name);
    EXPECT_FALSE(it->second.api_base.empty()) << name;
    EXPECT_TRUE(bitrouter::ParseUrl(it->second.api_base).ok())
        << name << ": " << it->second.api_base;
  }
}

TEST(LoaderDefaultsTest, MissingFileMeansDefaults) {
  auto cfg = LoadConfigFile("/nonexistent-dir-for-bitrouter-tests/bitrouter.yaml", {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->source, "(defaults)");
  ExpectDefaults(*cfg);
}

TEST(LoaderDefaultsTest, EmptyOrCommentOnlyFileMeansDefaults) {
  for (const char* yaml : {"", "\n", "# nothing here\n", "---\n", "~\n", "{}\n"}) {
    SCOPED_TRACE(testing::Message() << "yaml: '" << yaml << "'");
    auto cfg = Parse(yaml);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    EXPECT_EQ(cfg->source, "cfg.yaml");
    ExpectDefaults(*cfg);
  }
}

TEST(LoaderDefaultsTest, EmptySectionsAreAllowed) {
  // Every field of a section commented out leaves a null section.
  auto cfg = Parse("server:\n  # listen: 0.0.0.0:1\nupstream:\nproviders:\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ExpectDefaults(*cfg);
}

// ---------------------------------------------------------------------------
// server / upstream

TEST(LoaderServerTest, AllFields) {
  auto cfg = Parse(R"(
server:
  listen: "[::1]:0"
  workers: 4
  log_level: debug
  drain_timeout: 5s
  header_timeout: 250ms
  keepalive_timeout: 2m
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server.listen, "[::1]:0");
  EXPECT_EQ(cfg->server.workers, 4u);
  EXPECT_EQ(cfg->server.log_level, "debug");
  EXPECT_EQ(cfg->server.drain_timeout_ms, 5'000u);
  EXPECT_EQ(cfg->server.header_timeout_ms, 250u);
  EXPECT_EQ(cfg->server.keepalive_timeout_ms, 120'000u);
}

TEST(LoaderServerTest, EveryLogLevel) {
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    auto cfg = Parse(std::string("server: {log_level: ") + level + "}");
    ASSERT_TRUE(cfg.ok()) << level << ": " << cfg.status();
    EXPECT_EQ(cfg->server.log_level, level);
  }
}

TEST(LoaderServerTest, WorkersBounds) {
  auto cfg = Parse("server: {workers: 0}");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server.workers, 0u);
  cfg = Parse("server: {workers: 256}");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server.workers, 256u);
}

TEST(LoaderServerTest, ValuesAreSubstituted) {
  auto cfg = Parse(R"(
server:
  listen: "${BR_LISTEN:-127.0.0.1:0}"
  workers: "${BR_WORKERS}"
  log_level: ${BR_LEVEL:-warn}
)",
                   {{"BR_WORKERS", "3"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server.listen, "127.0.0.1:0");
  EXPECT_EQ(cfg->server.workers, 3u);
  EXPECT_EQ(cfg->server.log_level, "warn");
}

TEST(LoaderServerTest, ControlSocketAndSkipAuthAreRead) {
  auto cfg = Parse("server:\n  control:\n    socket: x.sock\n  skip_auth: false\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->server.control_socket, "x.sock");
  EXPECT_TRUE(cfg->warnings.empty());
  EXPECT_FALSE(cfg->server.skip_auth);
  EXPECT_EQ(cfg->server.skip_auth_line, 4);
  EXPECT_TRUE(Parse("server: {}\n")->server.skip_auth) << "the zero-config default";
  auto bad = Parse("server:\n  control:\n    sock: x\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("server.control.sock: unknown key"),
            std::string::npos)
      << bad.status();
}

TEST(LoaderServerTest, SkipAuthIsHonouredOnlyOnLoopback) {
  for (const char* listen : {"127.0.0.1:4356", "127.1.2.3:0", "[::1]:80", "localhost:8787"}) {
    EXPECT_TRUE(IsLoopbackListen(listen)) << listen;
  }
  for (const char* listen :
       {"0.0.0.0:4356", ":4356", "[::]:1", "10.0.0.1:80", "127.0.0.1.evil:1", "example.com:80"}) {
    EXPECT_FALSE(IsLoopbackListen(listen)) << listen;
  }
  auto open = Parse("server:\n  listen: 0.0.0.0:4356\n  skip_auth: true\n");
  ASSERT_TRUE(open.ok());
  absl::Status s = CheckAuthMode(*open, open->server.listen);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find(":3: server.skip_auth: true"), std::string::npos) << s;
  auto by_default = Parse("server:\n  listen: 0.0.0.0:4356\n");
  EXPECT_NE(
      std::string(CheckAuthMode(*by_default, "0.0.0.0:4356").message()).find("true by default"),
      std::string::npos);
  auto keyed = Parse("server:\n  listen: 0.0.0.0:4356\n  skip_auth: false\n");
  EXPECT_TRUE(CheckAuthMode(*keyed, "0.0.0.0:4356").ok());
  EXPECT_TRUE(CheckAuthMode(*by_default, "127.0.0.1:1").ok());
}

TEST(LoaderUpstreamTest, TimeoutsAndCaFile) {
  auto cfg = Parse(R"(
upstream:
  ca_file: ${CA:-/etc/ssl/certs/ca-certificates.crt}
  timeouts:
    connect: 1500ms
    first_byte: 10m
    idle: 30
    total: 1h
    stream_first_byte: 20s
    first_event: 2m
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(cfg->timeouts.connect_ms, 1'500u);
  EXPECT_EQ(cfg->timeouts.first_byte_ms, 600'000u);
  EXPECT_EQ(cfg->timeouts.idle_ms, 30'000u);
  EXPECT_EQ(cfg->timeouts.total_ms, 3'600'000u);
  EXPECT_EQ(cfg->timeouts.stream_first_byte_ms, 20'000u);
  EXPECT_EQ(cfg->timeouts.first_event_ms, 120'000u);
}

TEST(LoaderUpstreamTest, PartialTimeoutsKeepDefaults) {
  auto cfg = Parse("upstream:\n  timeouts:\n    total: 0\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->timeouts.connect_ms, 10'000u);
  EXPECT_EQ(cfg->timeouts.first_byte_ms, 600'000u);
  EXPECT_EQ(cfg->timeouts.stream_first_byte_ms, 30'000u);
  EXPECT_EQ(cfg->timeouts.total_ms, 0u);
}

// ---------------------------------------------------------------------------
// ParseDurationMs

struct DurationCase {
  std::string text;
  uint32_t ms;
};

void PrintTo(const DurationCase& c, std::ostream* os) { *os << testing::PrintToString(c.text); }

class DurationGoodTest : public testing::TestWithParam<DurationCase> {};

TEST_P(DurationGoodTest, Parses) {
  auto ms = ParseDurationMs(GetParam().text);
  ASSERT_TRUE(ms.ok()) << GetParam().text << ": " << ms.status();
  EXPECT_EQ(*ms, GetParam().ms) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Table, DurationGoodTest,
                         testing::Values(DurationCase{"0", 0}, DurationCase{"0ms", 0},
                                         DurationCase{"1ms", 1}, DurationCase{"250ms", 250},
                                         DurationCase{"10s", 10'000}, DurationCase{"0.5s", 500},
                                         DurationCase{"1.5", 1'500}, DurationCase{"5", 5'000},
                                         DurationCase{"2m", 120'000}, DurationCase{"1h", 3'600'000},
                                         DurationCase{"1.0004s", 1'000},
                                         DurationCase{"1.0006s", 1'001},
                                         DurationCase{"4000000000ms", 4'000'000'000u},
                                         DurationCase{"1111h", 3'999'600'000u}));

class DurationBadTest : public testing::TestWithParam<std::string> {};

TEST_P(DurationBadTest, Rejects) {
  auto ms = ParseDurationMs(GetParam());
  ASSERT_FALSE(ms.ok()) << "'" << GetParam() << "' parsed as " << *ms;
  EXPECT_EQ(std::string(ms.status().message()),
            "expected a duration like 500ms, 10s, 5m, got '" + GetParam() + "'");
}

INSTANTIATE_TEST_SUITE_P(Table, DurationBadTest,
                         testing::Values("", "ms", "s", "m", "h", "abc", "-1", "-1s", "10x", "1d",
                                         "10 minutes", "1.2.3s", "4000000001ms", "1112h", "nan",
                                         "nans", "NaN", "inf", "infs", "-inf", "1e400"));

// ---------------------------------------------------------------------------
// Errors: "file:line: path: why"

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string want;  // the whole message
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << testing::PrintToString(c.name); }

class LoaderErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderErrorTest, MessageNamesFileLineAndField) {
  const ErrorCase& c = GetParam();
  auto cfg = Parse(c.yaml);
  ASSERT_FALSE(cfg.ok()) << c.yaml;
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(cfg.status().message()), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LoaderErrorTest,
    testing::Values(
        // Typos are rejected, not ignored.
        ErrorCase{"TopLevelTypo", "servr:\n  listen: 127.0.0.1:1\n",
                  "cfg.yaml:1: servr: unknown key"},
        ErrorCase{"ServerTypo", "server:\n  listen: 127.0.0.1:1\n  wrokers: 2\n",
                  "cfg.yaml:3: server.wrokers: unknown key"},
        ErrorCase{"UpstreamTypo", "upstream:\n  cafile: /x\n",
                  "cfg.yaml:2: upstream.cafile: unknown key"},
        ErrorCase{"TimeoutTypo", "upstream:\n  timeouts:\n    conect: 1s\n",
                  "cfg.yaml:3: upstream.timeouts.conect: unknown key"},
        ErrorCase{"ProviderTypo", "providers:\n  openai:\n    api_kye: x\n",
                  "cfg.yaml:3: providers.openai.api_kye: unknown key"},
        ErrorCase{"AuthTypo",
                  "providers:\n  x:\n    api_base: http://h\n    auth:\n      type: bearer\n"
                  "      hdr: a\n",
                  "cfg.yaml:6: providers.x.auth.hdr: unknown key"},
        // Wrong types.
        ErrorCase{"TopLevelList", "- a\n- b\n", "cfg.yaml:1: (top level): expected a mapping"},
        ErrorCase{"TopLevelScalar", "hello\n", "cfg.yaml:1: (top level): expected a mapping"},
        ErrorCase{"ServerScalar", "server: 5\n", "cfg.yaml:1: server: expected a mapping"},
        ErrorCase{"ProvidersList", "providers:\n  - openai\n",
                  "cfg.yaml:2: providers: expected a mapping"},
        ErrorCase{"ProviderScalar", "providers:\n  openai: yes\n",
                  "cfg.yaml:2: providers.openai: expected a mapping"},
        ErrorCase{"WorkersWord", "server:\n  workers: many\n",
                  "cfg.yaml:2: server.workers: expected an integer 0..256, got 'many'"},
        ErrorCase{"WorkersNegative", "server:\n  workers: -1\n",
                  "cfg.yaml:2: server.workers: expected an integer 0..256, got '-1'"},
        ErrorCase{"WorkersTooMany", "server:\n  workers: 257\n",
                  "cfg.yaml:2: server.workers: expected an integer 0..256, got '257'"},
        ErrorCase{"WorkersList", "server:\n  workers: [1]\n",
                  "cfg.yaml:2: server.workers: expected a string"},
        ErrorCase{"ListenMap", "server:\n  listen: {host: x}\n",
                  "cfg.yaml:2: server.listen: expected a string"},
        ErrorCase{"ListenNoPort", "server:\n  listen: localhost\n",
                  "cfg.yaml:2: server.listen: bad address 'localhost': want host:port"},
        ErrorCase{"LogLevel", "server:\n  log_level: verbose\n",
                  "cfg.yaml:2: server.log_level: expected one of trace, debug, info, warn, error"},
        ErrorCase{"Duration", "server:\n  drain_timeout: soon\n",
                  "cfg.yaml:2: server.drain_timeout: expected a duration like 500ms, 10s, 5m, "
                  "got 'soon'"},
        ErrorCase{"TimeoutNegative", "upstream:\n  timeouts:\n    idle: -5s\n",
                  "cfg.yaml:3: upstream.timeouts.idle: expected a duration like 500ms, 10s, 5m, "
                  "got '-5s'"},
        ErrorCase{"InheritNotBool", "inherit_defaults: maybe\n",
                  "cfg.yaml:1: inherit_defaults: expected true or false, got 'maybe'"},
        // Providers.
        ErrorCase{"ApiBaseScheme", "providers:\n  mine:\n    api_base: ftp://x/v1\n",
                  "cfg.yaml:3: providers.mine.api_base: invalid URL 'ftp://x/v1': must start "
                  "with http:// or https://"},
        ErrorCase{"ApiBaseQuery", "providers:\n  openai:\n    api_base: https://x/v1?k=1\n",
                  "cfg.yaml:3: providers.openai.api_base: invalid URL 'https://x/v1?k=1': query "
                  "strings and fragments are not allowed"},
        ErrorCase{"ApiBaseUserinfo", "providers:\n  m:\n    api_base: https://u:p@x\n",
                  "cfg.yaml:3: providers.m.api_base: invalid URL 'https://<redacted>@x': "
                  "credentials in URLs are not allowed"},
        ErrorCase{"ApiBaseFromEnvDefault", "providers:\n  m:\n    api_base: ${M_BASE:-nope}\n",
                  "cfg.yaml:3: providers.m.api_base: invalid URL 'nope': must start with "
                  "http:// or https://"},
        ErrorCase{"Protocol",
                  "providers:\n  mine:\n    api_base: http://h\n    api_protocol: grpc\n",
                  "cfg.yaml:4: providers.mine.api_protocol: expected one of openai, "
                  "openai_responses, anthropic, google, mcp, rest"},
        ErrorCase{"AuthType",
                  "providers:\n  mine:\n    api_base: http://h\n    auth:\n      type: digest\n",
                  "cfg.yaml:5: providers.mine.auth.type: expected bearer, header or mpp"},
        ErrorCase{"AuthHeaderWithoutName",
                  "providers:\n  mine:\n    api_base: http://h\n    auth:\n      type: header\n",
                  "cfg.yaml:5: providers.mine.auth: auth type 'header' needs header_name"},
        ErrorCase{"ModelsScalar", "providers:\n  mine:\n    api_base: http://h\n    models: gpt\n",
                  "cfg.yaml:4: providers.mine.models: expected a mapping of model ids"},
        ErrorCase{"DefaultHeadersList",
                  "providers:\n  mine:\n    api_base: http://h\n    default_headers: [a]\n",
                  "cfg.yaml:4: providers.mine.default_headers: expected a mapping"},
        // Values sent in upstream headers (the worker refuses the same ones).
        ErrorCase{"ApiKeyControlByte", "providers:\n  openai:\n    api_key: \"a\\x01b\"\n",
                  "cfg.yaml:3: providers.openai.api_key: contains a byte not allowed in an HTTP "
                  "header (CR, LF, NUL or another control character); the value is not shown"},
        ErrorCase{
            "DefaultHeaderName",
            "providers:\n  mine:\n    api_base: http://h\n    default_headers: {\"a b\": v}\n",
            "cfg.yaml:4: providers.mine.default_headers.a b: 'a b' is not a valid header "
            "name (letters, digits and !#$%&'*+-.^_`|~ only)"},
        ErrorCase{"CaFileMissing", "upstream:\n  ca_file: /nonexistent.pem\n",
                  "cfg.yaml:2: upstream.ca_file: cannot load '/nonexistent.pem': No such file or "
                  "directory"},
        ErrorCase{"NewProviderWithoutBase", "providers:\n  mine:\n    api_key: k\n",
                  "cfg.yaml:3: providers.mine: a new provider needs api_base (or derives)"},
        ErrorCase{"NewProviderEmptyBase", "providers:\n  mine:\n    api_base: ${UNSET}\n",
                  "cfg.yaml:3: providers.mine: a new provider needs api_base (or derives)"},
        ErrorCase{"NameWithColon", "providers:\n  \"a:b\":\n    api_base: http://h\n",
                  "cfg.yaml:2: providers.a:b: provider names must be non-empty and contain no "
                  "':'"},
        ErrorCase{"DerivesUnknown", "providers:\n  mine:\n    derives: nope\n",
                  "cfg.yaml:3: providers.mine.derives: unknown provider 'nope'"},
        ErrorCase{"DerivesBuiltinWithoutDefaults",
                  "inherit_defaults: false\nproviders:\n  mine:\n    derives: openai\n",
                  "cfg.yaml:4: providers.mine.derives: unknown provider 'openai'"},
        ErrorCase{"DerivesSelf", "providers:\n  a:\n    derives: a\n",
                  "cfg.yaml:3: providers.a.derives: derives cycle through 'a'"},
        ErrorCase{"DerivesCycle", "providers:\n  a:\n    derives: b\n  b:\n    derives: a\n",
                  "cfg.yaml:3: providers.a.derives: derives cycle through 'a'"},
        ErrorCase{"DerivesLongCycle",
                  "providers:\n  a:\n    derives: c\n  b:\n    derives: a\n  c:\n    derives: b\n",
                  "cfg.yaml:3: providers.a.derives: derives cycle through 'a'"},
        ErrorCase{"DerivesChainToUnknown",
                  "providers:\n  a:\n    derives: b\n  b:\n    derives: zzz\n",
                  "cfg.yaml:5: providers.b.derives: unknown provider 'zzz'"},
        ErrorCase{"DerivedFieldError",
                  "providers:\n  a:\n    derives: openai\n    api_base: http://h?x\n",
                  "cfg.yaml:4: providers.a.api_base: invalid URL 'http://h?x': query strings and "
                  "fragments are not allowed"},
        // Placeholders.
        ErrorCase{"BadPlaceholder", "providers:\n  openai:\n    api_key: \"${OPENAI KEY}\"\n",
                  "cfg.yaml:3: providers.openai.api_key: invalid placeholder '${OPENAI KEY}': "
                  "want ${NAME} or ${NAME:-default}"},
        ErrorCase{"UnterminatedPlaceholder", "server:\n  listen: ${LISTEN\n",
                  "cfg.yaml:2: server.listen: unterminated placeholder in '${LISTEN' (missing "
                  "'}')"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(LoaderErrorTest, YamlSyntaxErrorHasLineAndColumn) {
  auto cfg = Parse("server:\n  listen: [1, 2\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(std::string(cfg.status().message()),
            "cfg.yaml:3:1: YAML: end of sequence flow not found");
  cfg = Parse("a: b: c\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(std::string(cfg.status().message()), "cfg.yaml:1:5: YAML: illegal map value");
  cfg = Parse("server:\n  listen: 127.0.0.1:1\n bad indent: 1\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(std::string(cfg.status().message()), "cfg.yaml:3:2: YAML: end of map not found");
}

// ---------------------------------------------------------------------------
// LoadConfigFile

class LoadConfigFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/br-cfg-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/bitrouter.yaml";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(LoadConfigFileTest, ReadsTheFile) {
  std::ofstream(path_) << "server:\n  workers: 2\n";
  auto cfg = LoadConfigFile(path_, {});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->source, path_);
  EXPECT_EQ(cfg->server.workers, 2u);
}

TEST_F(LoadConfigFileTest, ErrorsNameThePath) {
  std::ofstream(path_) << "# header\n\nserver:\n  worker: 2\n";
  auto cfg = LoadConfigFile(path_, {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(std::string(cfg.status().message()), path_ + ":4: server.worker: unknown key");
}

TEST_F(LoadConfigFileTest, UnreadablePathIsAnError) {
  // ENOTDIR (works even for root): an error, not "use the defaults".
  std::ofstream(path_) << "{}\n";
  auto cfg = LoadConfigFile(path_ + "/bitrouter.yaml", {});
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(cfg.status().message().find("cannot read"), absl::string_view::npos);
}

}  // namespace
}  // namespace bitrouter::config
