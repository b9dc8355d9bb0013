#pragma once
// The commented starter bitrouter.yaml that `bitrouterctl init` writes.

#include <string>

#include "shared/config/config.h"

namespace bitrouter::config {

// Returns a starter config built from `detected` (normally ParseConfig("", …)
// against the user's environment): loopback listen 127.0.0.1:4356, a
// `providers:` stanza per active provider with a ${VAR} placeholder for its
// key (never a literal key), commented stanzas for the other built-ins, and
// one example virtual model `default` (priority) on the first active
// provider that has a catalog (commented out when there is none). The text
// loads with ParseConfig without errors. Pure function; thread-safe.
std::string StarterConfig(const Config& detected);

}  // namespace bitrouter::config
