#include "worker/mcp/mcp_cache.h"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

namespace bitrouter::worker {
namespace {

struct Entry {
  uint64_t version = 0;  // the snapshot's
  uint64_t expires_ms = 0;
  std::string result;
};

struct ServerEntries {
  std::map<std::string, Entry> by_request;  // method + "\n" + params
  std::deque<std::string> order;            // insertion order, for the bound
};

std::map<std::string, ServerEntries>& Cache() {
  static auto* cache = new std::map<std::string, ServerEntries>();
  return *cache;
}

// Merged aggregate lists by caller; bounded (the oldest callers go first).
constexpr size_t kMaxAggregateEntries = 256;
std::map<std::string, Entry>& Aggregates() {
  static auto* aggregates = new std::map<std::string, Entry>();
  return *aggregates;
}
std::deque<std::string>& AggregateOrder() {
  static auto* order = new std::deque<std::string>();
  return *order;
}

std::string RequestKey(std::string_view method, std::string_view params) {
  std::string key(method);
  key += '\n';
  key.append(params.data(), params.size());
  return key;
}

}  // namespace

uint32_t McpListCache::TtlFor(const McpRuntime& mcp, std::string_view method) {
  if (!mcp.cache_enabled) return 0;
  if (method == "tools/list") return mcp.tools_list_ttl_ms;
  if (method == "resources/list") return mcp.resources_list_ttl_ms;
  if (method == "resources/templates/list") return mcp.resources_templates_list_ttl_ms;
  if (method == "prompts/list") return mcp.prompts_list_ttl_ms;
  return 0;
}

std::optional<std::string> McpListCache::Get(const std::string& server, std::string_view method,
                                             std::string_view params, uint64_t version,
                                             uint64_t now_ms) {
  auto s = Cache().find(server);
  if (s == Cache().end()) return std::nullopt;
  auto e = s->second.by_request.find(RequestKey(method, params));
  if (e == s->second.by_request.end()) return std::nullopt;
  // A stale entry stays until it is replaced or ages out of `order`.
  if (e->second.version != version || e->second.expires_ms <= now_ms) return std::nullopt;
  return e->second.result;
}

std::optional<std::string> McpListCache::GetStale(const std::string& server,
                                                  std::string_view method, std::string_view params,
                                                  uint64_t version) {
  auto s = Cache().find(server);
  if (s == Cache().end()) return std::nullopt;
  auto e = s->second.by_request.find(RequestKey(method, params));
  if (e == s->second.by_request.end() || e->second.version != version) return std::nullopt;
  return e->second.result;
}

void McpListCache::Put(const std::string& server, std::string_view method, std::string_view params,
                       std::string result, uint64_t version, uint32_t ttl, uint32_t cap,
                       uint64_t now_ms) {
  if (ttl == 0 || result.size() > kMaxEntryBytes) return;
  ServerEntries& s = Cache()[server];
  std::string key = RequestKey(method, params);
  auto [it, added] =
      s.by_request.insert_or_assign(key, Entry{version, now_ms + ttl, std::move(result)});
  (void)it;
  if (added) s.order.push_back(std::move(key));
  while (s.order.size() > std::max<uint32_t>(1, cap)) {
    s.by_request.erase(s.order.front());
    s.order.pop_front();
  }
}

std::optional<std::string> McpListCache::GetAggregate(const std::string& caller, uint64_t version,
                                                      uint64_t now_ms) {
  auto e = Aggregates().find(caller);
  if (e == Aggregates().end() || e->second.version != version || e->second.expires_ms <= now_ms) {
    return std::nullopt;
  }
  return e->second.result;
}

void McpListCache::PutAggregate(const std::string& caller, std::string result, uint64_t version,
                                uint32_t ttl_ms, uint64_t now_ms) {
  if (ttl_ms == 0 || result.size() > kMaxEntryBytes) return;
  auto [it, added] =
      Aggregates().insert_or_assign(caller, Entry{version, now_ms + ttl_ms, std::move(result)});
  (void)it;
  if (added) AggregateOrder().push_back(caller);
  while (AggregateOrder().size() > kMaxAggregateEntries) {
    Aggregates().erase(AggregateOrder().front());
    AggregateOrder().pop_front();
  }
}

void McpListCache::EvictServer(const std::string& server) {
  Cache().erase(server);
  Aggregates().clear();
  AggregateOrder().clear();
}

size_t McpListCache::Size() {
  size_t n = 0;
  for (const auto& [id, s] : Cache()) n += s.by_request.size();
  return n;
}

}  // namespace bitrouter::worker
