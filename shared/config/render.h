#pragma once
// The effective configuration as YAML-like text, for `bitrouterctl config
// validate` and `bitrouterd --validate`: server, upstream (timeouts, CA file,
// failover), every provider (active or not and why, protocol, base, key
// source, key pool size, catalog ids), virtual models and their endpoints,
// and the loader's warnings.
//
// Secrets never appear: API keys show as `<redacted: from OPENAI_API_KEY>` or
// `<redacted>`, key pools only as a count, default header values as
// `<redacted>`, credentials inside URLs as `<redacted>`; a final pass removes
// any remaining occurrence of a configured secret (8+ characters). Pure
// functions; thread-safe.

#include <cstdint>
#include <string>

#include "shared/config/config.h"

namespace bitrouter::config {

std::string RenderEffectiveConfig(const Config& cfg);

// "250ms", "10s", "5m", "1h" (the largest unit that divides exactly); "0s".
std::string FormatDurationMs(uint32_t ms);

// Replaces the userinfo of every "scheme://user:pass@host" in `text` with
// "<redacted>" (for messages that quote a URL).
std::string RedactUrlCredentials(std::string text);

// A YAML scalar: plain when unambiguous, else double-quoted and escaped.
std::string YamlScalar(const std::string& s);

}  // namespace bitrouter::config
