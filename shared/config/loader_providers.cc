// providers: built-ins (parsed once), overrides, new providers, derives,
// model catalogs, key pools, and the active/inactive decision.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "shared/common/header_text.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/common/url.h"
#include "shared/config/builtin_providers_data.h"
#include "shared/config/loader_internal.h"
#include "shared/config/render.h"

namespace bitrouter::config::internal {
namespace {

bool ServedProtocol(const std::string& protocol) {
  return protocol == "openai" || protocol == "openai_responses" || protocol == "responses" ||
         protocol == "anthropic" || protocol == "google";
}

absl::Status ReadPricing(const Reader& r, const YAML::Node& node, const std::string& path,
                         Pricing* out) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string kpath = absl::StrCat(path, ".", key);
    std::map<std::string, double*> fields;
    if (key == "input_tokens") {
      fields = {{"no_cache", &out->input_no_cache},
                {"cache_read", &out->cache_read},
                {"cache_write", &out->cache_write}};
    } else if (key == "output_tokens") {
      fields = {{"text", &out->output_text}, {"reasoning", &out->reasoning}};
    } else {
      return r.Unknown(kv.first, path);
    }
    RETURN_IF_ERROR(r.RequireMap(kv.second, kpath));
    for (const auto& f : kv.second) {
      auto it = fields.find(f.first.Scalar());
      if (it == fields.end()) return r.Unknown(f.first, kpath);
      ASSIGN_OR_RETURN(*it->second, r.Price(f.second, absl::StrCat(kpath, ".", it->first)));
    }
  }
  return absl::OkStatus();
}

// Reads one catalog entry, changing only the fields present (so a user entry
// for a built-in model id overrides just what it sets).
absl::Status ReadCatalogModel(const Reader& r, const YAML::Node& node, const std::string& path,
                              CatalogModel* m) {
  if (node.IsNull()) return absl::OkStatus();  // `my-model:` with no details
  RETURN_IF_ERROR(r.RequireMap(node, path));
  constexpr uint32_t kMaxTokens = 1'000'000'000;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "name") {
      ASSIGN_OR_RETURN(m->name, r.String(v, fpath));
    } else if (key == "description") {
      ASSIGN_OR_RETURN(m->description, r.String(v, fpath));
    } else if (key == "max_input_tokens") {
      ASSIGN_OR_RETURN(m->max_input_tokens, r.Uint(v, fpath, kMaxTokens));
    } else if (key == "max_output_tokens") {
      ASSIGN_OR_RETURN(m->max_output_tokens, r.Uint(v, fpath, kMaxTokens));
    } else if (key == "input_modalities") {
      ASSIGN_OR_RETURN(m->input_modalities, r.StringList(v, fpath));
    } else if (key == "output_modalities") {
      ASSIGN_OR_RETURN(m->output_modalities, r.StringList(v, fpath));
    } else if (key == "pricing") {
      RETURN_IF_ERROR(ReadPricing(r, v, fpath, &m->pricing));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

CatalogModel* FindOrAdd(std::vector<CatalogModel>* catalog, const std::string& id) {
  for (CatalogModel& m : *catalog) {
    if (m.id == id) return &m;
  }
  CatalogModel added;
  added.id = id;
  catalog->push_back(std::move(added));
  return &catalog->back();
}

// `models:` of a provider: a mapping id → details, or the short form (a list
// of ids). Entries add to the catalog or override the entry with the same id.
absl::Status ReadCatalog(const Reader& r, const YAML::Node& node, const std::string& path,
                         std::vector<CatalogModel>* catalog) {
  if (node.IsNull()) return absl::OkStatus();
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string ipath = absl::StrCat(path, "[", i, "]");
      if (!node[i].IsScalar()) return r.Error(node[i], ipath, "expected a model id");
      ASSIGN_OR_RETURN(std::string id, r.String(node[i], ipath));
      if (id.empty()) return r.Error(node[i], ipath, "model ids must be non-empty");
      FindOrAdd(catalog, id);
    }
    return absl::OkStatus();
  }
  if (!node.IsMap()) return r.Error(node, path, "expected a mapping of model ids");
  for (const auto& kv : node) {
    const std::string id = kv.first.Scalar();
    const std::string mpath = absl::StrCat(path, ".", id);
    if (id.empty()) return r.Error(kv.first, mpath, "model ids must be non-empty");
    RETURN_IF_ERROR(ReadCatalogModel(r, kv.second, mpath, FindOrAdd(catalog, id)));
  }
  return absl::OkStatus();
}

