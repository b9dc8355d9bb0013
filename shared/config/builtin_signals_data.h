#pragma once
// The built-in signals of `routing:` rules (shared/routing/builtin_signals.yaml),
// embedded at build time.

#include <string_view>

namespace bitrouter::config {
extern const std::string_view kBuiltinSignalsYaml;
}  // namespace bitrouter::config
