#pragma once
// The data plane's view of a control-plane Snapshot: immutable once built,
// shared by every request that started on it (std::shared_ptr<const>).
// Built off the loop (on the control thread) so the loop only swaps a pointer.

#include <openssl/ssl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "shared/common/url.h"
#include "shared/config/config.h"
#include "shared/guardrails/guard.h"
#include "shared/guardrails/tool_policy.h"
#include "shared/protocol/adapters.h"
#include "shared/routing/content_router.h"
#include "shared/routing/health.h"
#include "shared/routing/route_table.h"
#include "worker/snapshot/mcp_runtime.h"

namespace bitrouter::worker {

// config::Timeouts as the worker uses them (same defaults).
struct Timeouts {
  uint32_t connect_ms = 10'000;
  uint32_t first_byte_ms = 600'000;  // non-streamed: request sent -> response head
  uint32_t idle_ms = 60'000;
  uint32_t total_ms = 0;
  uint32_t stream_first_byte_ms = 30'000;  // streamed: request sent -> response head
  uint32_t first_event_ms = 60'000;        // streamed: head -> first content event
};

struct ProviderRuntime {
  std::string name;
  std::string protocol;  // config api_protocol: openai | openai_responses | anthropic | google
  protocol::Protocol wire = protocol::Protocol::kChat;
  // Default headers carry an anthropic-version (else the worker sends one).
  bool has_anthropic_version = false;
  Url base;
  // Pre-rendered header lines per pool key ("Host: ...\r\n" + auth + default
  // headers) so the hot path only concatenates. Index 0 is api_key.
  std::vector<std::string> header_lines;
  std::vector<std::string> keys;  // api_key then the pool (for endpoint base overrides)
  std::string auth_header;        // empty = Authorization: Bearer
  std::string default_header_lines;
  std::vector<std::string> models;
  // Catalog context windows (max_input_tokens) of the models that declare one.
  std::map<std::string, uint32_t, std::less<>> context_windows;
  // Catalog output limits (max_output_tokens) of the models that declare one.
  std::map<std::string, uint32_t, std::less<>> max_outputs;
  // Catalog prices (USD per million tokens; negative = unknown) by model id:
  // the cost of a usage record. A model outside the catalog has no price.
  std::map<std::string, config::Pricing, std::less<>> pricing;
  bool has_timeouts = false;
  Timeouts timeouts;

  // Header lines for a given base/key (endpoint overrides).
  std::string RenderHeaderLines(const Url& base, const std::string& key) const;
};

struct Limits {
  uint64_t max_body_bytes = 16u << 20;
  uint32_t max_header_bytes = 64u << 10;
  uint32_t max_headers = 100;
  uint32_t header_timeout_ms = 10'000;
  uint32_t keepalive_timeout_ms = 75'000;
  uint32_t drain_timeout_ms = 30'000;
  uint32_t body_timeout_ms = 60'000;      // between request body bytes
  uint32_t send_timeout_ms = 60'000;      // a queued response write without progress
  uint32_t stream_keepalive_ms = 30'000;  // SSE comment after this long without an event
  bool access_log = true;
  bool metering = true;  // usage records and request metrics (server.metering)
};

struct Failover {
  uint32_t retries = 0;
  uint32_t retry_backoff_ms = 200;
  uint32_t max_retry_after_ms = 300'000;  // cap on an upstream's Retry-After
  uint32_t retry_after_wait_ms = 5'000;   // a 429 this short is waited out (last endpoint)
  bool stream_recovery = true;            // mid-stream rescue (proxy_rescue.h)
  routing::BreakerPolicy breaker;
};

// A virtual key as the workers enforce it (bitrouterd's KeyRegistry).
struct KeyPolicy {
  std::string id;
  std::string name;
  std::vector<std::string> models;  // scope patterns; empty = every model
  // MCP scope patterns (shared/keys/mcp_scope.h); empty = every MCP tool.
  std::vector<std::string> mcp_tools;
  bool has_budget = false;
  uint64_t rpm = 0;  // 0 = no limit
  uint64_t tpm = 0;
  int64_t expires_unix_ms = 0;  // 0 = never
  uint32_t slot = UINT32_MAX;   // node key table slot
};

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

struct WorkerSnapshot {
  uint64_t version = 0;
  std::string content_hash;
  std::map<std::string, ProviderRuntime, std::less<>> providers;
  Limits limits;
  Timeouts timeouts;
  std::string models_json;  // pre-rendered GET /v1/models body (OpenAI shape)
  struct ListedModel {
    std::string id;        // provider:model or a route name
    std::string owned_by;  // provider name, or "bitrouter" for routes
  };
  std::vector<ListedModel> model_list;  // what models_json lists, in order
  routing::RouteTable routes;
  std::map<std::string, Timeouts, std::less<>> route_timeouts;  // routes that override
  Failover failover;
  std::shared_ptr<SSL_CTX> tls;  // client context: system roots + extra CA file
  // Active virtual keys by the SHA-256 (raw 32 bytes) of their secret.
  absl::flat_hash_map<std::string, KeyPolicy> keys;
  bool require_key = false;  // server.skip_auth: false
  // The guardrail rules, compiled (RE2); null when guardrails are off.
  std::shared_ptr<const guardrails::Guard> guard;
  // guardrails.tools; null when no provider has a tool policy.
  std::shared_ptr<const guardrails::ToolPolicy> tools;
  // The MCP gateway's servers and settings; null when none are configured.
  std::shared_ptr<const McpRuntime> mcp;
  // Classified auto routing (`routing:` rules, compat.llmrouter); null when
  // neither is configured.
  std::shared_ptr<const routing::ContentRouting> content_routing;

  const ProviderRuntime* FindProvider(std::string_view name) const {
    auto it = providers.find(name);
    return it == providers.end() ? nullptr : &it->second;
  }
};

using SnapshotPtr = std::shared_ptr<const WorkerSnapshot>;

}  // namespace bitrouter::worker
