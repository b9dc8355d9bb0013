#pragma once
// The manual's `guardrails.tools` section: per provider, which tool names a
// model may be offered and may call (filter.allow / filter.deny, '*' globs),
// and per tool which argument names it may not carry
// (param_restrictions: strip them or block the call).
//
// "Provider" is the provider that serves the call: for an inference request
// the model provider of the endpoint (a request that may fail over to
// several providers is filtered by the strictest of them, so no provider is
// ever offered a tool it denies), for an MCP call the tool server.
//
// Immutable after construction; safe to use from any thread.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shared/config/config.h"

namespace bitrouter::guardrails {

struct ToolParamRule {
  std::vector<std::string> deny;  // argument names (top-level keys of the arguments object)
  bool block = false;             // false: strip them
};

struct ToolProviderPolicy {
  std::vector<std::string> allow;                            // non-empty: only these tools (globs)
  std::vector<std::string> deny;                             // globs
  std::map<std::string, ToolParamRule, std::less<>> params;  // by tool name (glob)

  bool Allows(std::string_view tool) const;
  // The argument rule for a tool; null when it has none.
  const ToolParamRule* Params(std::string_view tool) const;
};

class ToolPolicy {
 public:
  explicit ToolPolicy(std::map<std::string, ToolProviderPolicy, std::less<>> providers)
      : providers_(std::move(providers)) {}
  // Null when the section is absent, disabled or names no provider.
  static std::shared_ptr<const ToolPolicy> FromConfig(const config::GuardrailsConfig& cfg);

  // Null when the provider has no policy (every tool allowed as offered).
  const ToolProviderPolicy* For(std::string_view provider) const {
    auto it = providers_.find(provider);
    return it == providers_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, ToolProviderPolicy, std::less<>>& providers() const {
    return providers_;
  }

 private:
  std::map<std::string, ToolProviderPolicy, std::less<>> providers_;
};

}  // namespace bitrouter::guardrails
