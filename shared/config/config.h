#pragma once
// The validated, immutable configuration model. Built by LoadConfig(); the
// control plane turns it into a Snapshot for the workers.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/config/mcp_config.h"

namespace bitrouter::config {

struct ServerConfig {
  std::string listen = "127.0.0.1:4356";
  uint32_t workers = 0;  // 0 = one per CPU
  std::string log_level = "info";
  uint32_t drain_timeout_ms = 30'000;
  uint32_t header_timeout_ms = 10'000;
  uint32_t keepalive_timeout_ms = 75'000;
  // Longest wait for the next byte of a request body once the headers are in.
  uint32_t body_timeout_ms = 60'000;
  // Longest time a response write may make no progress (a client that does
  // not read) before the connection is closed.
  uint32_t send_timeout_ms = 60'000;
  bool access_log = true;  // one info line per request
  // Usage records and request metrics. Off only to measure what they cost.
  bool metering = true;
  // An SSE comment sent on a client stream that has had no event for this
  // long, so proxies and clients do not cut a long reasoning pause. 0 = off.
  uint32_t stream_keepalive_ms = 30'000;
  // server.control.socket: relative paths are under <home>/run/; empty = control.sock.
  std::string control_socket;
  // Requests without a virtual key are served. Honoured only while the
  // listener is loopback (CheckAuthMode); false = every request needs a key.
  bool skip_auth = true;
  int skip_auth_line = 0;  // where it was set (messages); 0 = default
};

// What is waited for, each on its own clock (README "Timeouts" explains the
// defaults): a silent provider is abandoned within 40 s of a streamed request
// (connect + stream_first_byte), while a non-streamed answer, whose head
// arrives only once a reasoning model has finished, gets minutes.
struct Timeouts {
  uint32_t connect_ms = 10'000;
  uint32_t first_byte_ms = 600'000;        // non-streamed: request sent -> response head
  uint32_t idle_ms = 60'000;               // longest gap between response bytes
  uint32_t total_ms = 0;                   // 0 = no overall limit
  uint32_t stream_first_byte_ms = 30'000;  // streamed: request sent -> response head
  uint32_t first_event_ms = 60'000;        // streamed: response head -> first content event
};

struct Limits {
  uint64_t max_body_bytes = 16u << 20;
  uint32_t max_header_bytes = 64u << 10;
  uint32_t max_headers = 100;
};

// USD per million tokens; a negative value means "unknown" (never $0).
struct Pricing {
  double input_no_cache = -1;
  double cache_read = -1;
  double cache_write = -1;
  double output_text = -1;
  double reasoning = -1;
};

// One entry of a provider's model catalog.
struct CatalogModel {
  std::string id;
  std::string name;  // display name (optional)
  std::string description;
  uint32_t max_input_tokens = 0;               // largest prompt accepted; 0 = unknown
  uint32_t max_output_tokens = 0;              // 0 = unknown
  std::vector<std::string> input_modalities;   // e.g. text, image; empty = unknown
  std::vector<std::string> output_modalities;  // e.g. text; empty = unknown
  Pricing pricing;
};

// Failover knobs (upstream.retries, upstream.circuit_breaker).
struct FailoverConfig {
  uint32_t retries = 0;             // extra tries on the same endpoint before moving on
  uint32_t retry_backoff_ms = 200;  // base of the jittered exponential backoff
  uint32_t breaker_failures = 5;    // consecutive failures that open the breaker
  uint32_t breaker_cooldown_ms = 30'000;
  // An upstream's Retry-After is honoured up to this long.
  uint32_t max_retry_after_ms = 300'000;
  // A 429 whose Retry-After is at most this long is waited out on the same
  // endpoint when no other endpoint of the route can serve.
  uint32_t retry_after_wait_ms = 5'000;
  // upstream.stream_recovery: a stream that breaks after the client got part
  // of the answer is continued on the route's next endpoint.
  bool stream_recovery = true;
};

// kMpp (Machine Payment Protocol) is accepted from the manual's config but not
// served yet: such a provider is never active.
enum class AuthStyle { kBearer, kHeader, kMpp };

// A provider after built-ins, overrides and the environment are merged.
struct Provider {
  std::string name;
  std::string api_protocol;  // openai | anthropic | google (| mcp | rest: never active)
  std::string api_base;
  std::string api_key;
  std::string env_prefix;
  std::string alt_env_prefix;
  AuthStyle auth = AuthStyle::kBearer;
  std::string auth_header;
  std::vector<std::pair<std::string, std::string>> default_headers;
  std::vector<CatalogModel> catalog;  // in catalog priority order
  // Key pool beyond api_key (providers.X.api_keys): never contains api_key or
  // empty strings. With no api_key, the first pool key became api_key.
  std::vector<std::string> api_keys;
  std::optional<Timeouts> timeouts;  // providers.X.timeouts (unset fields keep upstream.timeouts)
  bool builtin = false;
  bool requires_key = true;          // false: a local server (ollama) that needs no key
  bool allow_insecure_http = false;  // allow http:// to a non-loopback host
  bool api_key_explicit = false;     // set in bitrouter.yaml (even if empty)
  bool api_keys_explicit = false;    // api_keys set in bitrouter.yaml (even if all empty)
  bool api_base_explicit = false;    // set in bitrouter.yaml
  std::string base_source;           // env var the base URL came from, if any
  std::string key_env;               // env var api_key came from ({PREFIX}_API_KEY), if any
  // api_protocol: mcp with bridge: true: loaded as an http MCP server
  // (cfg.mcp_servers) and never active as a model provider.
  bool mcp_bridge = false;
  int bridge_line = 0;  // line of `bridge:` (messages)
  int line = 0;         // line of providers.<name>: in bitrouter.yaml; 0 = built-in only
  // Filled by resolution: whether it can serve, and why not / where the key came from.
  bool active = false;
  std::string reason;
};

// One hop of a virtual model (models.X.endpoints[i]).
struct Endpoint {
  std::string provider;
  std::string model_id;      // `model_id` or `service_id`
  std::string api_key;       // optional override (key pools)
  std::string api_base;      // optional override
  std::string api_protocol;  // optional override (e.g. a provider's Anthropic-compatible base)
  uint32_t weight = 1;
  int line = 0;  // for messages
  // Non-empty: routing must skip this endpoint (e.g. its api_key override is
  // empty after ${VAR} substitution; using the provider's key instead would be
  // a silent fallback to another account).
  std::string inactive_reason;
};

// A virtual model (models.X): a name clients use, resolved to endpoints.
struct VirtualModel {
  std::string name;
  std::string strategy = "priority";  // priority | load_balance
  std::vector<Endpoint> endpoints;
  std::optional<Timeouts> timeouts;  // models.X.timeouts (unset fields keep upstream.timeouts)
  int line = 0;
  // Descriptive metadata (models.X.name / description / max_*_tokens); 0 = unknown.
  std::string display_name;
  std::string description;
  uint32_t max_input_tokens = 0;
  uint32_t max_output_tokens = 0;
};

// The usage store (bitrouterd only). url: "" = SQLite at <home>/bitrouter.db;
// `--db` > BITROUTER_DATABASE_URL > database.url > the default.
struct DatabaseConfig {
  std::string url;
  // Usage rows older than this are pruned in the background; 0 = keep all.
  int64_t retention_s = 30 * 86'400;
};

// guardrails: patterns scanned in requests (upgoing) and answers (downgoing),
// and the tool filters. Validated at load (names, actions, regexes); the
// engine (shared/guardrails) turns it into rules.
struct GuardrailsConfig {
  // The built-in pattern names, in the order the engine applies them
  // (shared/guardrails/patterns.cc holds their regexes).
  static constexpr std::array<std::string_view, 7> kBuiltinPatterns = {
      "api_keys",          "private_keys", "credentials",        "pii_emails",
      "pii_phone_numbers", "ip_addresses", "suspicious_commands"};
  // True when the section is present, unless it says `enabled: false`.
  bool enabled = false;
  std::vector<std::string> disabled_patterns;  // built-in names
  struct CustomPattern {
    std::string name;
    std::string regex;               // RE2 syntax; compiles and cannot match ""
    std::string direction = "both";  // upgoing | downgoing | both
    int line = 0;
  };
  std::vector<CustomPattern> custom_patterns;
  // pattern name -> "warn" | "redact" | "block"
  std::map<std::string, std::string> upgoing, downgoing, custom_upgoing, custom_downgoing;
  bool include_details = true;
  bool include_help_link = false;
  // Longest match a custom pattern may produce (its stream holdback), 16..65536.
  uint32_t max_match_bytes = 256;
  struct ToolFilter {
    std::vector<std::string> allow, deny;  // tool names; '*' glob allowed
  };
  struct ParamRule {
    std::vector<std::string> deny;
    std::string action = "strip";  // strip | block
  };
  struct ToolProvider {
    ToolFilter filter;
    std::map<std::string, ParamRule> params;  // by tool name
  };
  bool tools_enabled = false;
  std::map<std::string, ToolProvider> tool_providers;  // by provider name
  int line = 0;                                        // line of the guardrails: key
};

// routing.<trigger>: a model name whose requests are routed by content
// (shared/routing/content_router.h). Signals are merged at load: the
// built-ins (unless inherit_defaults: false), then the rule's own, which
// replace a built-in of the same name. Keywords are lowercase.
struct RoutingRuleConfig {
  bool inherit_defaults = true;
  bool word_match = false;  // match: word
  std::map<std::string, std::vector<std::string>> signals;
  std::vector<std::string> high_keywords;
  uint32_t message_length_threshold = 1000;  // 0 = off
  uint32_t turn_count_threshold = 10;        // 0 = off
  bool code_blocks_increase_complexity = true;
  // "<signal>.low|high" | "<signal>" | "default" -> model name (routed as usual)
  std::map<std::string, std::string> models;
  int line = 0;
};

// compat.llmrouter: Rungate's logical models (llmrouter/auto|simple|coding|
// reasoning) with a candidate list per category (Rungate's table unless
// overridden).
struct LlmRouterCompatConfig {
  bool enabled = false;
  bool word_match = false;
  std::map<std::string, std::vector<std::string>> candidates;  // simple coding reasoning vision
  int line = 0;
};

struct Config {
  std::string source;  // file path, or "(defaults)" when no file exists
  ServerConfig server;
  DatabaseConfig database;
  Timeouts timeouts;
  Limits limits;
  std::string ca_file;
  bool inherit_defaults = true;
  std::map<std::string, Provider> providers;   // by name; deterministic order
  std::map<std::string, VirtualModel> models;  // virtual models by name
  FailoverConfig failover;
  GuardrailsConfig guardrails;
  // MCP upstreams by id: mcp_servers plus the bridged `api_protocol: mcp`
  // providers (which stay inactive as model providers).
  std::map<std::string, McpServerConfig> mcp_servers;
  McpGatewayConfig mcp;
  std::map<std::string, VirtualTool> tools;          // the manual's `tools:` by name
  std::map<std::string, RoutingRuleConfig> routing;  // `routing:` rules by trigger
  LlmRouterCompatConfig llmrouter;                   // `compat.llmrouter`
  std::vector<std::string> warnings;                 // accepted-but-ignored sections etc.
};

}  // namespace bitrouter::config
