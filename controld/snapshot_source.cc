#include "controld/snapshot_source.h"

#include "controld/mcp_snapshot.h"
#include "controld/routing_snapshot.h"
#include "shared/guardrails/guard.h"
#include "shared/guardrails/tool_policy.h"

namespace bitrouter::controld {
namespace {

void SetTimeouts(const config::Timeouts& t, bitrouter::v1::Timeouts* out) {
  out->set_connect_ms(t.connect_ms);
  out->set_first_byte_ms(t.first_byte_ms);
  out->set_idle_ms(t.idle_ms);
  out->set_total_ms(t.total_ms);
  out->set_stream_first_byte_ms(t.stream_first_byte_ms);
  out->set_first_event_ms(t.first_event_ms);
}

void AddRoute(const config::VirtualModel& m, bool runtime, bitrouter::v1::Snapshot* snap) {
  auto* r = snap->add_routes();
  r->set_name(m.name);
  r->set_strategy(m.strategy);
  r->set_runtime(runtime);
  for (const auto& e : m.endpoints) {
    // e.g. its api_key was empty after substitution: never fall back to the
    // provider's own key (another account); the loader already warned.
    if (!e.inactive_reason.empty()) continue;
    auto* out = r->add_endpoints();
    out->set_provider(e.provider);
    out->set_model_id(e.model_id);
    out->set_api_key(e.api_key);
    out->set_api_base(e.api_base);
    out->set_api_protocol(e.api_protocol);
    out->set_weight(e.weight);
  }
  if (m.timeouts) SetTimeouts(*m.timeouts, r->mutable_timeouts());
}

}  // namespace

bitrouter::v1::Snapshot BuildSnapshot(
    const config::Config& cfg, const std::string& listen,
    const std::map<std::string, config::VirtualModel>& runtime_routes,
    const std::string& mcp_host_socket) {
  bitrouter::v1::Snapshot snap;
  snap.set_listen(listen);
  snap.set_extra_ca_file(cfg.ca_file);
  for (const auto& [name, p] : cfg.providers) {
    if (!p.active) {
      auto* out = snap.add_providers();
      out->set_name(name);
      out->set_protocol(p.api_protocol);
      out->set_inactive(true);
      out->set_inactive_reason(p.reason);
      for (const auto& m : p.catalog) out->add_models(m.id);
      continue;
    }
    auto* out = snap.add_providers();
    out->set_name(name);
    out->set_base_url(p.api_base);
    out->set_protocol(p.api_protocol);
    out->set_api_key(p.api_key);
    out->set_key_ref(p.reason);
    auto* auth = out->mutable_auth();
    if (p.auth == config::AuthStyle::kHeader) {
      auth->set_style(bitrouter::v1::Auth::HEADER);
      auth->set_header_name(p.auth_header);
    } else {
      auth->set_style(bitrouter::v1::Auth::BEARER);
    }
    for (const auto& [hname, hvalue] : p.default_headers) {
      auto* h = out->add_default_headers();
      h->set_name(hname);
      h->set_value(hvalue);
    }
    for (const auto& m : p.catalog) {
      out->add_models(m.id);
      auto* info = out->add_catalog();
      info->set_id(m.id);
      info->set_max_input_tokens(m.max_input_tokens);
      info->set_max_output_tokens(m.max_output_tokens);
      auto* price = info->mutable_pricing();
      price->set_input_no_cache(m.pricing.input_no_cache);
      price->set_cache_read(m.pricing.cache_read);
      price->set_cache_write(m.pricing.cache_write);
      price->set_output_text(m.pricing.output_text);
      price->set_reasoning(m.pricing.reasoning);
    }
    for (const auto& k : p.api_keys) out->add_api_keys(k);
    if (p.timeouts) SetTimeouts(*p.timeouts, out->mutable_timeouts());
  }
  auto* limits = snap.mutable_limits();
  limits->set_max_body_bytes(cfg.limits.max_body_bytes);
  limits->set_max_header_bytes(cfg.limits.max_header_bytes);
  limits->set_max_headers(cfg.limits.max_headers);
  limits->set_header_timeout_ms(cfg.server.header_timeout_ms);
  limits->set_keepalive_timeout_ms(cfg.server.keepalive_timeout_ms);
  limits->set_drain_timeout_ms(cfg.server.drain_timeout_ms);
  limits->set_body_timeout_ms(cfg.server.body_timeout_ms);
  limits->set_send_timeout_ms(cfg.server.send_timeout_ms);
  limits->set_stream_keepalive_ms(cfg.server.stream_keepalive_ms);
  limits->set_stream_keepalive_off(cfg.server.stream_keepalive_ms == 0);
  limits->set_access_log_off(!cfg.server.access_log);
  limits->set_metering_off(!cfg.server.metering);
  SetTimeouts(cfg.timeouts, snap.mutable_timeouts());
  for (const auto& [name, m] : cfg.models) AddRoute(m, false, &snap);
  for (const auto& [name, m] : runtime_routes) AddRoute(m, true, &snap);
  auto* f = snap.mutable_failover();
  f->set_retries(cfg.failover.retries);
  f->set_retry_backoff_ms(cfg.failover.retry_backoff_ms);
  f->set_breaker_failures(cfg.failover.breaker_failures);
  f->set_breaker_cooldown_ms(cfg.failover.breaker_cooldown_ms);
  f->set_max_retry_after_ms(cfg.failover.max_retry_after_ms);
  f->set_retry_after_wait_ms(cfg.failover.retry_after_wait_ms);
  f->set_never_wait_retry_after(cfg.failover.retry_after_wait_ms == 0);
  f->set_stream_recovery_off(!cfg.failover.stream_recovery);
  snap.set_require_key(!cfg.server.skip_auth);
  // The loader validated the section (names, actions, regexes): resolving
  // it again cannot fail on a config that loaded.
  if (auto rules = guardrails::RulesFromConfig(cfg.guardrails); rules.ok()) {
    auto* g = snap.mutable_guardrails();
    g->set_include_details(cfg.guardrails.include_details);
    g->set_include_help_link(cfg.guardrails.include_help_link);
    for (const auto& r : *rules) {
      auto* out = g->add_rules();
      out->set_name(r.name);
      out->set_regex(r.regex);
      out->set_builtin(r.builtin);
      out->set_upgoing(static_cast<uint32_t>(r.action[0]));
      out->set_downgoing(static_cast<uint32_t>(r.action[1]));
      out->set_description(r.description);
      out->set_max_match_bytes(static_cast<uint32_t>(r.max_match_bytes));
    }
  }
  if (auto tools = guardrails::ToolPolicy::FromConfig(cfg.guardrails); tools != nullptr) {
    auto* g = snap.mutable_guardrails();
    for (const auto& [name, p] : tools->providers()) {
      auto* out = g->add_tools();
      out->set_provider(name);
      for (const auto& a : p.allow) out->add_allow(a);
      for (const auto& d : p.deny) out->add_deny(d);
      for (const auto& [tool, rule] : p.params) {
        auto* r = out->add_params();
        r->set_tool(tool);
        for (const auto& d : rule.deny) r->add_deny(d);
        r->set_block(rule.block);
      }
    }
  }
  AddMcp(cfg, mcp_host_socket, &snap);
  AddContentRouting(cfg, &snap);
  return snap;
}

}  // namespace bitrouter::controld
