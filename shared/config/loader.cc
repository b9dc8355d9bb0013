#include "shared/config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/common/url.h"
#include "shared/config/builtin_providers_data.h"
#include "yaml-cpp/yaml.h"

namespace bitrouter::config {
namespace {

// Sections of the manual's reference config that later work implements: they
// load with a warning instead of being rejected.
const std::set<std::string, std::less<>> kAcceptedLater = {
    "database", "models", "guardrails", "tools", "mcp", "wallet", "mpp", "routing", "keys",
    "solana_rpc_url"};

class Reader {
 public:
  Reader(std::string_view file, const EnvMap& env, std::vector<std::string>* warnings = nullptr)
      : file_(file), env_(env), warnings_(warnings) {}

  absl::Status Error(const YAML::Node& node, std::string_view path, std::string_view why) const {
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    return absl::InvalidArgumentError(
        absl::StrCat(AV(file_), ":", line, ": ", AV(path), ": ", AV(why)));
  }

  absl::StatusOr<std::string> String(const YAML::Node& node, std::string_view path) const {
    if (!node.IsScalar()) return Error(node, path, "expected a string");
    auto value = Substitute(node.Scalar(), env_);
    if (!value.ok()) return Error(node, path, SV(value.status().message()));
    return *value;
  }

  absl::StatusOr<uint32_t> Uint(const YAML::Node& node, std::string_view path, uint32_t max) const {
    ASSIGN_OR_RETURN(std::string text, String(node, path));
    uint32_t value = 0;
    if (!absl::SimpleAtoi(text, &value) || value > max) {
      return Error(node, path, absl::StrCat("expected an integer 0..", max, ", got '", text, "'"));
    }
    return value;
  }

  absl::StatusOr<bool> Bool(const YAML::Node& node, std::string_view path) const {
    ASSIGN_OR_RETURN(std::string text, String(node, path));
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    return Error(node, path, absl::StrCat("expected true or false, got '", text, "'"));
  }

  absl::StatusOr<uint32_t> Duration(const YAML::Node& node, std::string_view path) const {
    ASSIGN_OR_RETURN(std::string text, String(node, path));
    auto ms = ParseDurationMs(text);
    if (!ms.ok()) return Error(node, path, SV(ms.status().message()));
    return *ms;
  }

  absl::Status RequireMap(const YAML::Node& node, std::string_view path) const {
    if (!node.IsMap()) return Error(node, path, "expected a mapping");
    return absl::OkStatus();
  }

  absl::Status Unknown(const YAML::Node& key, std::string_view path) const {
    return Error(key, absl::StrCat(AV(path), ".", key.Scalar()), "unknown key");
  }

  // Records "file:line: path: why" once (a provider may be read more than once).
  void Warn(const YAML::Node& node, std::string_view path, std::string_view why) const {
    if (warnings_ == nullptr) return;
    std::string w(Error(node, path, why).message());
    if (std::find(warnings_->begin(), warnings_->end(), w) == warnings_->end()) {
      warnings_->push_back(std::move(w));
    }
  }

 private:
  std::string_view file_;
  const EnvMap& env_;
  std::vector<std::string>* warnings_;
};

absl::Status ReadServer(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "server"));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string path = absl::StrCat("server.", key);
    const YAML::Node& v = kv.second;
    if (key == "listen") {
      ASSIGN_OR_RETURN(cfg->server.listen, r.String(v, path));
      std::string host;
      uint16_t port;
      if (absl::Status s = ParseHostPort(cfg->server.listen, &host, &port); !s.ok()) {
        return r.Error(v, path, SV(s.message()));
      }
    } else if (key == "workers") {
      ASSIGN_OR_RETURN(cfg->server.workers, r.Uint(v, path, 256));
    } else if (key == "log_level") {
      ASSIGN_OR_RETURN(cfg->server.log_level, r.String(v, path));
      static const std::set<std::string, std::less<>> kLevels = {"trace", "debug", "info",
                                                                 "warn", "error"};
      if (!kLevels.count(cfg->server.log_level)) {
        return r.Error(v, path, "expected one of trace, debug, info, warn, error");
      }
    } else if (key == "drain_timeout") {
      ASSIGN_OR_RETURN(cfg->server.drain_timeout_ms, r.Duration(v, path));
    } else if (key == "header_timeout") {
      ASSIGN_OR_RETURN(cfg->server.header_timeout_ms, r.Duration(v, path));
    } else if (key == "keepalive_timeout") {
      ASSIGN_OR_RETURN(cfg->server.keepalive_timeout_ms, r.Duration(v, path));
    } else if (key == "control" || key == "skip_auth") {
      r.Warn(kv.first, path, "accepted but not used yet");
    } else {
      return r.Unknown(kv.first, "server");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadUpstream(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "upstream"));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string path = absl::StrCat("upstream.", key);
    if (key == "ca_file") {
      ASSIGN_OR_RETURN(cfg->ca_file, r.String(kv.second, path));
    } else if (key == "timeouts") {
      RETURN_IF_ERROR(r.RequireMap(kv.second, path));
      for (const auto& t : kv.second) {
        const std::string tkey = t.first.Scalar();
        const std::string tpath = absl::StrCat(path, ".", tkey);
        uint32_t* field = tkey == "connect"      ? &cfg->timeouts.connect_ms
                          : tkey == "first_byte" ? &cfg->timeouts.first_byte_ms
                          : tkey == "idle"       ? &cfg->timeouts.idle_ms
                          : tkey == "total"      ? &cfg->timeouts.total_ms
                                                 : nullptr;
        if (field == nullptr) return r.Unknown(t.first, path);
        ASSIGN_OR_RETURN(*field, r.Duration(t.second, tpath));
      }
    } else {
      return r.Unknown(kv.first, "upstream");
    }
  }
  return absl::OkStatus();
}

