#include "controld/mcp_snapshot.h"

namespace bitrouter::controld {

void AddMcp(const config::Config& cfg, const std::string& stdio_socket,
            bitrouter::v1::Snapshot* snap) {
  if (cfg.mcp_servers.empty() && cfg.tools.empty()) return;
  auto* g = snap->mutable_mcp();
  g->set_aggregate_enabled(cfg.mcp.aggregate_enabled);
  g->set_aggregate_route(cfg.mcp.aggregate_route);
  for (const auto& o : cfg.mcp.allowed_origins) g->add_allowed_origins(o);
  g->set_cache_enabled(cfg.mcp.cache.enabled);
  g->set_tools_list_ttl_ms(cfg.mcp.cache.tools_list_ttl_ms);
  g->set_keepalive_ms(cfg.mcp.keepalive_ms);
  g->set_resources_list_ttl_ms(cfg.mcp.cache.resources_list_ttl_ms);
  g->set_resources_templates_list_ttl_ms(cfg.mcp.cache.resources_templates_list_ttl_ms);
  g->set_prompts_list_ttl_ms(cfg.mcp.cache.prompts_list_ttl_ms);
  g->set_cache_max_entries_per_server(cfg.mcp.cache.max_entries_per_server);
  for (const auto& [id, server] : cfg.mcp_servers) {
    auto* out = g->add_servers();
    out->set_id(id);
    out->set_name(server.name);
    out->set_stdio(server.type == config::McpTransportType::kStdio);
    if (server.type == config::McpTransportType::kHttp) {
      out->set_url(server.http.url);
      for (const auto& [name, value] : server.http.headers) {
        auto* h = out->add_headers();
        h->set_name(name);
        h->set_value(value);
      }
    } else {
      out->set_stdio_socket(stdio_socket);
    }
    out->set_aggregate(server.aggregate);
    out->set_tool_prefix(server.tool_prefix);
    out->set_timeout_ms(server.timeout_ms);
    for (const auto& t : server.allowed_tools) out->add_allowed_tools(t);
    for (const auto& t : server.disallowed_tools) out->add_disallowed_tools(t);
  }
  for (const auto& [name, tool] : cfg.tools) {
    auto* out = g->add_tools();
    out->set_name(name);
    out->set_strategy(tool.strategy);
    for (const auto& e : tool.endpoints) {
      if (!e.inactive_reason.empty()) continue;
      auto* ep = out->add_endpoints();
      ep->set_server(e.server);
      ep->set_service_id(e.service_id);
    }
    out->set_description(tool.description);
    out->set_input_schema_json(tool.input_schema_json);
    out->set_price_per_call(tool.price_per_call);
    for (const auto& [service, price] : tool.price_overrides) {
      (*out->mutable_price_overrides())[service] = price;
    }
  }
}

}  // namespace bitrouter::controld
