#pragma once
// This worker's cache of upstream list results (tools/list,
// resources/list, resources/templates/list, prompts/list), per server and
// request params, with the TTLs of the `mcp.cache` config. An entry never
// outlives the snapshot it was filled under (a reload empties the cache in
// effect), and a server's `notifications/*/list_changed` evicts all of that
// server's entries at once.
//
// Loop thread only. Bounded: at most max_entries_per_server entries per
// server (the oldest goes first) and kMaxEntryBytes per entry.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "worker/snapshot/mcp_runtime.h"

namespace bitrouter::worker {

class McpListCache {
 public:
  static constexpr size_t kMaxEntryBytes = 8u << 20;

  // The TTL for `method`, 0 when it is not cached (or caching is off).
  static uint32_t TtlFor(const McpRuntime& mcp, std::string_view method);
  // A fresh result, if any.
  // A fresh result filled under snapshot `version`, if any.
  static std::optional<std::string> Get(const std::string& server, std::string_view method,
                                        std::string_view params, uint64_t version, uint64_t now_ms);
  // The last good result whatever its age (a member that fails keeps its
  // last good list on the aggregate), if any from snapshot `version`.
  static std::optional<std::string> GetStale(const std::string& server, std::string_view method,
                                             std::string_view params, uint64_t version);
  // Keeps `result` for `ttl_ms` (0: not at all); at most `cap` entries for
  // the server.
  static void Put(const std::string& server, std::string_view method, std::string_view params,
                  std::string result, uint64_t version, uint32_t ttl_ms, uint32_t cap,
                  uint64_t now_ms);
  // The aggregate endpoint's merged tools/list for one caller (key id, ""
  // without keys), kept only while it had no member errors and for the
  // tools/list TTL; any server's list_changed drops them all.
  static std::optional<std::string> GetAggregate(const std::string& caller, uint64_t version,
                                                 uint64_t now_ms);
  static void PutAggregate(const std::string& caller, std::string result, uint64_t version,
                           uint32_t ttl_ms, uint64_t now_ms);
  // The server's list changed: every entry of it goes.
  static void EvictServer(const std::string& server);
  static size_t Size();
};

}  // namespace bitrouter::worker
