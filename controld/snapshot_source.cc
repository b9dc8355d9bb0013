#include "controld/snapshot_source.h"

namespace bitrouter::controld {

bitrouter::v1::Snapshot BuildSnapshot(const config::Config& cfg, const std::string& listen) {
  bitrouter::v1::Snapshot snap;
  snap.set_listen(listen);
  snap.set_extra_ca_file(cfg.ca_file);
  for (const auto& [name, p] : cfg.providers) {
    if (!p.active) continue;
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
    for (const auto& m : p.models) out->add_models(m);
  }
  auto* limits = snap.mutable_limits();
  limits->set_max_body_bytes(cfg.limits.max_body_bytes);
  limits->set_max_header_bytes(cfg.limits.max_header_bytes);
  limits->set_max_headers(cfg.limits.max_headers);
  limits->set_header_timeout_ms(cfg.server.header_timeout_ms);
  limits->set_keepalive_timeout_ms(cfg.server.keepalive_timeout_ms);
  limits->set_drain_timeout_ms(cfg.server.drain_timeout_ms);
  auto* t = snap.mutable_timeouts();
  t->set_connect_ms(cfg.timeouts.connect_ms);
  t->set_first_byte_ms(cfg.timeouts.first_byte_ms);
  t->set_idle_ms(cfg.timeouts.idle_ms);
  t->set_total_ms(cfg.timeouts.total_ms);
  return snap;
}

}  // namespace bitrouter::controld