// Reads one provider mapping into `p`, changing only the fields present.
absl::Status ReadProvider(const Reader& r, const YAML::Node& node, const std::string& path,
                          Provider* p, std::string* derives) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "api_key") {
      ASSIGN_OR_RETURN(p->api_key, r.String(v, fpath));
      p->api_key_explicit = true;
    } else if (key == "api_base") {
      ASSIGN_OR_RETURN(p->api_base, r.String(v, fpath));
      p->api_base_explicit = !p->api_base.empty();
      if (!p->api_base.empty()) {
        if (auto url = ParseUrl(p->api_base); !url.ok()) return r.Error(v, fpath, SV(url.status().message()));
      }
    } else if (key == "api_protocol") {
      ASSIGN_OR_RETURN(p->api_protocol, r.String(v, fpath));
      if (p->api_protocol == "mcp" || p->api_protocol == "rest") {
        r.Warn(v, fpath, absl::StrCat("'", p->api_protocol,
                                      "' is accepted but not supported yet; the provider stays "
                                      "inactive"));
      } else if (p->api_protocol != "openai" && p->api_protocol != "anthropic" &&
                 p->api_protocol != "google") {
        return r.Error(v, fpath, "expected one of openai, anthropic, google, mcp, rest");
      }
    } else if (key == "env_prefix") {
      ASSIGN_OR_RETURN(p->env_prefix, r.String(v, fpath));
    } else if (key == "alt_env_prefix") {
      ASSIGN_OR_RETURN(p->alt_env_prefix, r.String(v, fpath));
    } else if (key == "derives") {
      if (derives == nullptr) return r.Unknown(kv.first, path);
      ASSIGN_OR_RETURN(*derives, r.String(v, fpath));
    } else if (key == "bridge") {
      r.Warn(kv.first, fpath, "accepted but not used yet");
    } else if (key == "auth") {
      RETURN_IF_ERROR(r.RequireMap(v, fpath));
      for (const auto& a : v) {
        const std::string akey = a.first.Scalar();
        const std::string apath = absl::StrCat(fpath, ".", akey);
        if (akey == "type") {
          ASSIGN_OR_RETURN(std::string type, r.String(a.second, apath));
          if (type == "bearer") {
            p->auth = AuthStyle::kBearer;
          } else if (type == "header") {
            p->auth = AuthStyle::kHeader;
          } else if (type == "mpp") {
            p->auth = AuthStyle::kMpp;
            r.Warn(a.second, apath,
                   "'mpp' is accepted but not supported yet; the provider stays inactive");
          } else {
            return r.Error(a.second, apath, "expected bearer, header or mpp");
          }
        } else if (akey == "header_name") {
          ASSIGN_OR_RETURN(p->auth_header, r.String(a.second, apath));
        } else if (akey == "api_key") {
          // The manual's spelling for header auth; same as the provider's api_key.
          ASSIGN_OR_RETURN(p->api_key, r.String(a.second, apath));
          p->api_key_explicit = true;
        } else {
          return r.Unknown(a.first, fpath);
        }
      }
      if (p->auth == AuthStyle::kHeader && p->auth_header.empty()) {
        return r.Error(v, fpath, "auth type 'header' needs header_name");
      }
    } else if (key == "default_headers") {
      RETURN_IF_ERROR(r.RequireMap(v, fpath));
      for (const auto& h : v) {
        ASSIGN_OR_RETURN(std::string value,
                         r.String(h.second, absl::StrCat(fpath, ".", h.first.Scalar())));
        p->default_headers.emplace_back(h.first.Scalar(), std::move(value));
      }
    } else if (key == "models") {
      // Catalog ids; per-model pricing and limits arrive with the routing work.
      if (!v.IsMap() && !v.IsSequence()) return r.Error(v, fpath, "expected a mapping of model ids");
      for (const auto& m : v) {
        std::string id = v.IsMap() ? m.first.Scalar() : m.Scalar();
        if (std::find(p->models.begin(), p->models.end(), id) == p->models.end()) {
          p->models.push_back(std::move(id));
        }
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::Status LoadBuiltins(const EnvMap& env, Config* cfg) {
  YAML::Node root = YAML::Load(std::string(kBuiltinProvidersYaml));
  Reader r("builtin_providers.yaml", env);
  for (const auto& kv : root) {
    Provider p;
    p.name = kv.first.Scalar();
    p.builtin = true;
    RETURN_IF_ERROR(ReadProvider(r, kv.second, absl::StrCat("providers.", p.name), &p, nullptr));
    p.api_base_explicit = false;  // built-in defaults yield to {PREFIX}_BASE_URL
    p.api_key_explicit = false;
    cfg->providers[p.name] = std::move(p);
  }
  return absl::OkStatus();
}

std::string EnvValue(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// Fills key and base URL from {PREFIX}_API_KEY / {PREFIX}_BASE_URL when the
// config did not set them, then decides whether the provider can serve.
void ResolveProvider(const EnvMap& env, Provider* p) {
  std::string key_source = "api_key in bitrouter.yaml";
  std::string wanted;
  for (const std::string& prefix : {p->env_prefix, p->alt_env_prefix}) {
    if (prefix.empty()) continue;
    if (!p->api_key_explicit && p->api_key.empty()) {
      p->api_key = EnvValue(env, prefix + "_API_KEY");
      key_source = prefix + "_API_KEY";
      absl::StrAppend(&wanted, wanted.empty() ? "" : " or ", prefix, "_API_KEY");
    }
    if (!p->api_base_explicit && p->base_source.empty()) {  // the first prefix wins
      if (std::string base = EnvValue(env, prefix + "_BASE_URL"); !base.empty()) {
        p->api_base = base;
        p->base_source = prefix + "_BASE_URL";
      }
    }
  }
  if (p->api_protocol != "openai" && p->api_protocol != "anthropic" &&
      p->api_protocol != "google") {
    p->active = false;
    p->reason = absl::StrCat("api_protocol '", p->api_protocol, "' is not supported yet");
    return;
  }
  if (p->auth == AuthStyle::kMpp) {
    p->active = false;
    p->reason = "auth type 'mpp' is not supported yet";
    return;
  }
  if (p->api_key.empty()) {
    p->active = false;
    p->reason = p->api_key_explicit ? "api_key in bitrouter.yaml is empty after substitution"
                : wanted.empty()    ? "no api_key configured"
                                    : absl::StrCat("no API key: set ", wanted);
    return;
  }
  if (p->api_base.empty()) {
    p->active = false;
    p->reason = "no api_base configured";
    return;
  }
  if (auto url = ParseUrl(p->api_base); !url.ok()) {
    p->active = false;
    p->reason = absl::StrCat(p->base_source.empty() ? "api_base" : p->base_source, ": ",
                             url.status().message());
    return;
  }
  p->active = true;
  p->reason = absl::StrCat("key from ", key_source);
}

// Applies `derives` chains: a derived provider starts as a copy of its parent
// (resolved first) and keeps the fields it set itself.
absl::Status ResolveDerives(const Reader& r, std::map<std::string, YAML::Node>& nodes,
                            std::map<std::string, std::string>& derives, Config* cfg) {
  std::set<std::string> done;
  std::set<std::string> visiting;
  // Resolve in dependency order (parents first).
  std::function<absl::Status(const std::string&)> resolve = [&](const std::string& name) -> absl::Status {
    if (done.count(name) || !derives.count(name)) return absl::OkStatus();
    const std::string& parent = derives[name];
    if (!visiting.insert(name).second) {
      return r.Error(nodes[name], absl::StrCat("providers.", name, ".derives"),
                     absl::StrCat("derives cycle through '", name, "'"));
    }
    if (!cfg->providers.count(parent) && !derives.count(parent)) {
      return r.Error(nodes[name], absl::StrCat("providers.", name, ".derives"),
                     absl::StrCat("unknown provider '", parent, "'"));
    }
    RETURN_IF_ERROR(resolve(parent));
    Provider derived = cfg->providers[parent];
    derived.name = name;
    derived.builtin = false;
    derived.api_key.clear();
    derived.api_key_explicit = false;
    derived.api_base_explicit = false;
    derived.env_prefix.clear();
    derived.alt_env_prefix.clear();
    std::string ignored;
    RETURN_IF_ERROR(ReadProvider(r, nodes[name], absl::StrCat("providers.", name), &derived, &ignored));
    cfg->providers[name] = std::move(derived);
    done.insert(name);
    return absl::OkStatus();
  };
  for (const auto& entry : derives) RETURN_IF_ERROR(resolve(entry.first));
  return absl::OkStatus();
}

absl::Status ReadProviders(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "providers"));
  std::map<std::string, YAML::Node> nodes;
  std::map<std::string, std::string> derives;
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string path = absl::StrCat("providers.", name);
    if (name.empty() || name.find(':') != std::string::npos) {
      return r.Error(kv.first, path, "provider names must be non-empty and contain no ':'");
    }
    nodes[name] = kv.second;
    std::string parent;
    Provider scratch;
    RETURN_IF_ERROR(ReadProvider(r, kv.second, path, &scratch, &parent));
    if (!parent.empty()) {
      derives[name] = parent;
      continue;
    }
    auto it = cfg->providers.find(name);
    if (it != cfg->providers.end()) {
      // Override a built-in: only the fields present change.
      RETURN_IF_ERROR(ReadProvider(r, kv.second, path, &it->second, &parent));
    } else {
      if (scratch.api_base.empty()) {
        return r.Error(kv.second, path, "a new provider needs api_base (or derives)");
      }
      if (scratch.api_protocol.empty()) scratch.api_protocol = "openai";
      scratch.name = name;
      cfg->providers[name] = std::move(scratch);
    }
  }
  return ResolveDerives(r, nodes, derives, cfg);
}

}  // namespace

