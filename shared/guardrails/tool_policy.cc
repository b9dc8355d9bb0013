#include "shared/guardrails/tool_policy.h"

#include "shared/keys/virtual_key.h"

namespace bitrouter::guardrails {

static bool AnyGlob(const std::vector<std::string>& globs, std::string_view name) {
  for (const std::string& g : globs) {
    if (keys::GlobMatch(g, name)) return true;
  }
  return false;
}

bool ToolProviderPolicy::Allows(std::string_view tool) const {
  if (!allow.empty() && !AnyGlob(allow, tool)) return false;
  return !AnyGlob(deny, tool);
}

const ToolParamRule* ToolProviderPolicy::Params(std::string_view tool) const {
  auto exact = params.find(tool);
  if (exact != params.end()) return &exact->second;
  for (const auto& [glob, rule] : params) {
    if (keys::GlobMatch(glob, tool)) return &rule;
  }
  return nullptr;
}

std::shared_ptr<const ToolPolicy> ToolPolicy::FromConfig(const config::GuardrailsConfig& cfg) {
  if (!cfg.enabled || !cfg.tools_enabled || cfg.tool_providers.empty()) return nullptr;
  std::map<std::string, ToolProviderPolicy, std::less<>> out;
  for (const auto& [name, p] : cfg.tool_providers) {
    ToolProviderPolicy& policy = out[name];
    policy.allow = p.filter.allow;
    policy.deny = p.filter.deny;
    for (const auto& [tool, rule] : p.params) {
      policy.params[tool] = ToolParamRule{rule.deny, rule.action == "block"};
    }
  }
  return std::make_shared<const ToolPolicy>(std::move(out));
}

}  // namespace bitrouter::guardrails