absl::Status ReadAuth(const Reader& r, const YAML::Node& v, const std::string& fpath, Provider* p) {
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
      ASSIGN_OR_RETURN(p->auth_header, r.HeaderName(a.second, apath));
    } else if (akey == "api_key") {
      // The manual's spelling for header auth; same as the provider's api_key.
      ASSIGN_OR_RETURN(p->api_key, r.HeaderValue(a.second, apath));
      p->api_key_explicit = true;
    } else {
      return r.Unknown(a.first, fpath);
    }
  }
  if (p->auth == AuthStyle::kHeader && p->auth_header.empty()) {
    return r.Error(v, fpath, "auth type 'header' needs header_name");
  }
  return absl::OkStatus();
}

// Reads one provider mapping into `p`, changing only the fields present.
absl::Status ReadProvider(const Reader& r, const YAML::Node& node, const std::string& path,
                          Provider* p, std::string* derives) {
  if (node.IsNull()) return absl::OkStatus();  // `ollama:` alone enables a keyless built-in
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "api_key") {
      ASSIGN_OR_RETURN(p->api_key, r.HeaderValue(v, fpath));
      p->api_key_explicit = true;
    } else if (key == "api_keys") {
      if (!v.IsSequence()) return r.Error(v, fpath, "expected a list");
      p->api_keys.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        ASSIGN_OR_RETURN(std::string k, r.HeaderValue(v[i], absl::StrCat(fpath, "[", i, "]")));
        if (!k.empty()) p->api_keys.push_back(std::move(k));  // unset ${VAR}: dropped
      }
      p->api_keys_explicit = true;
    } else if (key == "api_base") {
      ASSIGN_OR_RETURN(p->api_base, r.HeaderValue(v, fpath));  // no raw CR/LF in messages
      p->api_base_explicit = !p->api_base.empty();
      if (!p->api_base.empty()) {
        if (auto url = ParseUrl(p->api_base); !url.ok()) {
          return r.Error(v, fpath, RedactUrlCredentials(std::string(url.status().message())));
        }
      }
    } else if (key == "api_protocol") {
      ASSIGN_OR_RETURN(p->api_protocol, r.String(v, fpath));
      if (p->api_protocol == "rest") {
        r.Warn(v, fpath, "'rest' is accepted but not supported yet; the provider stays inactive");
      } else if (p->api_protocol == "mcp") {
        // An MCP server when bridged, else warned about (ReadMcp): not a model provider.
      } else if (!ServedProtocol(p->api_protocol)) {
        return r.Error(v, fpath,
                       "expected one of openai, openai_responses, anthropic, google, mcp, rest");
      }
    } else if (key == "env_prefix") {
      ASSIGN_OR_RETURN(p->env_prefix, r.String(v, fpath));
    } else if (key == "alt_env_prefix") {
      ASSIGN_OR_RETURN(p->alt_env_prefix, r.String(v, fpath));
    } else if (key == "derives") {
      if (derives == nullptr) return r.Unknown(kv.first, path);
      ASSIGN_OR_RETURN(*derives, r.String(v, fpath));
    } else if (key == "bridge") {
      ASSIGN_OR_RETURN(p->mcp_bridge, r.Bool(v, fpath));
      p->bridge_line = v.Mark().line + 1;
    } else if (key == "auth") {
      RETURN_IF_ERROR(ReadAuth(r, v, fpath, p));
    } else if (key == "default_headers") {
      RETURN_IF_ERROR(r.RequireMap(v, fpath));
      for (const auto& h : v) {
        const std::string hpath = absl::StrCat(fpath, ".", h.first.Scalar());
        ASSIGN_OR_RETURN(std::string name, r.HeaderName(h.first, hpath));
        ASSIGN_OR_RETURN(std::string value, r.HeaderValue(h.second, hpath));
        p->default_headers.emplace_back(std::move(name), std::move(value));
      }
    } else if (key == "models") {
      RETURN_IF_ERROR(ReadCatalog(r, v, fpath, &p->catalog));
    } else if (key == "timeouts") {
      if (!p->timeouts) p->timeouts = AllUnset();
      RETURN_IF_ERROR(r.Timeouts(v, fpath, &*p->timeouts));
    } else if (key == "requires_key") {
      ASSIGN_OR_RETURN(p->requires_key, r.Bool(v, fpath));
    } else if (key == "allow_insecure_http") {
      ASSIGN_OR_RETURN(p->allow_insecure_http, r.Bool(v, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

// builtin_providers.yaml, parsed once per process (thread-safe static init).
struct Builtins {
  absl::Status status;
  std::map<std::string, Provider> providers;
};

Builtins ParseBuiltins() {
  static const EnvMap kNoEnv;
  Builtins out;
  Reader r("builtin_providers.yaml", kNoEnv);
  try {
    YAML::Node root = YAML::Load(std::string(kBuiltinProvidersYaml));
    if (!root.IsMap()) {
      out.status = r.Error(root, "(top level)", "expected a mapping");
      return out;
    }
    for (const auto& kv : root) {
      Provider p;
      p.name = kv.first.Scalar();
      p.builtin = true;
      out.status = ReadProvider(r, kv.second, absl::StrCat("providers.", p.name), &p, nullptr);
      if (!out.status.ok()) return out;
      p.api_base_explicit = false;  // built-in defaults yield to {PREFIX}_BASE_URL
      p.api_key_explicit = false;
      p.api_keys_explicit = false;
      out.providers[p.name] = std::move(p);
    }
  } catch (const YAML::Exception& e) {
    out.status = absl::InternalError(
        absl::StrCat("builtin_providers.yaml:", e.mark.line + 1, ": YAML: ", e.msg));
  }
  return out;
}

const Builtins& GetBuiltins() {
  static const Builtins* const kBuiltins = new Builtins(ParseBuiltins());
  return *kBuiltins;
}

// Applies `derives` chains: a derived provider starts as a copy of its parent
// (resolved first) and keeps the fields it set itself.
absl::Status ResolveDerives(const Reader& r, std::map<std::string, YAML::Node>& nodes,
                            std::map<std::string, std::string>& derives, Config* cfg) {
  std::set<std::string> done;
  std::set<std::string> visiting;
  std::function<absl::Status(const std::string&)> resolve =
      [&](const std::string& name) -> absl::Status {
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
    // Credentials and trust never pass to a provider that may talk to another host.
    derived.api_key.clear();
    derived.api_keys.clear();
    derived.api_key_explicit = false;
    derived.api_keys_explicit = false;
    derived.api_base_explicit = false;
    derived.allow_insecure_http = false;
    derived.env_prefix.clear();
    derived.alt_env_prefix.clear();
    derived.mcp_bridge = false;  // exposure is never inherited
    derived.bridge_line = 0;
    std::string ignored;
    RETURN_IF_ERROR(
        ReadProvider(r, nodes[name], absl::StrCat("providers.", name), &derived, &ignored));
    cfg->providers[name] = std::move(derived);
    done.insert(name);
    return absl::OkStatus();
  };
  for (const auto& entry : derives) RETURN_IF_ERROR(resolve(entry.first));
  return absl::OkStatus();
}

std::string EnvValue(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// Removes duplicates and the main key from the pool; promotes the first pool
// key when there is no main key.
void NormalizeKeyPool(Provider* p) {
  std::vector<std::string> pool;
  for (std::string& k : p->api_keys) {
    if (k.empty() || std::find(pool.begin(), pool.end(), k) != pool.end()) continue;
    pool.push_back(std::move(k));
  }
  if (p->api_key.empty() && !pool.empty()) {
    p->api_key = pool.front();
    pool.erase(pool.begin());
  }
  pool.erase(std::remove(pool.begin(), pool.end(), p->api_key), pool.end());
  p->api_keys = std::move(pool);
}

// Inactive is not an error: the provider is listed with why (`status`).
absl::Status Deactivate(Provider* p, std::string reason) {
  p->active = false;
  p->reason = std::move(reason);
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadBuiltins(Config* cfg) {
  const Builtins& builtins = GetBuiltins();
  RETURN_IF_ERROR(builtins.status);
  for (const auto& [name, p] : builtins.providers) cfg->providers[name] = p;
  return absl::OkStatus();
}

absl::Status ReadProviders(const Reader& r, const YAML::Node& node, Config* cfg,
                           std::set<std::string>* mentioned) {
  RETURN_IF_ERROR(r.RequireMap(node, "providers"));
  std::map<std::string, YAML::Node> nodes;
  std::map<std::string, std::string> derives;
  std::map<std::string, int> key_lines;
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string path = absl::StrCat("providers.", name);
    if (name.empty() || name.find(':') != std::string::npos) {
      return r.Error(kv.first, path, "provider names must be non-empty and contain no ':'");
    }
    if (nodes.count(name)) return r.Error(kv.first, path, "defined twice");
    mentioned->insert(name);
    nodes.emplace(name, kv.second);
    key_lines[name] = kv.first.Mark().line + 1;
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
      // Without an auth section a new provider authenticates the way its
      // protocol's reference API does.
      if (!kv.second["auth"] && scratch.auth == AuthStyle::kBearer) {
        if (scratch.api_protocol == "anthropic") {
          scratch.auth = AuthStyle::kHeader;
          scratch.auth_header = "x-api-key";
        } else if (scratch.api_protocol == "google") {
          scratch.auth = AuthStyle::kHeader;
          scratch.auth_header = "x-goog-api-key";
        }
      }
      scratch.name = name;
      cfg->providers[name] = std::move(scratch);
    }
  }
  RETURN_IF_ERROR(ResolveDerives(r, nodes, derives, cfg));
  for (const auto& [name, line] : key_lines) cfg->providers[name].line = line;
  return absl::OkStatus();
}

absl::Status ResolveProvider(const EnvMap& env, const std::set<std::string>& mentioned,
                             const config::Timeouts& global, Provider* p) {
  if (p->timeouts) FillTimeouts(global, &*p->timeouts);
  std::string wanted;  // "OPENAI_API_KEY" or "GOOGLE_API_KEY or GEMINI_API_KEY"
  const bool key_configured = p->api_key_explicit || p->api_keys_explicit;
  for (const std::string& prefix : {p->env_prefix, p->alt_env_prefix}) {
    if (prefix.empty()) continue;
    if (!key_configured && p->api_key.empty()) {
      p->api_key = EnvValue(env, prefix + "_API_KEY");
      if (!p->api_key.empty()) {
        p->key_env = prefix + "_API_KEY";
        // An error, not an inactive provider: the key was meant to be used.
        if (std::string problem = HeaderValueProblem(p->api_key); !problem.empty()) {
          return absl::InvalidArgumentError(absl::StrCat("providers.", p->name, ": ", p->key_env,
                                                         " (environment or .env): ", problem));
        }
      }
      absl::StrAppend(&wanted, wanted.empty() ? "" : " or ", prefix, "_API_KEY");
    }
    if (!p->api_base_explicit && p->base_source.empty()) {  // the first prefix wins
      if (std::string base = EnvValue(env, prefix + "_BASE_URL"); !base.empty()) {
        p->api_base = base;
        p->base_source = prefix + "_BASE_URL";
      }
    }
  }
  const bool key_from_pool = p->api_key.empty() && !p->api_keys.empty();
  NormalizeKeyPool(p);

  if (!ServedProtocol(p->api_protocol)) {
    return Deactivate(p, absl::StrCat("api_protocol '", p->api_protocol, "' is not supported yet"));
  }
  if (p->auth == AuthStyle::kMpp) return Deactivate(p, "auth type 'mpp' is not supported yet");
  std::string active_reason;
  if (!p->api_key.empty()) {
    active_reason =
        absl::StrCat("key from ", !p->key_env.empty() ? p->key_env
                                  : key_from_pool     ? std::string("api_keys in bitrouter.yaml")
                                                      : std::string("api_key in bitrouter.yaml"));
  } else if (p->requires_key) {
    if (p->api_keys_explicit && !p->api_key_explicit) {
      return Deactivate(p, "api_keys in bitrouter.yaml are all empty after substitution");
    }
    return Deactivate(p, p->api_key_explicit
                             ? "api_key in bitrouter.yaml is empty after substitution"
                         : wanted.empty() ? "no api_key configured"
                                          : absl::StrCat("no API key: set ", wanted));
  } else if (mentioned.count(p->name)) {
    active_reason = "no key needed; enabled in bitrouter.yaml";
  } else if (!p->base_source.empty()) {
    active_reason = absl::StrCat("no key needed; enabled by ", p->base_source);
  } else {
    // A keyless (local) built-in is never enabled silently.
    return Deactivate(
        p, absl::StrCat(
               "local provider, not enabled: name it under providers: in bitrouter.yaml",
               p->env_prefix.empty() ? "" : absl::StrCat(" or set ", p->env_prefix, "_BASE_URL")));
  }
  if (p->api_base.empty()) return Deactivate(p, "no api_base configured");
  if (auto url = ParseUrl(p->api_base); !url.ok()) {
    return Deactivate(p, absl::StrCat(p->base_source.empty() ? "api_base" : p->base_source, ": ",
                                      RedactUrlCredentials(std::string(url.status().message()))));
  }
  if (std::string insecure = InsecureHttpReason(p->api_base);
      !insecure.empty() && !p->allow_insecure_http) {
    return Deactivate(p, absl::StrCat(insecure,
                                      ": set allow_insecure_http: true on the provider to allow "
                                      "it"));
  }
  p->active = true;
  p->reason = std::move(active_reason);
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
