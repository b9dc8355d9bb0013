// Loader tests for the MCP sections (issue 17): mcp_servers:, mcp:, tools:
// and the manual's bridged `api_protocol: mcp` providers. Every field, every
// default, every validation error with its file:line, and the manual's
// reference config.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "shared/config/loader.h"
#include "shared/config/render.h"

namespace bitrouter::config {
namespace {

absl::StatusOr<Config> Parse(std::string_view yaml, EnvMap env = {}) {
  return ParseConfig(yaml, "cfg.yaml", env);
}

std::string Error(std::string_view yaml, EnvMap env = {}) {
  auto cfg = Parse(yaml, env);
  if (cfg.ok()) return "(loaded)";
  return std::string(cfg.status().message());
}

bool HasWarning(const Config& cfg, std::string_view fragment) {
  for (const std::string& w : cfg.warnings) {
    if (w.find(fragment) != std::string::npos) return true;
  }
  return false;
}

std::string Warnings(const Config& cfg) {
  std::string out;
  for (const std::string& w : cfg.warnings) out += "\n  " + w;
  return out;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(LoaderMcpTest, EveryServerField) {
  auto cfg = Parse(R"(
mcp_servers:
  github:
    name: GitHub
    transport:
      type: http
      url: https://api.githubcopilot.com/mcp
      headers:
        Authorization: Bearer ${GH_TOKEN}
        X-Team: core
    aggregate: true
    tool_prefix: gh_
    timeout: 30s
    allowed_tools: [create_*, list_issues]
    disallowed_tools: ["delete_*"]
  git:
    transport:
      type: stdio
      command: uvx
      args: [mcp-server-git, --repository, .]
      env:
        GIT_TOKEN: ${GIT_SECRET}
        LOG_LEVEL: debug
      cwd: /srv/repo
    timeout: 500ms
    aggregate: false
  local:
    transport: {type: http, url: "http://127.0.0.1:9000/mcp"}
)",
                   {{"GH_TOKEN", "ghp_secret_value"}, {"GIT_SECRET", "git-secret-value"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->mcp_servers.size(), 3u);
  const McpServerConfig& gh = cfg->mcp_servers.at("github");
  EXPECT_EQ(gh.id, "github");
  EXPECT_EQ(gh.name, "GitHub");
  EXPECT_EQ(gh.line, 3);
  EXPECT_EQ(gh.type, McpTransportType::kHttp);
  EXPECT_EQ(gh.http.url, "https://api.githubcopilot.com/mcp");
  EXPECT_EQ(gh.http.headers,
            (Headers{{"Authorization", "Bearer ghp_secret_value"}, {"X-Team", "core"}}));
  EXPECT_TRUE(gh.aggregate);
  EXPECT_EQ(gh.tool_prefix, "gh_");
  EXPECT_EQ(gh.timeout_ms, 30'000u);
  EXPECT_EQ(gh.allowed_tools, (std::vector<std::string>{"create_*", "list_issues"}));
  EXPECT_EQ(gh.disallowed_tools, (std::vector<std::string>{"delete_*"}));
  EXPECT_FALSE(gh.bridged);

  const McpServerConfig& git = cfg->mcp_servers.at("git");
  EXPECT_EQ(git.line, 16);
  EXPECT_EQ(git.type, McpTransportType::kStdio);
  EXPECT_EQ(git.stdio.command, "uvx");
  EXPECT_EQ(git.stdio.args, (std::vector<std::string>{"mcp-server-git", "--repository", "."}));
  EXPECT_EQ(git.stdio.env, (std::map<std::string, std::string>{{"GIT_TOKEN", "git-secret-value"},
                                                               {"LOG_LEVEL", "debug"}}));
  EXPECT_EQ(git.stdio.cwd, "/srv/repo");
  EXPECT_EQ(git.timeout_ms, 500u);
  EXPECT_FALSE(git.aggregate);
  EXPECT_EQ(git.tool_prefix, "git__");  // the default, kept though not aggregated

  // Defaults.
  const McpServerConfig& local = cfg->mcp_servers.at("local");
  EXPECT_EQ(local.http.url, "http://127.0.0.1:9000/mcp");  // loopback http is fine
  EXPECT_TRUE(local.aggregate);
  EXPECT_EQ(local.tool_prefix, "local__");
  EXPECT_EQ(local.timeout_ms, 60'000u);
  EXPECT_TRUE(local.http.headers.empty());
  EXPECT_TRUE(local.allowed_tools.empty());
  EXPECT_TRUE(local.disallowed_tools.empty());

  // No section is "accepted but not implemented" any more; secrets never show.
  EXPECT_TRUE(cfg->warnings.empty()) << Warnings(*cfg);
  const std::string shown = RenderEffectiveConfig(*cfg);
  EXPECT_EQ(shown.find("ghp_secret_value"), std::string::npos);
  EXPECT_EQ(shown.find("git-secret-value"), std::string::npos);
}

TEST(LoaderMcpTest, GatewayFieldsAndDefaults) {
  auto none = Parse("server:\n  workers: 1\n");
  ASSERT_TRUE(none.ok()) << none.status();
  const McpGatewayConfig& d = none->mcp;
  EXPECT_TRUE(d.aggregate_enabled);
  EXPECT_EQ(d.aggregate_route, "/mcp");
  EXPECT_TRUE(d.allowed_origins.empty());  // = loopback origins only
  EXPECT_TRUE(d.cache.enabled);
  EXPECT_EQ(d.cache.tools_list_ttl_ms, 60'000u);
  EXPECT_EQ(d.cache.resources_list_ttl_ms, 60'000u);
  EXPECT_EQ(d.cache.resources_templates_list_ttl_ms, 300'000u);
  EXPECT_EQ(d.cache.prompts_list_ttl_ms, 300'000u);
  EXPECT_EQ(d.cache.max_entries_per_server, 64u);
  EXPECT_EQ(d.line, 0);
  EXPECT_TRUE(none->mcp_servers.empty());
  EXPECT_TRUE(none->tools.empty());

  auto cfg = Parse(R"(
mcp:
  aggregate:
    enabled: false
    route: /tools/mcp
  allowed_origins: ["https://App.Example.com", "http://localhost:5173", "null"]
  cache:
    prompts_list_ttl_secs: 7
    ttl: 2m
    enabled: false
    max_entries_per_server: 8
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const McpGatewayConfig& g = cfg->mcp;
  EXPECT_EQ(g.line, 2);
  EXPECT_FALSE(g.aggregate_enabled);
  EXPECT_EQ(g.aggregate_route, "/tools/mcp");
  EXPECT_EQ(g.allowed_origins,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:5173", "null"}));
  EXPECT_FALSE(g.cache.enabled);
  EXPECT_EQ(g.cache.tools_list_ttl_ms, 120'000u);
  EXPECT_EQ(g.cache.resources_list_ttl_ms, 120'000u);
  EXPECT_EQ(g.cache.resources_templates_list_ttl_ms, 120'000u);
  EXPECT_EQ(g.cache.prompts_list_ttl_ms, 7'000u);  // the v1 key wins over ttl, wherever it is
  EXPECT_EQ(g.cache.max_entries_per_server, 8u);

  // Empty sections are the defaults.
  auto empty = Parse("mcp:\nmcp_servers:\ntools:\n");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->mcp.aggregate_route, "/mcp");
  EXPECT_EQ(empty->mcp.line, 1);
}

TEST(LoaderMcpTest, BridgedProviderIsAnHttpServerNotAModelProvider) {
  auto cfg = Parse(R"(
providers:
  github-mcp:
    api_protocol: mcp
    api_base: "https://api.githubcopilot.com/mcp"
    api_key: "${GITHUB_TOKEN}"
    default_headers:
      X-Project: p1
    bridge: true
  hdr-mcp:
    api_protocol: mcp
    api_base: https://mcp.example.com/
    auth: {type: header, header_name: x-api-key, api_key: k-123}
    bridge: true
  plain-mcp:
    api_protocol: mcp
    api_base: https://mcp.example.org/mcp
    api_key: t
models:
  m:
    endpoints:
      - provider: github-mcp
        service_id: x
)",
                   {{"GITHUB_TOKEN", "ghp_abc"}});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const McpServerConfig& s = cfg->mcp_servers.at("github-mcp");
  EXPECT_TRUE(s.bridged);
  EXPECT_EQ(s.line, 3);
  EXPECT_EQ(s.type, McpTransportType::kHttp);
  EXPECT_EQ(s.http.url, "https://api.githubcopilot.com/mcp");
  EXPECT_EQ(s.http.headers, (Headers{{"X-Project", "p1"}, {"Authorization", "Bearer ghp_abc"}}));
  EXPECT_TRUE(s.aggregate);
  EXPECT_EQ(s.tool_prefix, "github-mcp__");
  EXPECT_EQ(s.timeout_ms, 60'000u);
  // Not a model provider: inactive, so no inference is ever routed to it.
  const Provider& p = cfg->providers.at("github-mcp");
  EXPECT_FALSE(p.active);
  EXPECT_EQ(p.reason, "MCP server (bridge: true), not a model provider: served at /mcp/github-mcp");
  EXPECT_EQ(cfg->mcp_servers.at("hdr-mcp").http.headers, (Headers{{"x-api-key", "k-123"}}));
  EXPECT_EQ(cfg->mcp_servers.at("hdr-mcp").http.url, "https://mcp.example.com/");
  // Without bridge: as before, an inactive provider and no server, now with a hint.
  EXPECT_FALSE(cfg->mcp_servers.count("plain-mcp"));
  EXPECT_FALSE(cfg->providers.at("plain-mcp").active);
  EXPECT_EQ(cfg->providers.at("plain-mcp").reason, "api_protocol 'mcp' is not supported yet");
  EXPECT_TRUE(HasWarning(*cfg,
                         "cfg.yaml:15: providers.plain-mcp: api_protocol: mcp without "
                         "bridge: true is not served"))
      << Warnings(*cfg);

  // An unset key: no credentials, a warning that never shows a value.
  auto keyless = Parse(
      "providers:\n  g:\n    api_protocol: mcp\n    api_base: https://h/mcp\n"
      "    api_key: ${UNSET}\n    bridge: true\n");
  ASSERT_TRUE(keyless.ok()) << keyless.status();
  EXPECT_TRUE(keyless->mcp_servers.at("g").http.headers.empty());
  EXPECT_TRUE(HasWarning(*keyless, "cfg.yaml:2: providers.g.api_key: empty after substitution"))
      << Warnings(*keyless);
  // bridge: false is just a provider.
  auto off = Parse(
      "providers:\n  g:\n    api_protocol: mcp\n    api_base: https://h/mcp\n    bridge: false\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_TRUE(off->mcp_servers.empty());
}

TEST(LoaderMcpTest, EveryVirtualToolField) {
  auto cfg = Parse(R"(
mcp_servers:
  a:
    transport: {type: stdio, command: a-server}
  b:
    transport: {type: http, url: "https://b.example.com/mcp"}
tools:
  search:
    strategy: load_balance
    endpoints:
      - provider: a
        service_id: find
      - server: b
        service_id: lookup
    description: "Search things"
    input_schema:
      type: object
      properties:
        q: {type: string, description: "a ${NOT_SUBSTITUTED} query"}
        n: {type: integer, minimum: 1, maximum: 1.5e2, default: 10}
        quoted: {const: "10"}
        flag: {default: true}
        none: {default: ~}
      required: [q]
    pricing:
      default: 0.001
      overrides:
        lookup: 0.002
    skill: searching
  plain:
    endpoints:
      - provider: a
        service_id: plain
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->tools.size(), 2u);
  const VirtualTool& t = cfg->tools.at("search");
  EXPECT_EQ(t.name, "search");
  EXPECT_EQ(t.line, 8);
  EXPECT_EQ(t.strategy, "load_balance");
  ASSERT_EQ(t.endpoints.size(), 2u);
  EXPECT_EQ(t.endpoints[0].server, "a");
  EXPECT_EQ(t.endpoints[0].service_id, "find");
  EXPECT_EQ(t.endpoints[0].line, 11);
  EXPECT_EQ(t.endpoints[1].server, "b");
  EXPECT_EQ(t.endpoints[1].service_id, "lookup");
  EXPECT_TRUE(t.endpoints[1].inactive_reason.empty());
  EXPECT_EQ(t.description, "Search things");
  EXPECT_EQ(t.input_schema_json,
            R"({"type":"object","properties":{"q":{"type":"string","description":)"
            R"("a ${NOT_SUBSTITUTED} query"},"n":{"type":"integer","minimum":1,"maximum":150.0,)"
            R"("default":10},"quoted":{"const":"10"},"flag":{"default":true},)"
            R"("none":{"default":null}},"required":["q"]})");
  EXPECT_DOUBLE_EQ(t.price_per_call, 0.001);
  EXPECT_EQ(t.price_overrides, (std::map<std::string, double>{{"lookup", 0.002}}));
  EXPECT_EQ(t.skill, "searching");
  const VirtualTool& plain = cfg->tools.at("plain");  // defaults
  EXPECT_EQ(plain.strategy, "priority");
  EXPECT_TRUE(plain.input_schema_json.empty());
  EXPECT_LT(plain.price_per_call, 0);
  EXPECT_TRUE(plain.description.empty());
  EXPECT_TRUE(cfg->warnings.empty()) << Warnings(*cfg);
}

// Each error: file:line and the field path.
TEST(LoaderMcpTest, ErrorsNameFileAndLine) {
  const std::string http = "    transport: {type: http, url: \"https://h.example.com/mcp\"}\n";
  struct Case {
    std::string yaml;
    std::string want;
  };
  const std::vector<Case> cases = {
      // Server ids.
      {"mcp_servers:\n  bad.id:\n" + http, "cfg.yaml:2: mcp_servers.bad.id: MCP server ids are"},
      {"mcp_servers:\n  " + std::string(65, 'a') + ":\n" + http, "cfg.yaml:2: mcp_servers.aaa"},
      {"mcp_servers:\n  a__b:\n" + http, "cfg.yaml:2: mcp_servers.a__b: MCP server ids must not"},
      {"mcp_servers:\n  sse:\n" + http, "cfg.yaml:2: mcp_servers.sse: 'sse' is reserved"},
      {"mcp_servers:\n  virtual:\n" + http,
       "cfg.yaml:2: mcp_servers.virtual: 'virtual' is reserved"},
      {"mcp_servers:\n  \"\":\n" + http, "cfg.yaml:2: mcp_servers.: MCP server ids are"},
      // Duplicate effective prefixes among aggregate servers.
      {"mcp_servers:\n  a:\n" + http + "    tool_prefix: x_\n  b:\n" + http +
           "    tool_prefix: x_\n",
       "cfg.yaml:5: mcp_servers.b: tool prefix 'x_' is also the prefix of MCP server 'a' (line 2)"},
      {"mcp_servers:\n  a:\n" + http + "  b:\n" + http + "    tool_prefix: a__\n",
       "cfg.yaml:4: mcp_servers.b: tool prefix 'a__'"},
      {"mcp_servers:\n  a:\n" + http + "    tool_prefix: \"x y\"\n",
       "cfg.yaml:4: mcp_servers.a.tool_prefix: tool prefixes are"},
      // http url.
      {"mcp_servers:\n  a:\n    transport: {type: http, url: \"\"}\n",
       "cfg.yaml:3: mcp_servers.a.transport.url: must be a non-empty http:// or https:// URL"},
      {"mcp_servers:\n  a:\n    transport:\n      type: http\n      url: ftp://h/x\n",
       "cfg.yaml:5: mcp_servers.a.transport.url:"},
      {"mcp_servers:\n  a:\n    transport:\n      type: http\n",
       "cfg.yaml:4: mcp_servers.a.transport: an http transport needs url"},
      {"mcp_servers:\n  a:\n    transport:\n      type: http\n      url: http://example.com/mcp\n",
       "cfg.yaml:5: mcp_servers.a.transport.url: http:// to non-loopback host example.com"},
      // stdio command.
      {"mcp_servers:\n  a:\n    transport:\n      type: stdio\n      command: \"\"\n",
       "cfg.yaml:5: mcp_servers.a.transport.command: is empty"},
      {"mcp_servers:\n  a:\n    transport:\n      type: stdio\n      args: [x]\n",
       "cfg.yaml:4: mcp_servers.a.transport: a stdio transport needs command"},
      {"mcp_servers:\n  a:\n    transport:\n      type: stdio\n      command: x\n      url: y\n",
       "cfg.yaml:6: mcp_servers.a.transport.url: not a field of a stdio transport"},
      {"mcp_servers:\n  a:\n    transport:\n      type: stdio\n      command: x\n"
       "      env: {1BAD: v}\n",
       "cfg.yaml:6: mcp_servers.a.transport.env.1BAD: environment names are"},
      // Transport type.
      {"mcp_servers:\n  a:\n    transport:\n      type: websocket\n      url: https://h/\n",
       "cfg.yaml:4: mcp_servers.a.transport.type: unknown transport type 'websocket'"},
      {"mcp_servers:\n  a:\n    transport: {url: https://h/}\n",
       "cfg.yaml:3: mcp_servers.a.transport: needs type (http or stdio)"},
      {"mcp_servers:\n  a:\n    aggregate: true\n", "cfg.yaml:2: mcp_servers.a: needs transport"},
      // Unknown keys, everywhere.
      {"mcp_servers:\n  a:\n" + http + "    colour: red\n",
       "cfg.yaml:4: mcp_servers.a.colour: unknown key"},
      {"mcp_servers:\n  a:\n    transport: {type: http, url: \"https://h/\", tls: 1}\n",
       "cfg.yaml:3: mcp_servers.a.transport.tls: unknown key"},
      {"mcp:\n  sessions: true\n", "cfg.yaml:2: mcp.sessions: unknown key"},
      {"mcp:\n  aggregate:\n    path: /x\n", "cfg.yaml:3: mcp.aggregate.path: unknown key"},
      {"mcp:\n  cache:\n    size: 3\n", "cfg.yaml:3: mcp.cache.size: unknown key"},
      {"mcp_servers:\n  a:\n" + http +
           "tools:\n  t:\n    endpoints: [{provider: a, service_id: x}]\n    color: 1\n",
       "cfg.yaml:7: tools.t.color: unknown key"},
      {"mcp_servers:\n  a:\n" + http +
           "tools:\n  t:\n    endpoints: [{provider: a, service_id: x, weight: 2}]\n",
       "cfg.yaml:6: tools.t.endpoints[0].weight: unknown key"},
      // Headers.
      {"mcp_servers:\n  a:\n    transport:\n      type: http\n      url: https://h/\n"
       "      headers: {MCP-Protocol-Version: x}\n",
       "cfg.yaml:6: mcp_servers.a.transport.headers.MCP-Protocol-Version: set by the gateway"},
      {"mcp_servers:\n  a:\n    transport:\n      type: http\n      url: https://h/\n"
       "      headers:\n        X-A: \"1\"\n        x-a: \"2\"\n",
       "cfg.yaml:8: mcp_servers.a.transport.headers.x-a: header given twice"},
      // Durations.
      {"mcp_servers:\n  a:\n" + http + "    timeout: soon\n",
       "cfg.yaml:4: mcp_servers.a.timeout: expected a duration"},
      {"mcp_servers:\n  a:\n" + http + "    timeout: 0s\n",
       "cfg.yaml:4: mcp_servers.a.timeout: expected a timeout from 1ms to 1h"},
      {"mcp_servers:\n  a:\n" + http + "    timeout: 2h\n", "cfg.yaml:4: mcp_servers.a.timeout:"},
      {"mcp:\n  cache:\n    ttl: -5s\n", "cfg.yaml:3: mcp.cache.ttl: expected a duration"},
      // Virtual tools.
      {"tools:\n  t:\n    description: x\n", "cfg.yaml:2: tools.t: needs endpoints"},
      {"tools:\n  t:\n    endpoints: []\n", "cfg.yaml:3: tools.t.endpoints: expected a non-empty"},
      {"tools:\n  t:\n    endpoints:\n      - provider: nowhere\n        service_id: x\n",
       "cfg.yaml:4: tools.t.endpoints[0].provider: unknown MCP server 'nowhere'"},
      {"tools:\n  t:\n    endpoints:\n      - provider: openai\n        service_id: x\n",
       "cfg.yaml:4: tools.t.endpoints[0].provider: 'openai' is a model provider, not an MCP"},
      {"providers:\n  m:\n    api_protocol: mcp\n    api_base: https://h/\n"
       "tools:\n  t:\n    endpoints:\n      - provider: m\n        service_id: x\n",
       "cfg.yaml:8: tools.t.endpoints[0].provider: provider 'm' is api_protocol: mcp without "
       "bridge: true"},
      {"mcp_servers:\n  a:\n" + http + "tools:\n  t:\n    endpoints:\n      - provider: a\n",
       "cfg.yaml:7: tools.t.endpoints[0]: needs service_id"},
      {"mcp_servers:\n  a:\n" + http +
           "tools:\n  t:\n    strategy: random\n    endpoints: [{provider: a, service_id: x}]\n",
       "cfg.yaml:6: tools.t.strategy: expected priority or load_balance"},
      {"mcp_servers:\n  a:\n" + http +
           "tools:\n  t:\n    endpoints: [{provider: a, service_id: x}]\n    input_schema: [1]\n",
       "cfg.yaml:7: tools.t.input_schema: expected a mapping"},
      {"mcp_servers:\n  a:\n" + http +
           "tools:\n  t:\n    endpoints: [{provider: a, service_id: x}]\n"
           "    pricing: {default: -1}\n",
       "cfg.yaml:7: tools.t.pricing.default: expected a price >= 0 in USD per call"},
      {"tools:\n  \"bad name\":\n    endpoints: [{provider: a, service_id: x}]\n",
       "cfg.yaml:2: tools.bad name: tool names are"},
      // One id, two servers.
      {"providers:\n  gh:\n    api_protocol: mcp\n    api_base: https://h/mcp\n    bridge: true\n"
       "mcp_servers:\n  gh:\n" +
           http,
       "cfg.yaml:7: mcp_servers.gh: also a bridged provider (providers.gh, line 2)"},
      {"mcp_servers:\n  gh:\n" + http +
           "providers:\n  gh:\n    api_protocol: mcp\n    api_base: https://h/mcp\n"
           "    bridge: true\n",
       "cfg.yaml:2: mcp_servers.gh: also a bridged provider (providers.gh, line 5)"},
      // Bridged providers.
      {"providers:\n  g.h:\n    api_protocol: mcp\n    api_base: https://h/mcp\n    bridge: true\n",
       "cfg.yaml:2: providers.g.h: bridged, so its name is a server id"},
      {"providers:\n  o:\n    derives: openai\n    bridge: true\n",
       "cfg.yaml:4: providers.o.bridge: applies to api_protocol: mcp providers only, not 'openai'"},
      {"providers:\n  g:\n    api_protocol: mcp\n    api_base: http://example.com/mcp\n"
       "    bridge: true\n",
       "cfg.yaml:2: providers.g: http:// to non-loopback host example.com"},
      {"providers:\n  g:\n    api_protocol: mcp\n    api_base: https://h/\n    api_key: k\n"
       "    default_headers: {authorization: x}\n    bridge: true\n",
       "cfg.yaml:2: providers.g: api_key and default_headers both set Authorization"},
      {"providers:\n  a:\n    api_protocol: mcp\n    api_base: https://h/\n    bridge: true\n"
       "  b:\n    api_protocol: mcp\n    api_base: https://h/\n    bridge: true\n"
       "mcp_servers:\n  c:\n" +
           http + "    tool_prefix: a__\n",
       "cfg.yaml:11: mcp_servers.c: tool prefix 'a__' is also the prefix of MCP server 'a'"},
      // The gateway.
      {"mcp:\n  aggregate:\n    route: mcp\n",
       "cfg.yaml:3: mcp.aggregate.route: must start with '/'"},
      {"mcp:\n  aggregate:\n    route: /\n", "cfg.yaml:3: mcp.aggregate.route: expected a path"},
      {"mcp:\n  aggregate:\n    route: /a b\n", "cfg.yaml:3: mcp.aggregate.route: expected a path"},
      {"mcp_servers:\n  x:\n" + http + "mcp:\n  aggregate:\n    route: /mcp/x\n",
       "cfg.yaml:6: mcp.aggregate.route: is the direct route of MCP server 'x'"},
      {"mcp:\n  allowed_origins: [\"*\"]\n", "cfg.yaml:2: mcp.allowed_origins[0]: '*' would"},
      {"mcp:\n  allowed_origins:\n    - https://a.example.com/path\n",
       "cfg.yaml:3: mcp.allowed_origins[0]: expected an origin"},
      {"mcp:\n  aggregate: {enabled: maybe}\n",
       "cfg.yaml:2: mcp.aggregate.enabled: expected true or false"},
  };
  for (const Case& c : cases) {
    const std::string got = Error(c.yaml);
    EXPECT_EQ(got.find(c.want), 0u) << "yaml:\n"
                                    << c.yaml << "\nwant prefix: " << c.want << "\ngot: " << got;
  }
}

TEST(LoaderMcpTest, NonAggregateServersMayShareAPrefix) {
  auto cfg = Parse(R"(
mcp_servers:
  a:
    transport: {type: stdio, command: a}
    tool_prefix: t_
  b:
    transport: {type: stdio, command: b}
    tool_prefix: t_
    aggregate: false
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->mcp_servers.size(), 2u);
}

TEST(LoaderMcpTest, SecretsNeverInMessages) {
  const EnvMap env = {{"TOKEN", "s3cr3t\nInjected: x"}, {"OK", "fine-secret-value"}};
  // A header value with a line break is refused without showing the value.
  std::string got = Error(R"(
mcp_servers:
  a:
    transport:
      type: http
      url: https://h/mcp
      headers: {Authorization: "Bearer ${TOKEN}"}
)",
                          env);
  EXPECT_EQ(got.find("cfg.yaml:7: mcp_servers.a.transport.headers.Authorization"), 0u) << got;
  EXPECT_EQ(got.find("s3cr3t"), std::string::npos) << got;
  // A later error does not echo earlier secrets either.
  got = Error(R"(
mcp_servers:
  a:
    transport:
      type: stdio
      command: srv
      env: {KEY: "${OK}"}
      user: root
)",
              env);
  EXPECT_EQ(got.find("cfg.yaml:8: mcp_servers.a.transport.user: unknown key"), 0u) << got;
  EXPECT_EQ(got.find("fine-secret-value"), std::string::npos) << got;
}

TEST(LoaderMcpTest, SchemaSizeIsBounded) {
  std::string yaml =
      "mcp_servers:\n  a:\n    transport: {type: stdio, command: a}\n"
      "tools:\n  t:\n    endpoints: [{provider: a, service_id: x}]\n    input_schema: ";
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{a: ";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  std::string got = Error(yaml + deep + "\n");
  EXPECT_NE(got.find("tools.t.input_schema"), std::string::npos) << got;
  EXPECT_NE(got.find("too deep or too large"), std::string::npos) << got;
  // Aliases multiply nodes: bounded too.
  std::string schema =
      "{l0: &a0 [1,1,1,1,1,1,1,1,1,1], l1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0], "
      "l2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1], "
      "l3: [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]}";
  got = Error(yaml + schema + "\n");
  EXPECT_NE(got.find("too deep or too large"), std::string::npos) << got;
}

// The manual's reference config (testdata/reference.yaml): its bridged
// provider is an MCP server and its two virtual tools load.
TEST(LoaderMcpTest, ReferenceConfig) {
  const std::string path = std::string(BR_TESTDATA_DIR) + "/reference.yaml";
  for (const EnvMap& env : {EnvMap{}, EnvMap{{"GITHUB_TOKEN", "ghp_ref"}}}) {
    auto cfg = LoadConfigFile(path, env);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    ASSERT_EQ(cfg->mcp_servers.size(), 1u);
    const McpServerConfig& s = cfg->mcp_servers.at("github-mcp");
    EXPECT_TRUE(s.bridged);
    EXPECT_EQ(s.line, 69);
    EXPECT_EQ(s.type, McpTransportType::kHttp);
    EXPECT_EQ(s.http.url, "https://api.githubcopilot.com/mcp");
    EXPECT_EQ(s.tool_prefix, "github-mcp__");
    EXPECT_TRUE(s.aggregate);
    if (env.empty()) {
      EXPECT_TRUE(s.http.headers.empty());
      EXPECT_TRUE(HasWarning(*cfg, ":69: providers.github-mcp.api_key: empty after substitution"))
          << Warnings(*cfg);
    } else {
      EXPECT_EQ(s.http.headers, (Headers{{"Authorization", "Bearer ghp_ref"}}));
    }
    EXPECT_FALSE(cfg->providers.at("github-mcp").active);
    EXPECT_FALSE(HasWarning(*cfg, "tools: section accepted")) << Warnings(*cfg);

    ASSERT_EQ(cfg->tools.size(), 2u);
    const VirtualTool& ci = cfg->tools.at("create_issue");
    EXPECT_EQ(ci.line, 128);
    EXPECT_EQ(ci.strategy, "priority");
    ASSERT_EQ(ci.endpoints.size(), 1u);
    EXPECT_EQ(ci.endpoints[0].server, "github-mcp");
    EXPECT_EQ(ci.endpoints[0].service_id, "create_issue");
    EXPECT_TRUE(ci.endpoints[0].inactive_reason.empty());
    EXPECT_EQ(ci.description, "Create a GitHub issue");
    EXPECT_EQ(
        ci.input_schema_json,
        R"({"type":"object","properties":{"repo":{"type":"string"},)"
        R"("title":{"type":"string"},"body":{"type":"string"}},"required":["repo","title"]})");
    EXPECT_EQ(ci.skill, "github-issues");
    EXPECT_LT(ci.price_per_call, 0);

    // exa is the manual's built-in REST tool provider: loaded, but skipped.
    const VirtualTool& ws = cfg->tools.at("web_search");
    EXPECT_EQ(ws.strategy, "priority");
    ASSERT_EQ(ws.endpoints.size(), 1u);
    EXPECT_EQ(ws.endpoints[0].server, "exa");
    EXPECT_EQ(ws.endpoints[0].service_id, "search");
    EXPECT_EQ(ws.endpoints[0].inactive_reason, "'exa' is a REST tool provider, not served yet");
    EXPECT_TRUE(HasWarning(*cfg, ":145: tools.web_search.endpoints[0].provider: 'exa' is a REST"))
        << Warnings(*cfg);
    EXPECT_DOUBLE_EQ(ws.price_per_call, 0.001);
    EXPECT_EQ(ws.price_overrides, (std::map<std::string, double>{{"search", 0.002}}));
  }
}

}  // namespace
}  // namespace bitrouter::config
