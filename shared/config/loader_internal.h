#pragma once
// Internals of the loader shared by loader.cc, loader_providers.cc and
// loader_models.cc. Not part of the public API: include loader.h instead.
//
// Every error is "file:line: field.path: why" (Reader::Error). yaml-cpp
// exceptions are caught in ParseConfig and never leave the module.

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shared/common/loopback.h"
#include "shared/config/config.h"
#include "shared/config/env.h"
#include "yaml-cpp/yaml.h"

namespace bitrouter::config::internal {

// A timeout field not given in a `timeouts:` block while parsing. Resolution
// replaces it with the upstream.timeouts value (ParseDurationMs never yields it).
inline constexpr uint32_t kUnsetMs = std::numeric_limits<uint32_t>::max();

class Reader {
 public:
  Reader(std::string_view file, const EnvMap& env, std::vector<std::string>* warnings = nullptr)
      : file_(file), env_(env), warnings_(warnings) {}

  absl::Status Error(const YAML::Node& node, std::string_view path, std::string_view why) const;
  // The same at a line kept from an earlier pass (0 = unknown).
  absl::Status ErrorAt(int line, std::string_view path, std::string_view why) const;
  absl::StatusOr<std::string> String(const YAML::Node& node, std::string_view path) const;
  // A string (substituted) that is sent in an upstream header: a value with
  // CR, LF or another control byte, or a name that is not a token, is an
  // error here rather than a snapshot every worker rejects. Messages never
  // show the value (keys).
  absl::StatusOr<std::string> HeaderValue(const YAML::Node& node, std::string_view path) const;
  absl::StatusOr<std::string> HeaderName(const YAML::Node& node, std::string_view path) const;
  absl::StatusOr<uint32_t> Uint(const YAML::Node& node, std::string_view path, uint32_t max) const {
    return UintRange(node, path, 0, max);
  }
  absl::StatusOr<uint32_t> UintRange(const YAML::Node& node, std::string_view path, uint32_t min,
                                     uint32_t max) const;
  // A price in USD per million tokens: a finite number >= 0.
  absl::StatusOr<double> Price(const YAML::Node& node, std::string_view path) const;
  absl::StatusOr<bool> Bool(const YAML::Node& node, std::string_view path) const;
  absl::StatusOr<uint32_t> Duration(const YAML::Node& node, std::string_view path) const;
  // A sequence of strings (substituted).
  absl::StatusOr<std::vector<std::string>> StringList(const YAML::Node& node,
                                                      std::string_view path) const;
  absl::Status RequireMap(const YAML::Node& node, std::string_view path) const;
  absl::Status Unknown(const YAML::Node& key, std::string_view path) const;
  // Records "file:line: path: why" once (a provider may be read more than once).
  void Warn(const YAML::Node& node, std::string_view path, std::string_view why) const;
  void WarnAt(int line, std::string_view path, std::string_view why) const;

  // Reads a `timeouts:` block into `out`, changing only the fields present.
  // Start from AllUnset() to know later which fields were given.
  absl::Status Timeouts(const YAML::Node& node, std::string_view path, config::Timeouts* out) const;

  const EnvMap& env() const { return env_; }

 private:
  std::string_view file_;
  const EnvMap& env_;
  std::vector<std::string>* warnings_;
};

inline config::Timeouts AllUnset() {
  return {kUnsetMs, kUnsetMs, kUnsetMs, kUnsetMs, kUnsetMs, kUnsetMs};
}

// Replaces the kUnsetMs fields of `t` with those of `base`.
void FillTimeouts(const config::Timeouts& base, config::Timeouts* t);

// "http://" to a host outside 127.0.0.0/8, ::1 and localhost. Returns the
// reason ("http:// to non-loopback host X") or "" when the URL is acceptable.
std::string InsecureHttpReason(std::string_view url);

using bitrouter::IsLoopbackHost;  // shared/common/loopback.h

// --- loader_providers.cc ---------------------------------------------------

// Copies the parsed built-in providers (builtin_providers.yaml, parsed once
// per process) into cfg->providers.
absl::Status LoadBuiltins(Config* cfg);

// Reads the `providers:` section: overrides of built-ins, new providers,
// derives chains. Adds every provider named there to `mentioned`.
absl::Status ReadProviders(const Reader& r, const YAML::Node& node, Config* cfg,
                           std::set<std::string>* mentioned);

// Environment overrides ({PREFIX}_API_KEY / _BASE_URL), key pools, the
// plain-http rule and the active/inactive decision with its reason.
// `mentioned`: providers named in bitrouter.yaml (keyless ones need it).
// Fails when a key taken from the environment cannot be sent in a header.
absl::Status ResolveProvider(const EnvMap& env, const std::set<std::string>& mentioned,
                             const config::Timeouts& global, Provider* p);

// --- loader_models.cc ------------------------------------------------------

// Reads the `models:` section (virtual models) against the final provider
// set. Adds every provider an endpoint names to `mentioned`.
absl::Status ReadModels(const Reader& r, const YAML::Node& node, Config* cfg,
                        std::set<std::string>* mentioned);

// --- loader_mcp.cc ---------------------------------------------------------

// Turns the resolved `api_protocol: mcp` + `bridge: true` providers into
// http MCP servers (deactivating them as model providers), then reads
// `mcp_servers:` (`node` may be undefined or null) and checks that aggregate
// tool prefixes are unique. Runs after the providers are resolved.
absl::Status ReadMcpServers(const Reader& r, const YAML::Node& node, Config* cfg);

// Reads `mcp:` (`key` is its key, for the line) into cfg->mcp. After
// ReadMcpServers: the aggregate route must not shadow /mcp/<id>.
absl::Status ReadMcpGateway(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                            Config* cfg);

// --- loader_mcp_tools.cc ---------------------------------------------------

// Reads `tools:` (the manual's virtual tools) into cfg->tools. After
// ReadMcpServers: every endpoint must name an MCP server.
absl::Status ReadVirtualTools(const Reader& r, const YAML::Node& node, Config* cfg);

// --- loader_guardrails.cc --------------------------------------------------

// Reads the `guardrails:` section (`key` is its key, for the line) into
// cfg->guardrails, validating pattern names, actions and custom regexes.
absl::Status ReadGuardrails(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                            Config* cfg);

// --- loader_routing.cc -----------------------------------------------------

// Reads `routing:` (classified auto routing rules) into cfg->routing, merging
// the built-in signals. After ReadModels: a trigger must not shadow a
// virtual model.
absl::Status ReadRouting(const Reader& r, const YAML::Node& node, Config* cfg);

// Reads `compat:` (compat.llmrouter) into cfg->llmrouter.
absl::Status ReadCompat(const Reader& r, const YAML::Node& node, Config* cfg);

}  // namespace bitrouter::config::internal
