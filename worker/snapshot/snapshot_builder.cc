#include "worker/snapshot/snapshot_builder.h"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "bitrouter/v1/control.pb.h"
#include "shared/common/header_text.h"
#include "shared/common/status_macros.h"
#include "shared/protocol/openai_request.h"
#include "shared/routing/snapshot_table.h"
#include "worker/snapshot/client_tls.h"

namespace bitrouter::worker {
namespace {

uint32_t OrDefault(uint32_t value, uint32_t fallback) { return value == 0 ? fallback : value; }

Timeouts FromProto(const bitrouter::v1::Timeouts& t, const Timeouts& base) {
  Timeouts out = base;
  if (t.connect_ms()) out.connect_ms = t.connect_ms();
  if (t.first_byte_ms()) out.first_byte_ms = t.first_byte_ms();
  if (t.idle_ms()) out.idle_ms = t.idle_ms();
  if (t.total_ms()) out.total_ms = t.total_ms();
  if (t.stream_first_byte_ms()) out.stream_first_byte_ms = t.stream_first_byte_ms();
  if (t.first_event_ms()) out.first_event_ms = t.first_event_ms();
  return out;
}

// The last compiled guardrail set, by its rules' serialized form.
struct GuardCacheEntry {
  std::mutex mu;
  std::string key;
  std::shared_ptr<const guardrails::Guard> guard;
};
GuardCacheEntry& GuardCacheSlot() {
  static GuardCacheEntry entry;
  return entry;
}
std::shared_ptr<const guardrails::Guard> CachedGuard(const std::string& key) {
  GuardCacheEntry& c = GuardCacheSlot();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.key == key ? c.guard : nullptr;
}
void CacheGuard(std::string key, std::shared_ptr<const guardrails::Guard> guard) {
  GuardCacheEntry& c = GuardCacheSlot();
  std::lock_guard<std::mutex> lock(c.mu);
  c.key = std::move(key);
  c.guard = std::move(guard);
}

// proto ContentRouting -> the worker's form; null when nothing is configured.
std::shared_ptr<const routing::ContentRouting> BuildContentRouting(
    const bitrouter::v1::ContentRouting& proto) {
  if (proto.rules_size() == 0 && !proto.llmrouter().enabled()) return nullptr;
  auto out = std::make_shared<routing::ContentRouting>();
  for (const auto& r : proto.rules()) {
    routing::ContentRule& rule = out->rules[r.trigger()];
    rule.trigger = r.trigger();
    for (const auto& s : r.signals()) {
      rule.signals.push_back({s.name(), {s.keywords().begin(), s.keywords().end()}});
    }
    // Ties go to the first by name whatever order the proto came in.
    std::sort(rule.signals.begin(), rule.signals.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    rule.high_keywords.assign(r.high_keywords().begin(), r.high_keywords().end());
    rule.message_length_threshold = r.message_length_threshold();
    rule.turn_count_threshold = r.turn_count_threshold();
    rule.code_blocks_increase_complexity = r.code_blocks_increase_complexity();
    rule.models.insert(r.models().begin(), r.models().end());
    rule.word_match = r.word_match();
  }
  const auto& l = proto.llmrouter();
  out->llmrouter.enabled = l.enabled();
  out->llmrouter.word_match = l.word_match();
  for (const auto& c : l.categories()) {
    out->llmrouter.candidates[c.category()].assign(c.candidates().begin(), c.candidates().end());
  }
  return out;
}

}  // namespace

absl::StatusOr<SnapshotPtr> BuildWorkerSnapshot(const bitrouter::v1::Snapshot& proto) {
  auto snap = std::make_shared<WorkerSnapshot>();
  snap->version = proto.version();
  snap->content_hash = proto.content_hash();
  const auto& l = proto.limits();
  Limits defaults;
  snap->limits.max_body_bytes =
      l.max_body_bytes() == 0 ? defaults.max_body_bytes : l.max_body_bytes();
  snap->limits.max_header_bytes = OrDefault(l.max_header_bytes(), defaults.max_header_bytes);
  snap->limits.max_headers = OrDefault(l.max_headers(), defaults.max_headers);
  snap->limits.header_timeout_ms = OrDefault(l.header_timeout_ms(), defaults.header_timeout_ms);
  snap->limits.keepalive_timeout_ms =
      OrDefault(l.keepalive_timeout_ms(), defaults.keepalive_timeout_ms);
  snap->limits.drain_timeout_ms = OrDefault(l.drain_timeout_ms(), defaults.drain_timeout_ms);
  snap->limits.body_timeout_ms = OrDefault(l.body_timeout_ms(), defaults.body_timeout_ms);
  snap->limits.send_timeout_ms = OrDefault(l.send_timeout_ms(), defaults.send_timeout_ms);
  snap->limits.stream_keepalive_ms =
      l.stream_keepalive_off() ? 0
                               : OrDefault(l.stream_keepalive_ms(), defaults.stream_keepalive_ms);
  snap->limits.access_log = !l.access_log_off();
  snap->limits.metering = !l.metering_off();
  const auto& t = proto.timeouts();
  Timeouts tdef;
  snap->timeouts.connect_ms = OrDefault(t.connect_ms(), tdef.connect_ms);
  snap->timeouts.first_byte_ms = OrDefault(t.first_byte_ms(), tdef.first_byte_ms);
  snap->timeouts.idle_ms = OrDefault(t.idle_ms(), tdef.idle_ms);
  snap->timeouts.total_ms = t.total_ms();
  snap->timeouts.stream_first_byte_ms =
      OrDefault(t.stream_first_byte_ms(), tdef.stream_first_byte_ms);
  snap->timeouts.first_event_ms = OrDefault(t.first_event_ms(), tdef.first_event_ms);

  std::string models = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  // One /v1/models entry: the listed model and its JSON, in one place.
  auto list_model = [&](const std::string& id, const std::string& owner) {
    snap->model_list.push_back({id, owner});
    absl::StrAppend(&models, first ? "" : ",", "{\"id\":");
    protocol::AppendJsonString(id, &models);
    absl::StrAppend(&models, ",\"object\":\"model\",\"created\":0,\"owned_by\":");
    protocol::AppendJsonString(owner, &models);
    models.append("}");
    first = false;
  };
  for (const auto& p : proto.providers()) {
    if (p.inactive()) continue;  // known for messages only (see the route table)
    ProviderRuntime rt;
    rt.name = p.name();
    rt.protocol = p.protocol();
    std::optional<protocol::Protocol> wire = protocol::ProtocolFromConfig(rt.protocol);
    if (!wire) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider ", p.name(), ": api_protocol '", rt.protocol, "' is not served"));
    }
    rt.wire = *wire;
    auto url = ParseUrl(p.base_url());
    if (!url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("provider ", p.name(), ": ", url.status().message()));
    }
    rt.base = *url;
    rt.keys.push_back(p.api_key());
    for (const auto& k : p.api_keys()) rt.keys.push_back(k);
    // The same checks bitrouterd ran on config and runtime routes
    // (shared/common/header_text.h); failing here means a bug there.
    const std::string where = absl::StrCat("provider ", p.name());
    for (const auto& k : rt.keys) RETURN_IF_ERROR(CheckHeaderValue(where + ": API key", k));
    if (p.auth().style() == bitrouter::v1::Auth::HEADER) {
      RETURN_IF_ERROR(CheckHeaderName(where + ": auth header name", p.auth().header_name()));
      rt.auth_header = p.auth().header_name();
    }
    for (const auto& h : p.default_headers()) {
      RETURN_IF_ERROR(CheckHeaderName(where + ": default header", h.name()));
      RETURN_IF_ERROR(
          CheckHeaderValue(absl::StrCat(where, ": default header ", h.name()), h.value()));
      absl::StrAppend(&rt.default_header_lines, h.name(), ": ", h.value(), "\r\n");
      if (EqualsIgnoreCase(h.name(), "anthropic-version")) rt.has_anthropic_version = true;
    }
    for (const auto& k : rt.keys) rt.header_lines.push_back(rt.RenderHeaderLines(rt.base, k));
    if (p.has_timeouts()) {
      rt.has_timeouts = true;
      rt.timeouts = FromProto(p.timeouts(), snap->timeouts);
    }
    for (const auto& info : p.catalog()) {
      if (info.max_input_tokens() > 0) rt.context_windows[info.id()] = info.max_input_tokens();
      if (info.max_output_tokens() > 0) rt.max_outputs[info.id()] = info.max_output_tokens();
      if (info.has_pricing()) {
        const auto& pr = info.pricing();
        rt.pricing[info.id()] = {pr.input_no_cache(), pr.cache_read(), pr.cache_write(),
                                 pr.output_text(), pr.reasoning()};
      }
    }
    for (const auto& m : p.models()) {
      rt.models.push_back(m);
      list_model(absl::StrCat(p.name(), ":", m), p.name());
    }
    snap->providers.emplace(rt.name, std::move(rt));
  }
  for (const auto& r : proto.routes()) {
    if (r.has_timeouts()) snap->route_timeouts[r.name()] = FromProto(r.timeouts(), snap->timeouts);
    for (const auto& e : r.endpoints()) {
      if (!e.api_base().empty()) {
        if (auto u = ParseUrl(e.api_base()); !u.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("route ", r.name(), ": ", u.status().message()));
        }
      }
      RETURN_IF_ERROR(CheckHeaderValue(absl::StrCat("route ", r.name(), ": api_key"), e.api_key()));
    }
    // Virtual models are listed by /v1/models too.
    list_model(r.name(), "bitrouter");
  }
  // Classified routing's trigger names are models a client can ask for:
  // each routing: rule, and Rungate's logical ids when compat is on.
  std::vector<std::string> logical;
  for (const auto& rule : proto.routing().rules()) logical.push_back(rule.trigger());
  if (proto.routing().llmrouter().enabled()) {
    for (const char* c : {"auto", "simple", "coding", "reasoning"}) {
      logical.push_back(absl::StrCat("llmrouter/", c));
    }
  }
  for (const std::string& name : logical) list_model(name, "bitrouter");
  models.append("]}");
  snap->models_json = std::move(models);
  snap->routes = routing::BuildRouteTable(proto);
  const auto& f = proto.failover();
  snap->failover.retries = f.retries();
  snap->failover.retry_backoff_ms = OrDefault(f.retry_backoff_ms(), 200);
  snap->failover.breaker.failures = OrDefault(f.breaker_failures(), 5);
  snap->failover.breaker.cooldown_ms = OrDefault(f.breaker_cooldown_ms(), 30'000);
  snap->failover.max_retry_after_ms = OrDefault(f.max_retry_after_ms(), 300'000);
  snap->failover.retry_after_wait_ms =
      f.never_wait_retry_after() ? 0 : OrDefault(f.retry_after_wait_ms(), 5'000);
  snap->failover.stream_recovery = !f.stream_recovery_off();

  // Loading the trust store costs tens of milliseconds, so the context is
  // reused while the CA file is the same file (path, size, mtime); a changed
  // bundle is picked up by the next snapshot. Control thread only.
  static std::string cached_key;
  static std::shared_ptr<SSL_CTX> cached;
  std::string key = proto.extra_ca_file();
  if (!key.empty()) {
    struct stat st;
    if (::stat(key.c_str(), &st) == 0) {
      absl::StrAppend(&key, "|", st.st_size, "|", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
    }
  }
  if (cached == nullptr || key != cached_key) {
    auto ctx = MakeClientTlsContext(proto.extra_ca_file());
    if (!ctx.ok()) return ctx.status();
    cached = *ctx;
    cached_key = key;
  }
  snap->tls = cached;
  snap->require_key = proto.require_key();
  ASSIGN_OR_RETURN(snap->mcp, BuildMcpRuntime(proto.mcp(), proto.version()));
  snap->content_routing = BuildContentRouting(proto.routing());
  // Compiling every rule costs tens of ms; snapshots that change something
  // else (a key, a route) reuse the previous compilation.
  if (proto.guardrails().rules_size() > 0) {
    snap->guard = CachedGuard(proto.guardrails().SerializeAsString());
  }
  if (proto.guardrails().rules_size() > 0 && snap->guard == nullptr) {
    std::vector<guardrails::Rule> rules;
    for (const auto& r : proto.guardrails().rules()) {
      guardrails::Rule rule;
      rule.name = r.name();
      rule.regex = r.regex();
      rule.builtin = r.builtin();
      rule.action[0] = static_cast<guardrails::Action>(std::min<uint32_t>(r.upgoing(), 3));
      rule.action[1] = static_cast<guardrails::Action>(std::min<uint32_t>(r.downgoing(), 3));
      rule.description = r.description();
      if (r.max_match_bytes() > 0) rule.max_match_bytes = r.max_match_bytes();
      rules.push_back(std::move(rule));
    }
    ASSIGN_OR_RETURN(snap->guard, guardrails::Guard::Compile(
                                      std::move(rules), proto.guardrails().include_details(),
                                      proto.guardrails().include_help_link()));
    CacheGuard(proto.guardrails().SerializeAsString(), snap->guard);
  }
  if (proto.guardrails().tools_size() > 0) {
    std::map<std::string, guardrails::ToolProviderPolicy, std::less<>> tools;
    for (const auto& t : proto.guardrails().tools()) {
      guardrails::ToolProviderPolicy& p = tools[t.provider()];
      p.allow.assign(t.allow().begin(), t.allow().end());
      p.deny.assign(t.deny().begin(), t.deny().end());
      for (const auto& r : t.params()) {
        p.params[r.tool()] = {std::vector<std::string>(r.deny().begin(), r.deny().end()),
                              r.block()};
      }
    }
    snap->tools = std::make_shared<const guardrails::ToolPolicy>(std::move(tools));
  }
  snap->keys.reserve(static_cast<size_t>(proto.keys_size()));
  for (const auto& k : proto.keys()) {
    if (k.hash().size() != 32) {
      return absl::InvalidArgumentError(absl::StrCat("key ", k.id(), ": hash is not SHA-256"));
    }
    KeyPolicy policy;
    policy.id = k.id();
    policy.name = k.name();
    policy.models.assign(k.models().begin(), k.models().end());
    policy.mcp_tools.assign(k.mcp_tools().begin(), k.mcp_tools().end());
    policy.has_budget = k.has_budget();
    policy.rpm = k.rpm();
    policy.tpm = k.tpm();
    policy.expires_unix_ms = k.expires_unix_ms();
    policy.slot = k.slot();
    snap->keys.emplace(k.hash(), std::move(policy));
  }
  return SnapshotPtr(std::move(snap));
}

}  // namespace bitrouter::worker

namespace bitrouter::worker {

std::string ProviderRuntime::RenderHeaderLines(const Url& b, const std::string& key) const {
  std::string lines = absl::StrCat("Host: ", b.HostHeader(), "\r\n");
  if (key.empty()) {
    // A keyless provider (a local ollama): no credential header at all.
  } else if (!auth_header.empty()) {
    absl::StrAppend(&lines, auth_header, ": ", key, "\r\n");
  } else {
    absl::StrAppend(&lines, "Authorization: Bearer ", key, "\r\n");
  }
  lines.append(default_header_lines);
  return lines;
}

}  // namespace bitrouter::worker
