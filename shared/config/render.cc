#include "shared/config/render.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "shared/common/strings.h"

namespace bitrouter::config {

std::string YamlScalar(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '+' || c == '@';
    plain = plain && ok;
  }
  if (plain && (s.back() == ':' || std::string_view("-:@+").find(s.front()) != std::string::npos)) {
    plain = false;
  }
  if (plain && (s == "true" || s == "false" || s == "yes" || s == "no" || s == "null" ||
                s == "on" || s == "off" || s == "~")) {
    plain = false;
  }
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

namespace {

std::string Q(const std::string& s) { return YamlScalar(s); }

std::string TimeoutsLine(const Timeouts& t) {
  return absl::StrCat("{connect: ", FormatDurationMs(t.connect_ms),
                      ", first_byte: ", FormatDurationMs(t.first_byte_ms),
                      ", stream_first_byte: ", FormatDurationMs(t.stream_first_byte_ms),
                      ", first_event: ", FormatDurationMs(t.first_event_ms),
                      ", idle: ", FormatDurationMs(t.idle_ms),
                      ", total: ", FormatDurationMs(t.total_ms), "}",
                      t.total_ms == 0 ? "  # total 0 = no overall limit" : "");
}

std::string KeyDisplay(const Provider& p) {
  if (p.api_key.empty()) return "(none)";
  if (!p.key_env.empty()) return absl::StrCat("<redacted: from ", p.key_env, ">");
  return "<redacted>";
}

std::string AuthDisplay(const Provider& p) {
  switch (p.auth) {
    case AuthStyle::kBearer:
      return "bearer";
    case AuthStyle::kHeader:
      return absl::StrCat("{type: header, header_name: ", Q(p.auth_header), "}");
    case AuthStyle::kMpp:
      return "mpp";
  }
  return "?";
}

void RenderProvider(const Provider& p, std::string* out) {
  absl::StrAppend(out, "  ", Q(p.name), ":  # ", p.active ? "active" : "INACTIVE", ": ", p.reason,
                  "\n");
  if (!p.builtin) absl::StrAppend(out, "    # defined in the config file\n");
  absl::StrAppend(out, "    api_protocol: ", Q(p.api_protocol), "\n");
  absl::StrAppend(out, "    api_base: ", p.api_base.empty() ? "(none)" : Q(p.api_base),
                  p.base_source.empty() ? "" : absl::StrCat("  # from ", p.base_source), "\n");
  absl::StrAppend(out, "    auth: ", AuthDisplay(p), "\n");
  if (!p.requires_key) absl::StrAppend(out, "    requires_key: false\n");
  absl::StrAppend(out, "    api_key: ", KeyDisplay(p), "\n");
  if (!p.api_keys.empty()) {
    absl::StrAppend(out, "    key_pool: ", p.api_keys.size() + (p.api_key.empty() ? 0 : 1),
                    " keys  # rotated; values redacted\n");
  }
  if (!p.env_prefix.empty()) {
    absl::StrAppend(out, "    env_prefix: ", Q(p.env_prefix),
                    p.alt_env_prefix.empty() ? "" : absl::StrCat("  # also ", p.alt_env_prefix),
                    "\n");
  }
  if (p.allow_insecure_http) absl::StrAppend(out, "    allow_insecure_http: true\n");
  if (!p.default_headers.empty()) {
    absl::StrAppend(out, "    default_headers:\n");
    for (const auto& [name, value] : p.default_headers) {
      absl::StrAppend(out, "      ", Q(name), ": <redacted>\n");
    }
  }
  if (p.timeouts) absl::StrAppend(out, "    timeouts: ", TimeoutsLine(*p.timeouts), "\n");
  std::vector<std::string> ids;
  for (const CatalogModel& m : p.catalog) ids.push_back(Q(m.id));
  absl::StrAppend(out, "    models: [", absl::StrJoin(ids, ", "), "]\n");
}

void RenderModel(const VirtualModel& m, std::string* out) {
  absl::StrAppend(out, "  ", Q(m.name), ":\n");
  if (!m.display_name.empty()) absl::StrAppend(out, "    name: ", Q(m.display_name), "\n");
  absl::StrAppend(out, "    strategy: ", m.strategy, "\n");
  if (m.timeouts) absl::StrAppend(out, "    timeouts: ", TimeoutsLine(*m.timeouts), "\n");
  absl::StrAppend(out, "    endpoints:\n");
  for (const Endpoint& e : m.endpoints) {
    absl::StrAppend(out, "      - {provider: ", Q(e.provider), ", model_id: ", Q(e.model_id));
    if (!e.api_key.empty()) absl::StrAppend(out, ", api_key: <redacted>");
    if (!e.api_base.empty()) absl::StrAppend(out, ", api_base: ", Q(e.api_base));
    if (!e.api_protocol.empty()) absl::StrAppend(out, ", api_protocol: ", Q(e.api_protocol));
    absl::StrAppend(out, ", weight: ", e.weight, "}");
    if (!e.inactive_reason.empty()) absl::StrAppend(out, "  # SKIPPED: ", e.inactive_reason);
    absl::StrAppend(out, "\n");
  }
}

// Last line of defence: no configured secret survives, wherever it came from.
std::string ScrubSecrets(const Config& cfg, std::string text) {
  std::set<std::string> secrets;
  for (const auto& [name, p] : cfg.providers) {
    secrets.insert(p.api_key);
    secrets.insert(p.api_keys.begin(), p.api_keys.end());
    for (const auto& h : p.default_headers) secrets.insert(h.second);
  }
  for (const auto& [name, m] : cfg.models) {
    for (const Endpoint& e : m.endpoints) secrets.insert(e.api_key);
  }
  for (const auto& [id, s] : cfg.mcp_servers) {
    for (const auto& h : s.http.headers) secrets.insert(h.second);
    for (const auto& [var, value] : s.stdio.env) secrets.insert(value);
  }
  for (const std::string& s : secrets) {
    if (s.size() < 8) continue;  // short values would mangle ordinary words
    for (size_t pos = 0; (pos = text.find(s, pos)) != std::string::npos;) {
      text.replace(pos, s.size(), "<redacted>");
      pos += 10;
    }
  }
  return text;
}

}  // namespace

std::string RedactUrlCredentials(std::string text) {
  size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string::npos) {
    size_t start = pos + 3;
    size_t end = text.find_first_of("/ \t\n'\"@", start);
    if (end != std::string::npos && text[end] == '@' && end > start) {
      text.replace(start, end - start, "<redacted>");
    }
    pos = start;
  }
  return text;
}

