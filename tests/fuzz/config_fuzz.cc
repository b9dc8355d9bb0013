// Fuzzes ParseConfig (empty environment) and ParseDurationMs: no crashes or
// escaping exceptions; errors start with "file:"; what loads is consistent.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "shared/common/url.h"
#include "shared/config/loader.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const bitrouter::config::EnvMap kEnv;
  auto cfg = bitrouter::config::ParseConfig(text, "fuzz.yaml", kEnv);
  if (!cfg.ok()) {
    FUZZ_CHECK(cfg.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(cfg.status().message().substr(0, 10) == "fuzz.yaml:");
  } else {
    std::string host;
    uint16_t port;
    FUZZ_CHECK(bitrouter::ParseHostPort(cfg->server.listen, &host, &port).ok());
    FUZZ_CHECK(cfg->server.workers <= 256);
    for (const auto& [name, p] : cfg->providers) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(name.find(':') == std::string::npos);
      FUZZ_CHECK(p.name == name);
      FUZZ_CHECK(!p.reason.empty());
      if (p.active) {
        FUZZ_CHECK(!p.api_key.empty() || !p.requires_key);
        FUZZ_CHECK(bitrouter::ParseUrl(p.api_base).ok());
        FUZZ_CHECK(p.api_protocol == "openai" || p.api_protocol == "anthropic" ||
                   p.api_protocol == "google");
        FUZZ_CHECK(p.auth != bitrouter::config::AuthStyle::kHeader || !p.auth_header.empty());
      }
    }
    std::set<std::string> prefixes;  // unique among aggregate MCP servers
    for (const auto& [id, s] : cfg->mcp_servers) {
      FUZZ_CHECK(s.id == id && !id.empty() && id.size() <= 64);
      FUZZ_CHECK(id.find("__") == std::string::npos);
      FUZZ_CHECK(!s.bridged || !cfg->providers.at(id).active);
      if (s.type == bitrouter::config::McpTransportType::kHttp) {
        FUZZ_CHECK(bitrouter::ParseUrl(s.http.url).ok());
      } else {
        FUZZ_CHECK(!s.stdio.command.empty());
      }
      FUZZ_CHECK(s.timeout_ms > 0);
      if (s.aggregate) FUZZ_CHECK(prefixes.insert(s.tool_prefix).second);
    }
    FUZZ_CHECK(cfg->mcp.aggregate_route.size() > 1 && cfg->mcp.aggregate_route[0] == '/');
    for (const auto& [name, t] : cfg->tools) {
      FUZZ_CHECK(!t.endpoints.empty());
      for (const auto& e : t.endpoints) {
        FUZZ_CHECK(cfg->mcp_servers.count(e.server) || !e.inactive_reason.empty());
      }
      FUZZ_CHECK(t.input_schema_json.empty() || t.input_schema_json[0] == '{');
    }
  }

  if (size <= 64) {
    auto ms = bitrouter::config::ParseDurationMs(text);
    if (ms.ok()) FUZZ_CHECK(*ms <= 4'000'000'000u);
  }
  return 0;
}