absl::StatusOr<uint32_t> ParseDurationMs(std::string_view text) {
  std::string_view num = text;
  double scale = 1000;  // bare numbers are seconds
  if (text.size() >= 2 && text.substr(text.size() - 2) == "ms") {
    num = text.substr(0, text.size() - 2), scale = 1;
  } else if (!text.empty() && text.back() == 's') {
    num = text.substr(0, text.size() - 1), scale = 1000;
  } else if (!text.empty() && text.back() == 'm') {
    num = text.substr(0, text.size() - 1), scale = 60'000;
  } else if (!text.empty() && text.back() == 'h') {
    num = text.substr(0, text.size() - 1), scale = 3'600'000;
  }
  double value = 0;
  // Written so that NaN fails too.
  if (num.empty() || !absl::SimpleAtod(AV(num), &value) ||
      !(value >= 0 && value * scale <= 4.0e9)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a duration like 500ms, 10s, 5m, got '", AV(text), "'"));
  }
  return static_cast<uint32_t>(value * scale + 0.5);
}

}  // namespace bitrouter::config

namespace bitrouter::config {

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file_name,
                                   const EnvMap& env) {
  Config cfg;
  cfg.source = std::string(file_name);
  Reader r(file_name, env, &cfg.warnings);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    bool inherit = true;
    if (root.IsDefined() && !root.IsNull()) {
      RETURN_IF_ERROR(r.RequireMap(root, "(top level)"));
      if (root["inherit_defaults"]) {
        ASSIGN_OR_RETURN(inherit, r.Bool(root["inherit_defaults"], "inherit_defaults"));
      }
    }
    cfg.inherit_defaults = inherit;
    if (inherit) RETURN_IF_ERROR(LoadBuiltins(env, &cfg));
    if (root.IsMap()) {
      for (const auto& kv : root) {
        const std::string key = kv.first.Scalar();
        if (kv.second.IsNull() && (key == "server" || key == "upstream" || key == "providers")) {
          // A section whose fields are all commented out.
        } else if (key == "server") {
          RETURN_IF_ERROR(ReadServer(r, kv.second, &cfg));
        } else if (key == "upstream") {
          RETURN_IF_ERROR(ReadUpstream(r, kv.second, &cfg));
        } else if (key == "providers") {
          RETURN_IF_ERROR(ReadProviders(r, kv.second, &cfg));
        } else if (key == "inherit_defaults") {
          // read above
        } else if (kAcceptedLater.count(key)) {
          cfg.warnings.push_back(absl::StrCat(AV(file_name), ":", kv.first.Mark().line + 1, ": ",
                                              key, ": section accepted but not implemented yet"));
        } else {
          return r.Error(kv.first, key, "unknown key");
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(AV(file_name), ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": YAML: ", e.msg));
  }
  for (auto& [name, p] : cfg.providers) ResolveProvider(env, &p);
  return cfg;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const EnvMap& env) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return ParseConfig("", "(defaults)", env);
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path, env);
}

}  // namespace bitrouter::config
