// guardrails: the patterns scanned in requests and answers, their actions,
// the block message and the tool filters. Everything the engine would reject
// (an unknown pattern, a regex RE2 refuses or one without a finite longest
// match) is a load error here, so a config that loads also compiles.

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/config/loader_internal.h"
#include "shared/config/regex_bound.h"

namespace bitrouter::config::internal {
namespace {

using CustomPattern = GuardrailsConfig::CustomPattern;

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

bool IsBuiltin(std::string_view name) {
  const auto& all = GuardrailsConfig::kBuiltinPatterns;
  return std::find(all.begin(), all.end(), name) != all.end();
}

std::string BuiltinList() {
  std::string out;
  for (std::string_view n : GuardrailsConfig::kBuiltinPatterns) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", AV(n));
  }
  return out;
}

bool IsPatternName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Why `regex` cannot be a guardrail pattern, or "". The engine compiles it
// with the same options (UTF-8, never Latin-1).
std::string RegexProblem(const std::string& regex, uint32_t max_match_bytes) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(regex, options);
  if (!re.ok()) return absl::StrCat("the regex does not compile: ", re.error());
  RegexBound bound = BoundOfRegex(regex);
  if (bound.min == 0 || RE2::PartialMatch("", re)) return "the regex can match the empty string";
  if (bound.max > max_match_bytes) {
    // Streams hold back the longest match a pattern can produce.
    return absl::StrCat("the regex can match ",
                        bound.max == RegexBound::kUnbounded ? std::string("unboundedly many")
                                                            : absl::StrCat("up to ", bound.max),
                        " bytes, over guardrails.max_match_bytes (", max_match_bytes,
                        "): bound every repetition, e.g. {1,64} instead of + or *");
  }
  return "";
}

absl::StatusOr<std::string> ReadAction(const Reader& r, const YAML::Node& v,
                                       const std::string& path) {
  ASSIGN_OR_RETURN(std::string action, r.String(v, path));
  if (action != "warn" && action != "redact" && action != "block") {
    return r.Error(v, path, absl::StrCat("expected warn, redact or block, got '", action, "'"));
  }
  return action;
}

// upgoing / downgoing: built-in name -> action.
absl::Status ReadBuiltinActions(const Reader& r, const YAML::Node& node, const std::string& path,
                                std::map<std::string, std::string>* out) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", name);
    if (!IsBuiltin(name)) {
      return r.Error(
          kv.first, fpath,
          absl::StrCat("unknown built-in pattern; expected one of ", BuiltinList(),
                       " (custom patterns go under custom_", path.substr(path.find('.') + 1), ")"));
    }
    ASSIGN_OR_RETURN((*out)[name], ReadAction(r, kv.second, fpath));
  }
  return absl::OkStatus();
}

// custom_upgoing / custom_downgoing: custom name -> action; the pattern must
// act in that direction.
absl::Status ReadCustomActions(const Reader& r, const YAML::Node& node, const std::string& path,
                               std::string_view direction,
                               const std::vector<CustomPattern>& customs,
                               std::map<std::string, std::string>* out) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", name);
    auto it = std::find_if(customs.begin(), customs.end(),
                           [&](const CustomPattern& c) { return c.name == name; });
    if (it == customs.end()) {
      return r.Error(kv.first, fpath, "not a pattern of guardrails.custom_patterns");
    }
    if (it->direction != "both" && it->direction != direction) {
      return r.Error(
          kv.first, fpath,
          absl::StrCat("custom pattern '", name, "' has direction ", it->direction, " (line ",
                       it->line, "), so it never scans ", AV(direction), " content"));
    }
    ASSIGN_OR_RETURN((*out)[name], ReadAction(r, kv.second, fpath));
  }
  return absl::OkStatus();
}

