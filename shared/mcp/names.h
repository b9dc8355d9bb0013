#pragma once
// Tool names on the aggregate endpoint: `<prefix><tool>` (prefix `<id>__` by
// default), routed back by the longest prefix that matches.
//
// Thread: any. Pure functions of the input.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitrouter::mcp {

std::string AggregateName(std::string_view prefix, std::string_view tool);

struct RoutedName {
  size_t server = 0;      // index into the prefixes given
  std::string_view tool;  // the upstream's own name
};

// The server whose prefix is the longest one `name` starts with, and the
// rest of the name; nullopt when none matches or nothing is left.
std::optional<RoutedName> RouteAggregateName(std::string_view name,
                                             const std::vector<std::string>& prefixes);

}  // namespace bitrouter::mcp
