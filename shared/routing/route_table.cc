#include "shared/routing/route_table.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::routing {
namespace {

// FNV-1a: a fingerprint that identifies a key in ids without revealing it.
uint32_t Fingerprint(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

std::string TargetId(const Target& t) {
  std::string id = absl::StrCat(t.provider, "/", t.model_id);
  if (!t.api_base.empty()) absl::StrAppend(&id, "@", t.api_base);
  if (!t.api_protocol.empty()) absl::StrAppend(&id, "~", t.api_protocol);
  if (!t.api_key.empty()) {
    absl::StrAppend(&id, "#k", absl::Hex(Fingerprint(t.api_key), absl::kZeroPad8));
  } else if (t.key_index >= 0) {
    absl::StrAppend(&id, "#", t.key_index);
  }
  return id;
}

void RouteTable::AddProvider(ProviderSpec provider) {
  auto it = provider_index_.find(provider.name);
  if (it != provider_index_.end()) {
    providers_[it->second] = std::move(provider);
    return;
  }
  provider_index_[provider.name] = providers_.size();
  providers_.push_back(std::move(provider));
}

void RouteTable::AddRoute(RouteSpec route) {
  auto it = routes_.find(route.name);
  if (it != routes_.end() && it->second.runtime && !route.runtime) return;
  routes_[route.name] = std::move(route);
}

const ProviderSpec* RouteTable::FindProvider(std::string_view name) const {
  auto it = provider_index_.find(name);
  return it == provider_index_.end() ? nullptr : &providers_[it->second];
}

void RouteTable::Expand(const Target& endpoint, uint32_t group, Resolution* out) const {
  const ProviderSpec* p = FindProvider(endpoint.provider);
  if (p == nullptr) {
    out->skipped.push_back(
        absl::StrCat(endpoint.provider, ":", endpoint.model_id, " (provider not configured)"));
    return;
  }
  if (!p->active) {
    out->skipped.push_back(
        absl::StrCat(endpoint.provider, ":", endpoint.model_id, " (", p->inactive_reason, ")"));
    return;
  }
  size_t keys = endpoint.api_key.empty() ? std::max<size_t>(1, p->key_count) : 1;
  for (size_t k = 0; k < keys; ++k) {
    Target t = endpoint;
    t.group = group;
    t.key_index = keys > 1 ? static_cast<int>(k) : -1;
    t.id = TargetId(t);
    out->targets.push_back(std::move(t));
  }
}

absl::StatusOr<Resolution> RouteTable::Resolve(std::string_view model) const {
  Resolution res;
  res.name = std::string(model);
  if (model.empty()) return absl::InvalidArgumentError("field 'model' is empty");
  if (auto it = routes_.find(model); it != routes_.end()) {
    const RouteSpec& route = it->second;
    res.source = route.runtime ? "runtime route" : "virtual model";
    res.strategy = route.strategy;
    uint32_t group = 0;
    for (const Target& e : route.endpoints) Expand(e, group++, &res);
    if (res.targets.empty()) {
      std::string why;
      for (const auto& s : res.skipped) absl::StrAppend(&why, why.empty() ? "" : "; ", s);
      return absl::NotFoundError(
          absl::StrCat(res.source, " '", AV(model), "' has no usable endpoint: ", why));
    }
    return res;
  }
  size_t colon = model.find(':');
  if (colon != std::string_view::npos) {
    std::string_view provider = model.substr(0, colon);
    std::string_view id = model.substr(colon + 1);
    if (provider.empty() || id.empty()) {
      return absl::NotFoundError(
          absl::StrCat("model '", AV(model), "' not found: want provider:model_id"));
    }
    const ProviderSpec* p = FindProvider(provider);
    if (p == nullptr) {
      return absl::NotFoundError(absl::StrCat("model '", AV(model), "' not found: no route named '",
                                              AV(model), "' and provider '", AV(provider),
                                              "' is not configured"));
    }
    if (!p->active) {
      return absl::NotFoundError(absl::StrCat("model '", AV(model), "' not found: provider '",
                                              AV(provider), "' is inactive (", p->inactive_reason,
                                              ")"));
    }
    res.source = "provider:model";
    res.strategy = "load_balance";  // only key-pool rotation applies
    Target t;
    t.provider = std::string(provider);
    t.model_id = std::string(id);
    Expand(t, 0, &res);
    return res;
  }
  // The canonical slash id (`openai/gpt-4o-mini`, what OpenRouter-style
  // clients send) pins the provider when that provider is configured and
  // active. Otherwise the whole name stays a catalog id: OpenRouter's ids
  // contain slashes (`anthropic/claude-3-haiku` must still reach an
  // openrouter catalog entry when no anthropic provider is set up).
  if (size_t slash = model.find('/');
      slash != std::string_view::npos && slash > 0 && slash + 1 < model.size()) {
    const ProviderSpec* p = FindProvider(model.substr(0, slash));
    if (p != nullptr && p->active) {
      res.source = "provider:model";  // the same resolution as `p:m`
      res.strategy = "load_balance";  // only key-pool rotation applies
      Target t;
      t.provider = p->name;
      t.model_id = std::string(model.substr(slash + 1));
      Expand(t, 0, &res);
      return res;
    }
  }
  res.source = "auto-cascade";
  res.strategy = "priority";
  uint32_t group = 0;
  for (const ProviderSpec& p : providers_) {
    if (std::find(p.models.begin(), p.models.end(), model) == p.models.end()) continue;
    Target t;
    t.provider = p.name;
    t.model_id = std::string(model);
    Expand(t, group++, &res);
  }
  if (res.targets.empty()) {
    std::string why = absl::StrCat(
        "model '", AV(model), "' not found: no runtime route or virtual model named '", AV(model),
        "', not of the form provider:model_id, and no active provider lists it");
    if (!res.skipped.empty()) {
      absl::StrAppend(&why, " (inactive providers that list it: ");
      for (size_t i = 0; i < res.skipped.size(); ++i)
        absl::StrAppend(&why, i ? ", " : "", res.skipped[i]);
      why.append(")");
    }
    return absl::NotFoundError(why);
  }
  return res;
}

std::vector<size_t> OrderTargets(const Resolution& res, uint64_t counter) {
  const size_t n = res.targets.size();
  std::vector<size_t> order;
  order.reserve(n);
  if (n == 0) return order;
  if (res.strategy == "load_balance") {
    uint64_t total = 0;
    for (const Target& t : res.targets) total += std::max<uint32_t>(1, t.weight);
    uint64_t pick = counter % total;
    size_t first = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t w = std::max<uint32_t>(1, res.targets[i].weight);
      if (pick < w) {
        first = i;
        break;
      }
      pick -= w;
    }
    for (size_t i = 0; i < n; ++i) order.push_back((first + i) % n);
    return order;
  }
  // priority: groups in order; within a key-pool group, rotate.
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && res.targets[j].group == res.targets[i].group) ++j;
    size_t len = j - i;
    for (size_t k = 0; k < len; ++k) order.push_back(i + (counter + k) % len);
    i = j;
  }
  return order;
}

}  // namespace bitrouter::routing
