// routing: (classified auto routing rules) and compat.llmrouter (Rungate's
// logical models). Everything the worker would have to guess about is a load
// error here: unknown keys, empty or non-string keywords, a models key naming
// no signal, a rule without models.default, a trigger that shadows a virtual
// model.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/config/builtin_signals_data.h"
#include "shared/config/loader_internal.h"

namespace bitrouter::config::internal {
namespace {

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

struct Builtins {
  std::map<std::string, std::vector<std::string>> signals;
  std::vector<std::string> high_keywords;
};

// builtin_signals.yaml, parsed once. It ships in the binary, so a parse
// failure is a build defect; it still becomes an error, never a crash.
absl::StatusOr<const Builtins*> LoadBuiltinSignals() {
  static const absl::StatusOr<Builtins> parsed = []() -> absl::StatusOr<Builtins> {
    try {
      YAML::Node root = YAML::Load(std::string(kBuiltinSignalsYaml));
      Builtins b;
      for (const auto& kv : root["signals"]) {
        for (const auto& k : kv.second["keywords"]) {
          b.signals[kv.first.Scalar()].push_back(absl::AsciiStrToLower(k.Scalar()));
        }
      }
      for (const auto& k : root["complexity"]["high_keywords"]) {
        b.high_keywords.push_back(absl::AsciiStrToLower(k.Scalar()));
      }
      return b;
    } catch (const YAML::Exception& e) {
      return absl::InternalError(absl::StrCat("builtin_signals.yaml: ", e.what()));
    }
  }();
  if (!parsed.ok()) return parsed.status();
  return &*parsed;
}

absl::StatusOr<std::vector<std::string>> Keywords(const Reader& r, const YAML::Node& node,
                                                  const std::string& path) {
  if (!node.IsSequence()) return r.Error(node, path, "expected a list of keywords");
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string item = absl::StrCat(path, "[", i, "]");
    if (!node[i].IsScalar()) return r.Error(node[i], item, "a keyword must be a string");
    ASSIGN_OR_RETURN(std::string k, r.String(node[i], item));
    if (k.empty()) return r.Error(node[i], item, "a keyword must not be empty");
    out.push_back(absl::AsciiStrToLower(k));
  }
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

absl::Status ReadSignals(const Reader& r, const YAML::Node& node, const std::string& path,
                         RoutingRuleConfig* rule) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string spath = absl::StrCat(path, ".", name);
    // The name ends up in a response header (x-bitrouter-route-category).
    if (!ValidName(name) || name == "default" || name.find('.') != std::string::npos) {
      return r.Error(kv.first, spath,
                     "a signal name is printable ASCII without spaces or '.', not 'default'");
    }
    RETURN_IF_ERROR(r.RequireMap(kv.second, spath));
    std::vector<std::string> keywords;
    bool has_keywords = false;
    for (const auto& f : kv.second) {
      if (f.first.Scalar() != "keywords") return r.Unknown(f.first, spath);
      ASSIGN_OR_RETURN(keywords, Keywords(r, f.second, spath + ".keywords"));
      has_keywords = true;
    }
    if (!has_keywords || keywords.empty()) {
      return r.Error(kv.first, spath, "a signal needs at least one keyword");
    }
    rule->signals[name] = std::move(keywords);  // replaces a built-in of that name
  }
  return absl::OkStatus();
}

