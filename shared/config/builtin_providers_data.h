#pragma once
// The built-in provider catalog (builtin_providers.yaml), embedded at build time.

#include <string_view>

namespace bitrouter::config {
extern const std::string_view kBuiltinProvidersYaml;
}  // namespace bitrouter::config
