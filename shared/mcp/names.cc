#include "shared/mcp/names.h"

namespace bitrouter::mcp {

std::string AggregateName(std::string_view prefix, std::string_view tool) {
  std::string out(prefix);
  out.append(tool);
  return out;
}

std::optional<RoutedName> RouteAggregateName(std::string_view name,
                                             const std::vector<std::string>& prefixes) {
  std::optional<RoutedName> best;
  size_t best_len = 0;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const std::string& p = prefixes[i];
    if (name.size() <= p.size() || name.compare(0, p.size(), p) != 0) continue;
    if (!best || p.size() > best_len) {
      best = RoutedName{i, name.substr(p.size())};
      best_len = p.size();
    }
  }
  return best;
}

}  // namespace bitrouter::mcp