absl::Status ReadComplexity(const Reader& r, const YAML::Node& node, const std::string& path,
                            RoutingRuleConfig* rule) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "high_keywords") {
      ASSIGN_OR_RETURN(rule->high_keywords, Keywords(r, kv.second, fpath));
    } else if (key == "message_length_threshold") {
      ASSIGN_OR_RETURN(rule->message_length_threshold, r.Uint(kv.second, fpath, 100'000'000));
    } else if (key == "turn_count_threshold") {
      ASSIGN_OR_RETURN(rule->turn_count_threshold, r.Uint(kv.second, fpath, 1'000'000));
    } else if (key == "code_blocks_increase_complexity") {
      ASSIGN_OR_RETURN(rule->code_blocks_increase_complexity, r.Bool(kv.second, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> WordMatch(const Reader& r, const YAML::Node& node, const std::string& path) {
  ASSIGN_OR_RETURN(std::string m, r.String(node, path));
  if (m == "word") return true;
  if (m == "substring") return false;
  return r.Error(node, path, "expected substring or word");
}

absl::Status ReadRule(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                      const Builtins& builtins, Config* cfg) {
  const std::string trigger = key.Scalar();
  const std::string path = absl::StrCat("routing.", trigger);
  if (!ValidName(trigger)) {
    return r.Error(key, path, "a trigger is a model name: printable ASCII without spaces");
  }
  // The OpenClaw plugin writes a route named `auto`: a rule of that name
  // takes the name (its models: may still send a request to the route).
  if (cfg->models.count(trigger)) {
    r.Warn(key, path,
           "takes this name over the virtual model of the same name in models: (the rule's "
           "models: can still name it)");
  }
  RETURN_IF_ERROR(r.RequireMap(node, path));
  RoutingRuleConfig rule;
  rule.line = LineOf(key);
  std::optional<YAML::Node> models_node;
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    if (k == "inherit_defaults") {
      ASSIGN_OR_RETURN(rule.inherit_defaults, r.Bool(kv.second, fpath));
    } else if (k == "match") {
      ASSIGN_OR_RETURN(rule.word_match, WordMatch(r, kv.second, fpath));
    } else if (k == "signals") {
      RETURN_IF_ERROR(ReadSignals(r, kv.second, fpath, &rule));
    } else if (k == "complexity") {
      RETURN_IF_ERROR(ReadComplexity(r, kv.second, fpath, &rule));
    } else if (k == "models") {
      models_node = kv.second;
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (rule.inherit_defaults) {
    for (const auto& [name, keywords] : builtins.signals) rule.signals.try_emplace(name, keywords);
    if (!node["complexity"] || !node["complexity"]["high_keywords"]) {
      rule.high_keywords = builtins.high_keywords;
    }
  }
  if (!models_node) return r.Error(key, path, "a rule needs models: with at least default");
  const std::string mpath = path + ".models";
  RETURN_IF_ERROR(r.RequireMap(*models_node, mpath));
  for (const auto& kv : *models_node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(mpath, ".", k);
    if (k != "default") {
      std::string signal = k;
      if (size_t dot = k.find('.'); dot != std::string::npos) {
        signal = k.substr(0, dot);
        std::string level = k.substr(dot + 1);
        if (level != "low" && level != "high") {
          return r.Error(kv.first, fpath, "expected <signal>, <signal>.low or <signal>.high");
        }
      }
      if (!rule.signals.count(signal)) {
        return r.Error(kv.first, fpath, absl::StrCat("no signal named '", signal, "'"));
      }
    }
    ASSIGN_OR_RETURN(std::string model, r.String(kv.second, fpath));
    if (!ValidName(model)) {
      return r.Error(kv.second, fpath, "a model name: printable ASCII without spaces");
    }
    rule.models[k] = std::move(model);
  }
  if (!rule.models.count("default")) {
    return r.Error(*models_node, mpath, "missing default (the model when no signal decides)");
  }
  cfg->routing[trigger] = std::move(rule);
  return absl::OkStatus();
}

// Rungate @rungate/llmrouter 0.1.9's candidate table, tried in order.
const std::map<std::string, std::vector<std::string>>& RungateCandidates() {
  static const auto* table = new std::map<std::string, std::vector<std::string>>{
      {"simple",
       {"deepseek/deepseek-chat", "xiaomi/mimo-v2-flash", "minimax/minimax-m2.1",
        "deepseek/deepseek-chat-v3.1", "deepseek/deepseek-chat-v3-0324"}},
      {"coding",
       {"qwen/qwen3-coder-next", "deepseek/deepseek-v3.2", "openai/gpt-oss-120b",
        "moonshotai/kimi-k2.5"}},
      {"reasoning",
       {"deepseek/deepseek-v3.2", "deepseek/deepseek-r1", "deepseek/deepseek-r1-0528",
        "qwen/qwen3-235b-a22b-thinking-2507", "moonshotai/kimi-k2.5", "moonshotai/kimi-k2-0905",
        "z-ai/glm-5", "minimax/minimax-m2.5"}},
      {"vision", {"qwen/qwen3-vl-235b-a22b-thinking"}},
  };
  return *table;
}

absl::Status ReadLlmRouter(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                           Config* cfg) {
  const std::string path = "compat.llmrouter";
  LlmRouterCompatConfig& c = cfg->llmrouter;
  c = {};
  c.line = LineOf(key);
  c.candidates = RungateCandidates();
  if (node.IsScalar()) {
    ASSIGN_OR_RETURN(c.enabled, r.Bool(node, path));
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(r.RequireMap(node, path));
  c.enabled = true;  // a block turns it on unless it says enabled: false
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    if (k == "enabled") {
      ASSIGN_OR_RETURN(c.enabled, r.Bool(kv.second, fpath));
    } else if (k == "match") {
      ASSIGN_OR_RETURN(c.word_match, WordMatch(r, kv.second, fpath));
    } else if (k == "candidates") {
      RETURN_IF_ERROR(r.RequireMap(kv.second, fpath));
      for (const auto& cat : kv.second) {
        const std::string name = cat.first.Scalar();
        const std::string cpath = absl::StrCat(fpath, ".", name);
        if (!c.candidates.count(name)) {
          return r.Error(cat.first, cpath, "expected simple, coding, reasoning or vision");
        }
        ASSIGN_OR_RETURN(std::vector<std::string> list, r.StringList(cat.second, cpath));
        if (list.empty()) return r.Error(cat.second, cpath, "needs at least one model");
        for (size_t i = 0; i < list.size(); ++i) {
          if (!ValidName(list[i])) {
            return r.Error(cat.second[i], absl::StrCat(cpath, "[", i, "]"),
                           "a model name: printable ASCII without spaces");
          }
        }
        c.candidates[name] = std::move(list);
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadRouting(const Reader& r, const YAML::Node& node, Config* cfg) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, "routing"));
  ASSIGN_OR_RETURN(const Builtins* builtins, LoadBuiltinSignals());
  for (const auto& kv : node) RETURN_IF_ERROR(ReadRule(r, kv.first, kv.second, *builtins, cfg));
  return absl::OkStatus();
}

absl::Status ReadCompat(const Reader& r, const YAML::Node& node, Config* cfg) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, "compat"));
  for (const auto& kv : node) {
    if (kv.first.Scalar() == "llmrouter") {
      RETURN_IF_ERROR(ReadLlmRouter(r, kv.first, kv.second, cfg));
    } else {
      return r.Unknown(kv.first, "compat");
    }
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