absl::Status ReadCustomPattern(const Reader& r, const YAML::Node& node, const std::string& path,
                               uint32_t max_match_bytes, CustomPattern* c) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  c->line = LineOf(node);
  std::optional<YAML::Node> regex_node;
  bool has_name = false;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "name") {
      ASSIGN_OR_RETURN(c->name, r.String(kv.second, fpath));
      if (!IsPatternName(c->name)) {
        return r.Error(kv.second, fpath, "expected a name of a-z, 0-9 and _");
      }
      if (IsBuiltin(c->name)) {
        return r.Error(kv.second, fpath,
                       absl::StrCat("'", c->name, "' is a built-in pattern name"));
      }
      has_name = true;
    } else if (key == "regex") {
      ASSIGN_OR_RETURN(c->regex, r.String(kv.second, fpath));
      regex_node.emplace(kv.second);
    } else if (key == "direction") {
      ASSIGN_OR_RETURN(c->direction, r.String(kv.second, fpath));
      if (c->direction != "upgoing" && c->direction != "downgoing" && c->direction != "both") {
        return r.Error(
            kv.second, fpath,
            absl::StrCat("expected upgoing, downgoing or both, got '", c->direction, "'"));
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (!has_name) return r.Error(node, path, "needs name");
  if (!regex_node) return r.Error(node, path, "needs regex");
  if (std::string problem = RegexProblem(c->regex, max_match_bytes); !problem.empty()) {
    return r.Error(*regex_node, absl::StrCat(path, ".regex"),
                   absl::StrCat("custom pattern '", c->name, "': ", problem));
  }
  return absl::OkStatus();
}

absl::Status ReadParamRules(const Reader& r, const YAML::Node& node, const std::string& path,
                            std::map<std::string, GuardrailsConfig::ParamRule>* out) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    if (kv.first.Scalar() != "rules") return r.Unknown(kv.first, path);
    const std::string rpath = path + ".rules";
    if (kv.second.IsNull()) continue;
    RETURN_IF_ERROR(r.RequireMap(kv.second, rpath));
    for (const auto& tool : kv.second) {
      const std::string tpath = absl::StrCat(rpath, ".", tool.first.Scalar());
      RETURN_IF_ERROR(r.RequireMap(tool.second, tpath));
      GuardrailsConfig::ParamRule rule;
      for (const auto& f : tool.second) {
        const std::string key = f.first.Scalar();
        const std::string fpath = absl::StrCat(tpath, ".", key);
        if (key == "deny") {
          ASSIGN_OR_RETURN(rule.deny, r.StringList(f.second, fpath));
        } else if (key == "action") {
          ASSIGN_OR_RETURN(rule.action, r.String(f.second, fpath));
          if (rule.action != "strip" && rule.action != "block") {
            return r.Error(f.second, fpath,
                           absl::StrCat("expected strip or block, got '", rule.action, "'"));
          }
        } else {
          return r.Unknown(f.first, tpath);
        }
      }
      (*out)[tool.first.Scalar()] = std::move(rule);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadToolProvider(const Reader& r, const YAML::Node& node, const std::string& path,
                              GuardrailsConfig::ToolProvider* p) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "filter") {
      if (kv.second.IsNull()) continue;
      RETURN_IF_ERROR(r.RequireMap(kv.second, fpath));
      std::optional<YAML::Node> allow_key;
      std::optional<YAML::Node> deny_key;
      for (const auto& f : kv.second) {
        const std::string fkey = f.first.Scalar();
        const std::string ffpath = absl::StrCat(fpath, ".", fkey);
        if (fkey == "allow") {
          ASSIGN_OR_RETURN(p->filter.allow, r.StringList(f.second, ffpath));
          allow_key.emplace(f.first);
        } else if (fkey == "deny") {
          ASSIGN_OR_RETURN(p->filter.deny, r.StringList(f.second, ffpath));
          deny_key.emplace(f.first);
        } else {
          return r.Unknown(f.first, fpath);
        }
      }
      if (allow_key && deny_key) {
        const YAML::Node& later =
            allow_key->Mark().line > deny_key->Mark().line ? *allow_key : *deny_key;
        return r.Error(later, fpath, "give either allow or deny, not both");
      }
    } else if (key == "param_restrictions") {
      RETURN_IF_ERROR(ReadParamRules(r, kv.second, fpath, &p->params));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadTools(const Reader& r, const YAML::Node& node, GuardrailsConfig* g) {
  const std::string path = "guardrails.tools";
  g->tools_enabled = true;  // a present section is on unless it says otherwise
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "enabled") {
      ASSIGN_OR_RETURN(g->tools_enabled, r.Bool(kv.second, fpath));
    } else if (key == "providers") {
      if (kv.second.IsNull()) continue;
      RETURN_IF_ERROR(r.RequireMap(kv.second, fpath));
      for (const auto& p : kv.second) {
        const std::string name = p.first.Scalar();
        RETURN_IF_ERROR(ReadToolProvider(r, p.second, absl::StrCat(fpath, ".", name),
                                         &g->tool_providers[name]));
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadBlockMessage(const Reader& r, const YAML::Node& node, GuardrailsConfig* g) {
  const std::string path = "guardrails.block_message";
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "include_details") {
      ASSIGN_OR_RETURN(g->include_details, r.Bool(kv.second, fpath));
    } else if (key == "include_help_link") {
      ASSIGN_OR_RETURN(g->include_help_link, r.Bool(kv.second, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadGuardrails(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                            Config* cfg) {
  GuardrailsConfig& g = cfg->guardrails;
  g.line = LineOf(key);
  g.enabled = true;  // v0: a present section is on unless it says enabled: false
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, "guardrails"));
  // max_match_bytes bounds the custom regexes and the actions name them, so
  // those are read after the loop whatever their place in the file.
  std::optional<YAML::Node> customs, custom_up, custom_down;
  for (const auto& kv : node) {
    const std::string key_name = kv.first.Scalar();
    const std::string path = absl::StrCat("guardrails.", key_name);
    const YAML::Node& v = kv.second;
    if (key_name == "enabled") {
      ASSIGN_OR_RETURN(g.enabled, r.Bool(v, path));
    } else if (key_name == "disabled_patterns") {
      if (v.IsNull()) continue;
      ASSIGN_OR_RETURN(g.disabled_patterns, r.StringList(v, path));
      for (size_t i = 0; i < g.disabled_patterns.size(); ++i) {
        if (!IsBuiltin(g.disabled_patterns[i])) {
          return r.Error(v[i], absl::StrCat(path, "[", i, "]"),
                         absl::StrCat("unknown built-in pattern '", g.disabled_patterns[i],
                                      "'; expected one of ", BuiltinList()));
        }
      }
    } else if (key_name == "custom_patterns") {
      customs.emplace(v);
    } else if (key_name == "upgoing") {
      RETURN_IF_ERROR(ReadBuiltinActions(r, v, path, &g.upgoing));
    } else if (key_name == "downgoing") {
      RETURN_IF_ERROR(ReadBuiltinActions(r, v, path, &g.downgoing));
    } else if (key_name == "custom_upgoing") {
      custom_up.emplace(v);
    } else if (key_name == "custom_downgoing") {
      custom_down.emplace(v);
    } else if (key_name == "block_message") {
      RETURN_IF_ERROR(ReadBlockMessage(r, v, &g));
    } else if (key_name == "max_match_bytes") {
      ASSIGN_OR_RETURN(g.max_match_bytes, r.UintRange(v, path, 16, 65536));
    } else if (key_name == "tools") {
      RETURN_IF_ERROR(ReadTools(r, v, &g));
    } else {
      return r.Unknown(kv.first, "guardrails");
    }
  }
  if (customs && !customs->IsNull()) {
    const std::string path = "guardrails.custom_patterns";
    if (!customs->IsSequence()) return r.Error(*customs, path, "expected a list");
    std::set<std::string> seen;
    for (size_t i = 0; i < customs->size(); ++i) {
      const YAML::Node item = (*customs)[i];
      CustomPattern c;
      const std::string ipath = absl::StrCat(path, "[", i, "]");
      RETURN_IF_ERROR(ReadCustomPattern(r, item, ipath, g.max_match_bytes, &c));
      if (!seen.insert(c.name).second) {
        return r.Error(item["name"], ipath + ".name",
                       absl::StrCat("custom pattern '", c.name, "' is defined twice"));
      }
      g.custom_patterns.push_back(std::move(c));
    }
  }
  if (custom_up) {
    RETURN_IF_ERROR(ReadCustomActions(r, *custom_up, "guardrails.custom_upgoing", "upgoing",
                                      g.custom_patterns, &g.custom_upgoing));
  }
  if (custom_down) {
    RETURN_IF_ERROR(ReadCustomActions(r, *custom_down, "guardrails.custom_downgoing", "downgoing",
                                      g.custom_patterns, &g.custom_downgoing));
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
