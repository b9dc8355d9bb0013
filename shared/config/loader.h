#pragma once
// Loading pipeline (manual §Configuration): environment (.env + process) →
// ${VAR} substitution → YAML parse and validation (file:line errors) → merge
// built-in providers → environment overrides ({PREFIX}_API_KEY/_BASE_URL).
// yaml-cpp exceptions are caught here and never leave this module.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shared/config/config.h"
#include "shared/config/env.h"

namespace bitrouter::config {

// Parses YAML text. `file_name` is used in error messages ("file:line: field: why").
absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file_name,
                                   const EnvMap& env);

// Loads `path` (a missing file means all defaults) against `env`.
absl::StatusOr<Config> LoadConfigFile(const std::string& path, const EnvMap& env);

// Parses a duration: "250ms", "10s", "2m", "1h" or a bare number of seconds.
absl::StatusOr<uint32_t> ParseDurationMs(std::string_view text);

}  // namespace bitrouter::config

namespace bitrouter::config {

// True when `listen` (host:port, [v6]:port) names a loopback host
// (127.0.0.0/8, ::1, localhost); an empty host or 0.0.0.0 is every interface.
bool IsLoopbackListen(std::string_view listen);
// server.skip_auth: true is honoured only while every listener is loopback:
// anything else would serve the network without a key. The error names the
// file and line of skip_auth (or says it is the default).
absl::Status CheckAuthMode(const Config& cfg, std::string_view listen);

}  // namespace bitrouter::config
