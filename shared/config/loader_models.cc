// models: virtual models (a name clients use → endpoints on providers).

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/common/url.h"
#include "shared/config/loader_internal.h"
#include "shared/config/render.h"

namespace bitrouter::config::internal {
namespace {

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

absl::Status ReadEndpoint(const Reader& r, const YAML::Node& node, const std::string& path,
                          const Config& cfg, Endpoint* e) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  e->line = LineOf(node);
  // Nodes kept for messages. std::optional + emplace: assigning to a bound
  // YAML::Node would overwrite the node it refers to.
  std::optional<YAML::Node> model_key, provider_value, key_value, base_value;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "provider") {
      ASSIGN_OR_RETURN(e->provider, r.String(v, fpath));
      provider_value.emplace(kv.second);
    } else if (key == "model_id" || key == "service_id") {
      if (model_key) {
        return r.Error(kv.first, fpath, "give either model_id or service_id, not both");
      }
      model_key.emplace(kv.first);
      ASSIGN_OR_RETURN(e->model_id, r.String(v, fpath));
      if (e->model_id.empty()) return r.Error(v, fpath, "must be non-empty");
    } else if (key == "api_key") {
      ASSIGN_OR_RETURN(e->api_key, r.HeaderValue(v, fpath));
      key_value.emplace(kv.second);
    } else if (key == "api_base") {
      ASSIGN_OR_RETURN(e->api_base, r.HeaderValue(v, fpath));  // no raw CR/LF in messages
      base_value.emplace(kv.second);
    } else if (key == "api_protocol") {
      ASSIGN_OR_RETURN(e->api_protocol, r.String(v, fpath));
      if (e->api_protocol != "openai" && e->api_protocol != "openai_responses" &&
          e->api_protocol != "responses" && e->api_protocol != "anthropic" &&
          e->api_protocol != "google") {
        return r.Error(v, fpath, "expected one of openai, openai_responses, anthropic, google");
      }
    } else if (key == "weight") {
      ASSIGN_OR_RETURN(e->weight, r.UintRange(v, fpath, 1, 10'000));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (!provider_value) return r.Error(node, path, "needs provider");
  if (!model_key) return r.Error(node, path, "needs model_id (or service_id)");
  const std::string ppath = absl::StrCat(path, ".provider");
  auto provider = cfg.providers.find(e->provider);
  if (provider == cfg.providers.end()) {
    // Dangling reference. An existing but inactive provider is fine: routing skips it.
    return r.Error(*provider_value, ppath, absl::StrCat("unknown provider '", e->provider, "'"));
  }
  if (base_value && !e->api_base.empty()) {
    const std::string bpath = absl::StrCat(path, ".api_base");
    if (auto url = ParseUrl(e->api_base); !url.ok()) {
      return r.Error(*base_value, bpath, RedactUrlCredentials(std::string(url.status().message())));
    }
    if (std::string insecure = InsecureHttpReason(e->api_base);
        !insecure.empty() && !provider->second.allow_insecure_http) {
      return r.Error(*base_value, bpath,
                     absl::StrCat(insecure, ": set allow_insecure_http: true on provider '",
                                  e->provider, "' to allow it"));
    }
  }
  if (key_value && e->api_key.empty()) {
    e->inactive_reason = "api_key is empty after substitution";
    r.Warn(*key_value, absl::StrCat(path, ".api_key"),
           "empty after substitution; this endpoint is skipped");
  }
  return absl::OkStatus();
}

absl::Status ReadVirtualModel(const Reader& r, const YAML::Node& node, const std::string& path,
                              const Config& cfg, VirtualModel* m) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  bool has_endpoints = false;
  constexpr uint32_t kMaxTokens = 1'000'000'000;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "strategy") {
      ASSIGN_OR_RETURN(m->strategy, r.String(v, fpath));
      if (m->strategy != "priority" && m->strategy != "load_balance") {
        return r.Error(v, fpath,
                       absl::StrCat("expected priority or load_balance, got '", m->strategy, "'"));
      }
    } else if (key == "endpoints") {
      if (!v.IsSequence() || v.size() == 0) {
        return r.Error(v, fpath, "expected a non-empty list of endpoints");
      }
      has_endpoints = true;
      for (size_t i = 0; i < v.size(); ++i) {
        Endpoint e;
        RETURN_IF_ERROR(ReadEndpoint(r, v[i], absl::StrCat(fpath, "[", i, "]"), cfg, &e));
        m->endpoints.push_back(std::move(e));
      }
    } else if (key == "timeouts") {
      m->timeouts = AllUnset();
      RETURN_IF_ERROR(r.Timeouts(v, fpath, &*m->timeouts));
    } else if (key == "name") {
      ASSIGN_OR_RETURN(m->display_name, r.String(v, fpath));
    } else if (key == "description") {
      ASSIGN_OR_RETURN(m->description, r.String(v, fpath));
    } else if (key == "max_input_tokens") {
      ASSIGN_OR_RETURN(m->max_input_tokens, r.Uint(v, fpath, kMaxTokens));
    } else if (key == "max_output_tokens") {
      ASSIGN_OR_RETURN(m->max_output_tokens, r.Uint(v, fpath, kMaxTokens));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (!has_endpoints) return r.Error(node, path, "needs endpoints");
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadModels(const Reader& r, const YAML::Node& node, Config* cfg,
                        std::set<std::string>* mentioned) {
  RETURN_IF_ERROR(r.RequireMap(node, "models"));
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string path = absl::StrCat("models.", name);
    if (name.empty() || name.find(':') != std::string::npos) {
      // "a:b" would shadow the provider:model form.
      return r.Error(kv.first, path, "virtual model names must be non-empty and contain no ':'");
    }
    if (cfg->models.count(name)) return r.Error(kv.first, path, "defined twice");
    VirtualModel m;
    m.name = name;
    m.line = LineOf(kv.first);
    RETURN_IF_ERROR(ReadVirtualModel(r, kv.second, path, *cfg, &m));
    for (const Endpoint& e : m.endpoints) mentioned->insert(e.provider);
    cfg->models[name] = std::move(m);
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