std::string FormatDurationMs(uint32_t ms) {
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return absl::StrCat(ms / 3'600'000, "h");
  if (ms % 60'000 == 0) return absl::StrCat(ms / 60'000, "m");
  if (ms % 1000 == 0) return absl::StrCat(ms / 1000, "s");
  return absl::StrCat(ms, "ms");
}

namespace {

std::string KeywordList(const std::vector<std::string>& keywords) {
  std::vector<std::string> quoted;
  for (const auto& k : keywords) quoted.push_back(Q(k));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

// routing: and compat: as the loader merged them (built-in signals included,
// so what a rule matches on is visible).
void RenderRouting(const Config& cfg, std::string* out) {
  absl::StrAppend(out, "routing:", cfg.routing.empty() ? " {}  # no classified routing" : "", "\n");
  for (const auto& [trigger, r] : cfg.routing) {
    absl::StrAppend(out, "  ", Q(trigger),
                    ":\n    inherit_defaults: ", r.inherit_defaults ? "true" : "false",
                    "\n    match: ", r.word_match ? "word" : "substring", "\n    signals:\n");
    for (const auto& [name, keywords] : r.signals) {
      absl::StrAppend(out, "      ", Q(name), ": {keywords: ", KeywordList(keywords), "}\n");
    }
    absl::StrAppend(out, "    complexity:\n      high_keywords: ", KeywordList(r.high_keywords),
                    "\n      message_length_threshold: ", r.message_length_threshold,
                    "\n      turn_count_threshold: ", r.turn_count_threshold,
                    "\n      code_blocks_increase_complexity: ",
                    r.code_blocks_increase_complexity ? "true" : "false", "\n    models:\n");
    for (const auto& [key, model] : r.models) {
      absl::StrAppend(out, "      ", Q(key), ": ", Q(model), "\n");
    }
  }
  const LlmRouterCompatConfig& c = cfg.llmrouter;
  if (!c.enabled) {
    absl::StrAppend(out, "compat:\n  llmrouter: false\n");
    return;
  }
  absl::StrAppend(out, "compat:\n  llmrouter:\n    enabled: true\n    match: ",
                  c.word_match ? "word" : "substring", "\n    candidates:\n");
  for (const auto& [category, list] : c.candidates) {
    absl::StrAppend(out, "      ", category, ": ", KeywordList(list), "\n");
  }
}

}  // namespace

std::string RenderEffectiveConfig(const Config& cfg) {
  std::string out =
      absl::StrCat("# Effective configuration from ", cfg.source, " (secrets redacted)\n");
  const ServerConfig& s = cfg.server;
  absl::StrAppend(&out, "server:\n  listen: ", Q(s.listen), "\n  workers: ", s.workers,
                  s.workers == 0 ? "  # one per CPU" : "", "\n  log_level: ", s.log_level,
                  "\n  drain_timeout: ", FormatDurationMs(s.drain_timeout_ms),
                  "\n  header_timeout: ", FormatDurationMs(s.header_timeout_ms),
                  "\n  keepalive_timeout: ", FormatDurationMs(s.keepalive_timeout_ms),
                  "\n  body_timeout: ", FormatDurationMs(s.body_timeout_ms),
                  "\n  send_timeout: ", FormatDurationMs(s.send_timeout_ms),
                  "\n  stream_keepalive: ", FormatDurationMs(s.stream_keepalive_ms),
                  "\n  access_log: ", s.access_log ? "true" : "false",
                  "\n  metering: ", s.metering ? "true" : "false", "\n");
  {
    // A postgres:// URL may carry a password: never print it.
    std::string url = cfg.database.url;
    size_t scheme = url.find("://");
    size_t at = url.find('@');
    if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
      size_t colon = url.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
    int64_t r = cfg.database.retention_s;
    std::string retention = r == 0            ? "off"
                            : r % 86'400 == 0 ? absl::StrCat(r / 86'400, "d")
                            : r % 3'600 == 0  ? absl::StrCat(r / 3'600, "h")
                                              : absl::StrCat(r, "s");
    absl::StrAppend(&out,
                    "database:\n  url: ", url.empty() ? "\"\"  # <home>/bitrouter.db" : Q(url),
                    "\n  retention: ", retention, "\n");
  }
  const FailoverConfig& f = cfg.failover;
  absl::StrAppend(&out, "upstream:\n  ca_file: ",
                  cfg.ca_file.empty() ? "\"\"  # system default" : Q(cfg.ca_file),
                  "\n  timeouts: ", TimeoutsLine(cfg.timeouts), "\n  retries: ", f.retries,
                  "\n  retry_backoff: ", FormatDurationMs(f.retry_backoff_ms),
                  "\n  max_retry_after: ", FormatDurationMs(f.max_retry_after_ms),
                  "\n  retry_after_wait: ", FormatDurationMs(f.retry_after_wait_ms),
                  "\n  stream_recovery: ", f.stream_recovery ? "on" : "off",
                  "\n  circuit_breaker: {failures: ", f.breaker_failures,
                  ", cooldown: ", FormatDurationMs(f.breaker_cooldown_ms), "}\n");
  absl::StrAppend(&out, "inherit_defaults: ", cfg.inherit_defaults ? "true" : "false", "\n");
  size_t active = std::count_if(cfg.providers.begin(), cfg.providers.end(),
                                [](const auto& kv) { return kv.second.active; });
  absl::StrAppend(&out, "providers:  # ", active, " of ", cfg.providers.size(), " active\n");
  if (cfg.providers.empty()) absl::StrAppend(&out, "  {}\n");
  // Active providers first: they are what serves.
  for (bool want_active : {true, false}) {
    for (const auto& [name, p] : cfg.providers) {
      if (p.active == want_active) RenderProvider(p, &out);
    }
  }
  absl::StrAppend(&out, "models:", cfg.models.empty() ? " {}  # no virtual models" : "", "\n");
  for (const auto& [name, m] : cfg.models) RenderModel(m, &out);
  RenderRouting(cfg, &out);
  absl::StrAppend(&out, "warnings:", cfg.warnings.empty() ? " []" : "", "\n");
  for (const std::string& w : cfg.warnings) absl::StrAppend(&out, "  - ", Q(w), "\n");
  return ScrubSecrets(cfg, RedactUrlCredentials(std::move(out)));
}

}  // namespace bitrouter::config
