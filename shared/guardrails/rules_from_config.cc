// GuardrailsConfig -> the rules in force. The loader has already reported
// every problem with file:line; the checks here keep the function total for a
// config built by hand (tests, tools).

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/config/regex_bound.h"
#include "shared/guardrails/guard.h"

namespace bitrouter::guardrails {
namespace {

absl::StatusOr<Action> ParseAction(std::string_view name, std::string_view text) {
  if (text == "warn") return Action::kWarn;
  if (text == "redact") return Action::kRedact;
  if (text == "block") return Action::kBlock;
  return absl::InvalidArgumentError(absl::StrCat("guardrail pattern '", AV(name),
                                                 "': unknown action '", AV(text),
                                                 "' (expected warn, redact or block)"));
}

constexpr size_t kUp = static_cast<size_t>(Direction::kUpgoing);
constexpr size_t kDown = static_cast<size_t>(Direction::kDowngoing);

absl::Status CheckBuiltinNames(const std::map<std::string, std::string>& actions,
                               std::string_view section) {
  for (const auto& [name, action] : actions) {
    if (FindBuiltinPattern(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("guardrails.", AV(section), ": unknown built-in pattern '", name, "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Rule>> RulesFromConfig(const config::GuardrailsConfig& cfg) {
  std::vector<Rule> rules;
  if (!cfg.enabled) return rules;
  RETURN_IF_ERROR(CheckBuiltinNames(cfg.upgoing, "upgoing"));
  RETURN_IF_ERROR(CheckBuiltinNames(cfg.downgoing, "downgoing"));
  for (const std::string& name : cfg.disabled_patterns) {
    if (FindBuiltinPattern(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("guardrails.disabled_patterns: unknown built-in pattern '", name, "'"));
    }
  }
  for (const BuiltinPattern& p : BuiltinPatterns()) {
    const std::string name(p.name);
    if (std::find(cfg.disabled_patterns.begin(), cfg.disabled_patterns.end(), name) !=
        cfg.disabled_patterns.end()) {
      continue;
    }
    Rule r;
    r.name = name;
    r.regex = std::string(p.regex);
    r.builtin = true;
    r.description = std::string(p.description);
    r.max_match_bytes = p.max_match_bytes;
    r.literal_prefix = std::string(p.literal_prefix);
    r.accept = p.accept;
    r.extend = p.extend;
    // v0: every applied pattern warns unless the config names an action.
    r.action[kUp] = p.upgoing ? Action::kWarn : Action::kNone;
    r.action[kDown] = p.downgoing ? Action::kWarn : Action::kNone;
    if (auto it = cfg.upgoing.find(name); it != cfg.upgoing.end()) {
      ASSIGN_OR_RETURN(r.action[kUp], ParseAction(name, it->second));
    }
    if (auto it = cfg.downgoing.find(name); it != cfg.downgoing.end()) {
      ASSIGN_OR_RETURN(r.action[kDown], ParseAction(name, it->second));
    }
    rules.push_back(std::move(r));
  }
  for (const auto& c : cfg.custom_patterns) {
    if (FindBuiltinPattern(c.name) != nullptr ||
        std::any_of(rules.begin(), rules.end(), [&](const Rule& r) { return r.name == c.name; })) {
      return absl::InvalidArgumentError(
          absl::StrCat("custom guardrail pattern '", c.name, "' is defined twice"));
    }
    const bool up = c.direction == "upgoing" || c.direction == "both";
    const bool down = c.direction == "downgoing" || c.direction == "both";
    if (!up && !down) {
      return absl::InvalidArgumentError(absl::StrCat("custom guardrail pattern '", c.name,
                                                     "': unknown direction '", c.direction, "'"));
    }
    config::RegexBound bound = config::BoundOfRegex(c.regex);
    if (bound.max > cfg.max_match_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("custom guardrail pattern '", c.name,
                       "': the regex can match more than guardrails.max_match_bytes (",
                       cfg.max_match_bytes, ") bytes"));
    }
    Rule r;
    r.name = c.name;
    r.regex = c.regex;
    r.description = "custom pattern";
    // The pattern's own bound: a shorter holdback than the configured cap.
    r.max_match_bytes = std::max<size_t>(bound.max, 1);
    r.action[kUp] = up ? Action::kWarn : Action::kNone;
    r.action[kDown] = down ? Action::kWarn : Action::kNone;
    rules.push_back(std::move(r));
  }
  auto apply = [&](const std::map<std::string, std::string>& actions, size_t dir,
                   std::string_view section) -> absl::Status {
    for (const auto& entry : actions) {
      // Not a structured binding: clang 14 cannot capture one in a lambda.
      const std::string& name = entry.first;
      auto it = std::find_if(rules.begin(), rules.end(),
                             [&](const Rule& r) { return !r.builtin && r.name == name; });
      if (it == rules.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("guardrails.", AV(section), ": '", name, "' is not a custom pattern"));
      }
      if (it->action[dir] == Action::kNone) {
        return absl::InvalidArgumentError(absl::StrCat("guardrails.", AV(section),
                                                       ": custom pattern '", name,
                                                       "' does not scan that direction"));
      }
      ASSIGN_OR_RETURN(it->action[dir], ParseAction(name, entry.second));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(apply(cfg.custom_upgoing, kUp, "custom_upgoing"));
  RETURN_IF_ERROR(apply(cfg.custom_downgoing, kDown, "custom_downgoing"));
  return rules;
}

}  // namespace bitrouter::guardrails
