#include "worker/snapshot/mcp_runtime.h"

#include "absl/strings/str_cat.h"
#include "shared/common/strings.h"

namespace bitrouter::worker {

const McpServerRuntime* McpRuntime::Find(std::string_view id) const {
  for (const McpServerRuntime& s : servers) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const McpRuntime>> BuildMcpRuntime(
    const bitrouter::v1::McpGateway& proto, uint64_t version) {
  if (proto.servers_size() == 0 && proto.tools_size() == 0) return nullptr;
  auto out = std::make_shared<McpRuntime>();
  out->version = version;
  out->aggregate_enabled = proto.aggregate_enabled();
  if (!proto.aggregate_route().empty()) out->aggregate_route = proto.aggregate_route();
  out->allowed_origins.assign(proto.allowed_origins().begin(), proto.allowed_origins().end());
  out->cache_enabled = proto.cache_enabled();
  if (proto.tools_list_ttl_ms() > 0) out->tools_list_ttl_ms = proto.tools_list_ttl_ms();
  if (proto.keepalive_ms() > 0) out->keepalive_ms = proto.keepalive_ms();
  if (proto.resources_list_ttl_ms() > 0) out->resources_list_ttl_ms = proto.resources_list_ttl_ms();
  if (proto.resources_templates_list_ttl_ms() > 0) {
    out->resources_templates_list_ttl_ms = proto.resources_templates_list_ttl_ms();
  }
  if (proto.prompts_list_ttl_ms() > 0) out->prompts_list_ttl_ms = proto.prompts_list_ttl_ms();
  if (proto.cache_max_entries_per_server() > 0) {
    out->cache_max_entries_per_server = proto.cache_max_entries_per_server();
  }
  for (const auto& s : proto.servers()) {
    McpServerRuntime r;
    r.id = s.id();
    r.name = s.name();
    r.stdio = s.stdio();
    if (!r.stdio) {
      auto url = ParseUrl(s.url());
      if (!url.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("mcp server ", s.id(), ": ", url.status().message()));
      }
      r.url = *url;
      for (const auto& h : s.headers())
        absl::StrAppend(&r.header_lines, h.name(), ": ", h.value(), "\r\n");
    }
    r.stdio_socket = s.stdio_socket();
    r.aggregate = s.aggregate();
    r.tool_prefix = s.tool_prefix();
    if (s.timeout_ms() > 0) r.timeout_ms = s.timeout_ms();
    r.allowed_tools.assign(s.allowed_tools().begin(), s.allowed_tools().end());
    r.disallowed_tools.assign(s.disallowed_tools().begin(), s.disallowed_tools().end());
    out->servers.push_back(std::move(r));
  }
  out->tools.assign(proto.tools().begin(), proto.tools().end());
  return std::shared_ptr<const McpRuntime>(std::move(out));
}

}  // namespace bitrouter::worker
