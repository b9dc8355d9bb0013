#pragma once
// Model-name resolution (REFERENCE §2), in this order:
//   1. runtime routes (bitrouterctl route add), which shadow config routes;
//   2. virtual models from the config's `models:` section;
//   3. `provider:model_id` direct routing;
//   3b. `provider/model_id` (the canonical slash id) when `provider` is a
//       configured active provider: resolved as `provider:model_id`;
//       otherwise the whole name is a catalog id (OpenRouter's contain '/');
//   4. a bare model id: every active provider whose catalog lists it, in
//      provider order ("auto-cascade").
// Unknown names fail with a message naming what was tried. Inactive
// providers are never routed to. Immutable once built; any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bitrouter::routing {

// One concrete upstream choice.
struct Target {
  std::string provider;
  std::string model_id;
  std::string api_key;       // endpoint override; empty = the provider's key
  std::string api_base;      // endpoint override; empty = the provider's base
  std::string api_protocol;  // endpoint override; empty = the provider's protocol
  uint32_t weight = 1;
  int key_index = -1;  // which pool key (when the provider has a pool and no override)
  uint32_t group = 0;  // targets expanded from one endpoint share a group
  std::string id;      // stable id for health state
};

struct RouteSpec {
  std::string name;
  std::string strategy = "priority";  // priority | load_balance
  std::vector<Target> endpoints;      // provider, model_id, api_key, api_base, weight
  bool runtime = false;
};

struct ProviderSpec {
  std::string name;
  std::string protocol;
  std::vector<std::string> models;  // catalog ids, priority order
  size_t key_count = 1;             // api_key plus pool keys
  bool active = true;
  std::string inactive_reason;
};

struct Resolution {
  std::string source;    // "runtime route" | "virtual model" | "provider:model" | "auto-cascade"
  std::string name;      // the route name or the model as asked
  std::string strategy;  // priority | load_balance
  std::vector<Target> targets;
  std::vector<std::string> skipped;  // endpoints left out, with why (inactive provider, ...)
};

class RouteTable {
 public:
  // Providers in cascade order (the order they are added).
  void AddProvider(ProviderSpec provider);
  // A later route with the same name replaces an earlier one unless the
  // earlier one is a runtime route and the later one is not.
  void AddRoute(RouteSpec route);

  absl::StatusOr<Resolution> Resolve(std::string_view model) const;
  const ProviderSpec* FindProvider(std::string_view name) const;
  const std::map<std::string, RouteSpec, std::less<>>& routes() const { return routes_; }
  const std::vector<ProviderSpec>& providers() const { return providers_; }

 private:
  void Expand(const Target& endpoint, uint32_t group, Resolution* out) const;

  std::vector<ProviderSpec> providers_;
  std::map<std::string, size_t, std::less<>> provider_index_;
  std::map<std::string, RouteSpec, std::less<>> routes_;
};

// The order to try a resolution's targets for one request. `counter` is a
// per-route request counter (round-robin cursor).
//  - priority: in order; targets expanded from one key pool rotate within
//    their group.
//  - load_balance: a weighted round-robin pick first, then the others in
//    order as failover.
std::vector<size_t> OrderTargets(const Resolution& resolution, uint64_t counter);

// Stable id of a target for health bookkeeping (no secrets: keys are
// referred to by pool index or a short non-reversible fingerprint).
std::string TargetId(const Target& target);

}  // namespace bitrouter::routing
