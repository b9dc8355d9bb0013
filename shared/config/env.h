#pragma once
// The environment the config is evaluated against: `.env` values overlaid by
// the process environment (the process wins), and ${VAR} substitution.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace bitrouter::config {

using EnvMap = std::map<std::string, std::string, std::less<>>;

// Parses .env text: KEY=VALUE lines, `export ` prefix, # comments, single or
// double quotes (double quotes unescape \n \" \\). Errors name the line.
absl::StatusOr<EnvMap> ParseDotEnv(std::string_view text, std::string_view file_name);

// Reads `path` if it exists (missing file = empty map) and overlays environ.
absl::StatusOr<EnvMap> LoadEnvironment(const std::string& dotenv_path);

// The process environment alone.
EnvMap ProcessEnvironment();

// Replaces ${VAR} and ${VAR:-default} in `text`. Unset → "" (or default).
// A malformed placeholder (no closing brace, bad name) is an error.
absl::StatusOr<std::string> Substitute(std::string_view text, const EnvMap& env);

}  // namespace bitrouter::config
