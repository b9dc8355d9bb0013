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

void McpListCache::EvictServer(const std::string& server) { Cache().erase(server); }

size_t McpListCache::Size() {
  size_t n = 0;
  for (const auto& [id, s] : Cache()) n += s.by_request.size();
  return n;
}

}  // namespace bitrouter::worker
