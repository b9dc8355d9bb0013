#include "shared/routing/snapshot_table.h"

#include "bitrouter/v1/control.pb.h"

namespace bitrouter::routing {

RouteTable BuildRouteTable(const bitrouter::v1::Snapshot& snapshot,
                           const std::map<std::string, std::string>& inactive) {
  RouteTable table;
  for (const auto& p : snapshot.providers()) {
    ProviderSpec spec;
    spec.name = p.name();
    spec.protocol = p.protocol();
    for (const auto& m : p.models()) spec.models.push_back(m);
    spec.key_count = 1 + static_cast<size_t>(p.api_keys_size());
    spec.active = !p.inactive();
    spec.inactive_reason = p.inactive_reason();
    table.AddProvider(std::move(spec));
  }
  for (const auto& [name, reason] : inactive) {
    if (table.FindProvider(name) != nullptr) continue;
    ProviderSpec spec;
    spec.name = name;
    spec.active = false;
    spec.inactive_reason = reason;
    table.AddProvider(std::move(spec));
  }
  for (const auto& r : snapshot.routes()) {
    RouteSpec route;
    route.name = r.name();
    route.strategy = r.strategy().empty() ? "priority" : r.strategy();
    route.runtime = r.runtime();
    for (const auto& e : r.endpoints()) {
      Target t;
      t.provider = e.provider();
      t.model_id = e.model_id();
      t.api_key = e.api_key();
      t.api_base = e.api_base();
      t.api_protocol = e.api_protocol();
      t.weight = e.weight() == 0 ? 1 : e.weight();
      route.endpoints.push_back(std::move(t));
    }
    table.AddRoute(std::move(route));
  }
  return table;
}

}  // namespace bitrouter::routing
