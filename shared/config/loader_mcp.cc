// mcp_servers:, mcp: and tools: (issue 17), plus the manual's bridged
// `api_protocol: mcp` providers, which become http MCP servers. Read after
// the providers are resolved. Header and environment values are secrets:
// messages name the field, never the value.

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/common/url.h"
#include "shared/config/loader_internal.h"
#include "shared/config/render.h"

namespace bitrouter::config::internal {
namespace {

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

bool AllOf(std::string_view s, std::string_view extra) {
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Why `id` cannot name an MCP server, or "". "__" would make the default
// prefix "<id>__" ambiguous; "sse" was the manual's aggregate stream path;
// "virtual" names the virtual tools in key scopes (shared/keys/mcp_scope.h).
std::string ServerIdProblem(std::string_view id) {
  if (id.empty() || id.size() > 64 || !AllOf(id, "_-")) {
    return "MCP server ids are 1..64 characters from A-Z a-z 0-9 _ -";
  }
  if (absl::StrContains(AV(id), "__")) return "MCP server ids must not contain '__'";
  if (id == "sse") return "'sse' is reserved";
  if (id == "virtual")
    return "'virtual' is reserved (key scopes name virtual tools virtual:<tool>)";
  return "";
}

// Headers the gateway sets itself; one from config would be sent twice.
bool ReservedHeader(std::string_view name) {
  for (std::string_view r : {"host", "content-length", "transfer-encoding", "connection",
                             "content-type", "accept", "mcp-session-id", "mcp-protocol-version"}) {
    if (EqualsIgnoreCase(name, r)) return true;
  }
  return false;
}

absl::Status CheckUrl(const Reader& r, const YAML::Node& node, const std::string& path,
                      const std::string& url, bool allow_insecure_http) {
  if (url.empty()) return r.Error(node, path, "must be a non-empty http:// or https:// URL");
  if (auto parsed = ParseUrl(url); !parsed.ok()) {
    return r.Error(node, path, RedactUrlCredentials(std::string(parsed.status().message())));
  }
  if (std::string insecure = InsecureHttpReason(url); !insecure.empty() && !allow_insecure_http) {
    return r.Error(node, path,
                   absl::StrCat(insecure, ": set allow_insecure_http: true to allow it"));
  }
  return absl::OkStatus();
}

// A string for a command line or environment: no NUL (exec would cut it).
absl::StatusOr<std::string> ExecString(const Reader& r, const YAML::Node& node,
                                       const std::string& path) {
  ASSIGN_OR_RETURN(std::string s, r.String(node, path));
  if (s.find('\0') != std::string::npos) return r.Error(node, path, "contains a NUL byte");
  return s;
}

absl::Status ReadHeaders(const Reader& r, const YAML::Node& node, const std::string& path,
                         std::vector<std::pair<std::string, std::string>>* out) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& h : node) {
    const std::string hpath = absl::StrCat(path, ".", h.first.Scalar());
    ASSIGN_OR_RETURN(std::string name, r.HeaderName(h.first, hpath));
    if (ReservedHeader(name)) return r.Error(h.first, hpath, "set by the gateway itself");
    for (const auto& [other, value] : *out) {
      if (EqualsIgnoreCase(other, name)) return r.Error(h.first, hpath, "header given twice");
    }
    ASSIGN_OR_RETURN(std::string value, r.HeaderValue(h.second, hpath));
    out->emplace_back(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

// The v0 list form (mcp_servers: [{name, command, args, ...}]) has the
// transport's fields inline, beside these keys of the server itself.
bool V0ServerKey(std::string_view key) {
  return key == "name" || key == "tool_filter" || key == "param_restrictions";
}

// `v0_inline`: the v0 list form; the type is "http" when a url is given,
// else "stdio", and the server's own keys are skipped.
absl::Status ReadTransport(const Reader& r, const YAML::Node& node, const std::string& path,
                           McpServerConfig* s, bool v0_inline = false) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  const YAML::Node type_node = node["type"];
  std::string type;
  if (v0_inline) {
    type = node["url"] ? "http" : "stdio";
  } else {
    if (!type_node) return r.Error(node, path, "needs type (http or stdio)");
    ASSIGN_OR_RETURN(type, r.String(type_node, path + ".type"));
  }
  if (type == "http") {
    s->type = McpTransportType::kHttp;
  } else if (type == "stdio") {
    s->type = McpTransportType::kStdio;
  } else {
    return r.Error(
        type_node, path + ".type",
        absl::StrCat("unknown transport type '", type, "': expected http or stdio",
                     type == "sse" ? " (the old HTTP+SSE transport is not supported)" : ""));
  }
  const bool http = s->type == McpTransportType::kHttp;
  std::optional<YAML::Node> url_node, command_node;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    const YAML::Node& v = kv.second;
    if (key == "type" || (v0_inline && V0ServerKey(key))) continue;
    if (http && key == "url") {
      ASSIGN_OR_RETURN(s->http.url, r.HeaderValue(v, fpath));  // no raw CR/LF in messages
      url_node.emplace(v);
    } else if (http && key == "headers") {
      RETURN_IF_ERROR(ReadHeaders(r, v, fpath, &s->http.headers));
    } else if (http && key == "allow_insecure_http") {
      ASSIGN_OR_RETURN(s->http.allow_insecure_http, r.Bool(v, fpath));
    } else if (!http && key == "command") {
      ASSIGN_OR_RETURN(s->stdio.command, ExecString(r, v, fpath));
      command_node.emplace(v);
    } else if (!http && key == "args") {
      if (!v.IsSequence()) return r.Error(v, fpath, "expected a list");
      for (size_t i = 0; i < v.size(); ++i) {
        ASSIGN_OR_RETURN(std::string a, ExecString(r, v[i], absl::StrCat(fpath, "[", i, "]")));
        s->stdio.args.push_back(std::move(a));
      }
    } else if (!http && key == "env") {
      if (v.IsNull()) continue;
      RETURN_IF_ERROR(r.RequireMap(v, fpath));
      for (const auto& e : v) {
        const std::string name = e.first.Scalar();
        const std::string epath = absl::StrCat(fpath, ".", name);
        if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0])) ||
            !AllOf(name, "_")) {
          return r.Error(e.first, epath, "environment names are [A-Za-z_][A-Za-z0-9_]*");
        }
        ASSIGN_OR_RETURN(s->stdio.env[name], ExecString(r, e.second, epath));
      }
    } else if (!http && key == "cwd") {
      ASSIGN_OR_RETURN(s->stdio.cwd, ExecString(r, v, fpath));
      if (s->stdio.cwd.empty()) return r.Error(v, fpath, "must be a non-empty directory");
    } else if (key == "url" || key == "headers" || key == "allow_insecure_http" ||
               key == "command" || key == "args" || key == "env" || key == "cwd") {
      return r.Error(kv.first, fpath, absl::StrCat("not a field of a ", type, " transport"));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (http) {
    if (!url_node) return r.Error(node, path, "an http transport needs url");
    return CheckUrl(r, *url_node, path + ".url", s->http.url, s->http.allow_insecure_http);
  }
  if (!command_node) return r.Error(node, path, "a stdio transport needs command");
  if (s->stdio.command.empty()) return r.Error(*command_node, path + ".command", "is empty");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Globs(const Reader& r, const YAML::Node& node,
                                               const std::string& path) {
  ASSIGN_OR_RETURN(std::vector<std::string> globs, r.StringList(node, path));
  for (size_t i = 0; i < globs.size(); ++i) {
    if (globs[i].empty()) return r.Error(node[i], absl::StrCat(path, "[", i, "]"), "is empty");
  }
  return globs;
}

absl::Status ReadServer(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                        McpServerConfig* s) {
  const std::string path = absl::StrCat("mcp_servers.", s->id);
  RETURN_IF_ERROR(r.RequireMap(node, path));
  bool has_transport = false, has_prefix = false;
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    const YAML::Node& v = kv.second;
    if (k == "transport") {
      RETURN_IF_ERROR(ReadTransport(r, v, fpath, s));
      has_transport = true;
    } else if (k == "name") {
      ASSIGN_OR_RETURN(s->name, r.String(v, fpath));
    } else if (k == "aggregate") {
      ASSIGN_OR_RETURN(s->aggregate, r.Bool(v, fpath));
    } else if (k == "tool_prefix") {
      ASSIGN_OR_RETURN(s->tool_prefix, r.String(v, fpath));
      if (s->tool_prefix.size() > 64 || !AllOf(s->tool_prefix, "_.-")) {
        return r.Error(v, fpath, "tool prefixes are 0..64 characters from A-Z a-z 0-9 _ . -");
      }
      has_prefix = true;
    } else if (k == "timeout") {
      ASSIGN_OR_RETURN(s->timeout_ms, r.Duration(v, fpath));
      if (s->timeout_ms == 0 || s->timeout_ms > 3'600'000) {
        return r.Error(v, fpath, "expected a timeout from 1ms to 1h");
      }
    } else if (k == "allowed_tools") {
      ASSIGN_OR_RETURN(s->allowed_tools, Globs(r, v, fpath));
    } else if (k == "disallowed_tools") {
      ASSIGN_OR_RETURN(s->disallowed_tools, Globs(r, v, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (!has_transport) return r.Error(key, path, "needs transport");
  if (!has_prefix) s->tool_prefix = s->id + "__";
  return absl::OkStatus();
}

// providers.<name> with api_protocol: mcp and bridge: true → an http server
// with the provider's api_base, default headers and key. The provider stays
// in cfg->providers (status shows it) but is never an active model provider.
absl::Status Bridge(const Reader& r, Provider* p, Config* cfg) {
  const std::string path = absl::StrCat("providers.", p->name);
  if (std::string problem = ServerIdProblem(p->name); !problem.empty()) {
    return r.ErrorAt(p->line, path, absl::StrCat("bridged, so its name is a server id: ", problem));
  }
  McpServerConfig s;
  s.id = p->name;
  s.bridged = true;
  s.line = p->line;
  s.tool_prefix = s.id + "__";
  s.http.allow_insecure_http = p->allow_insecure_http;
  s.http.url = p->api_base;
  if (s.http.url.empty()) return r.ErrorAt(p->line, path, "a bridged MCP provider needs api_base");
  if (auto url = ParseUrl(s.http.url); !url.ok()) {
    return r.ErrorAt(p->line, path,
                     absl::StrCat(p->base_source.empty() ? "api_base" : p->base_source, ": ",
                                  RedactUrlCredentials(std::string(url.status().message()))));
  }
  if (std::string insecure = InsecureHttpReason(s.http.url);
      !insecure.empty() && !p->allow_insecure_http) {
    return r.ErrorAt(p->line, path,
                     absl::StrCat(insecure, ": set allow_insecure_http: true to allow it"));
  }
  for (const auto& [name, value] : p->default_headers) {
    if (ReservedHeader(name)) {
      return r.ErrorAt(p->line, absl::StrCat(path, ".default_headers.", name),
                       "set by the gateway itself");
    }
    s.http.headers.emplace_back(name, value);
  }
  if (p->auth == AuthStyle::kMpp) {
    return r.ErrorAt(p->line, path, "auth type 'mpp' cannot authenticate an MCP server");
  }
  if (!p->api_key.empty()) {
    const bool bearer = p->auth == AuthStyle::kBearer;
    const std::string header = bearer ? "Authorization" : p->auth_header;
    for (const auto& h : s.http.headers) {
      if (EqualsIgnoreCase(h.first, header)) {
        return r.ErrorAt(p->line, path,
                         absl::StrCat("api_key and default_headers both set ", header));
      }
    }
    s.http.headers.emplace_back(header, bearer ? absl::StrCat("Bearer ", p->api_key) : p->api_key);
  } else if (p->api_key_explicit) {
    r.WarnAt(p->line, path + ".api_key",
             "empty after substitution; the MCP server is called without credentials");
  }
  if (!p->api_keys.empty()) {
    r.WarnAt(p->line, path + ".api_keys", "not used: an MCP server sends api_key only");
  }
  p->active = false;
  p->reason =
      absl::StrCat("MCP server (bridge: true), not a model provider: served at /mcp/", p->name);
  cfg->mcp_servers[s.id] = std::move(s);
  return absl::OkStatus();
}

// Two aggregate servers with one prefix would publish the same tool names.
absl::Status CheckPrefixes(const Reader& r, const Config& cfg) {
  std::map<std::string, const McpServerConfig*> by_prefix;
  for (const auto& [id, s] : cfg.mcp_servers) {
    if (!s.aggregate) continue;
    auto [it, added] = by_prefix.emplace(s.tool_prefix, &s);
    if (added) continue;
    const McpServerConfig* a = it->second;
    const McpServerConfig* b = &s;
    if (b->line < a->line) std::swap(a, b);  // report the later one
    return r.ErrorAt(
        b->line, absl::StrCat(b->bridged ? "providers." : "mcp_servers.", b->id),
        absl::StrCat("tool prefix '", b->tool_prefix, "' is also the prefix of MCP server '", a->id,
                     "' (line ", a->line,
                     "): set a distinct tool_prefix or aggregate: false on one of them"));
  }
  return absl::OkStatus();
}

// "scheme://host[:port]" lowercased, or "null"; as browsers send Origin.
absl::StatusOr<std::string> Origin(const Reader& r, const YAML::Node& node,
                                   const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, r.String(node, path));
  std::string origin = absl::AsciiStrToLower(text);
  if (origin == "null") return origin;
  if (origin == "*") {
    return r.Error(node, path, "'*' would let any web page call the gateway: list the origins");
  }
  size_t scheme = origin.find("://");
  bool ok = (origin.starts_with("http://") || origin.starts_with("https://")) &&
            origin.find_first_of("/?#@ ", scheme + 3) == std::string::npos && ParseUrl(origin).ok();
  if (!ok) return r.Error(node, path, "expected an origin like https://app.example.com[:port]");
  return origin;
}

absl::Status ReadCache(const Reader& r, const YAML::Node& node, const std::string& path,
                       McpGatewayConfig::Cache* c) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  if (const YAML::Node ttl = node["ttl"]) {  // first: the *_ttl_secs keys override it
    ASSIGN_OR_RETURN(uint32_t ms, r.Duration(ttl, path + ".ttl"));
    c->tools_list_ttl_ms = c->resources_list_ttl_ms = ms;
    c->resources_templates_list_ttl_ms = c->prompts_list_ttl_ms = ms;
  }
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    uint32_t* secs_field = k == "tools_list_ttl_secs"       ? &c->tools_list_ttl_ms
                           : k == "resources_list_ttl_secs" ? &c->resources_list_ttl_ms
                           : k == "resources_templates_list_ttl_secs"
                               ? &c->resources_templates_list_ttl_ms
                           : k == "prompts_list_ttl_secs" ? &c->prompts_list_ttl_ms
                                                          : nullptr;
    if (k == "ttl") {
      // read above
    } else if (secs_field != nullptr) {
      ASSIGN_OR_RETURN(uint32_t secs, r.Uint(kv.second, fpath, 86'400));
      *secs_field = secs * 1000;
    } else if (k == "enabled") {
      ASSIGN_OR_RETURN(c->enabled, r.Bool(kv.second, fpath));
    } else if (k == "max_entries_per_server") {
      ASSIGN_OR_RETURN(c->max_entries_per_server, r.UintRange(kv.second, fpath, 1, 100'000));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadAggregate(const Reader& r, const YAML::Node& node, const std::string& path,
                           const Config& cfg, McpGatewayConfig* g) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    if (k == "enabled") {
      ASSIGN_OR_RETURN(g->aggregate_enabled, r.Bool(kv.second, fpath));
    } else if (k == "route") {
      ASSIGN_OR_RETURN(g->aggregate_route, r.String(kv.second, fpath));
      const std::string& route = g->aggregate_route;
      if (!route.starts_with("/")) return r.Error(kv.second, fpath, "must start with '/'");
      if (route.size() < 2 || route.size() > 256 || !AllOf(route, "/_.~-") ||
          absl::StrContains(route, "//") || route.back() == '/') {
        return r.Error(kv.second, fpath,
                       "expected a path like /mcp (A-Z a-z 0-9 / _ . ~ -, no trailing '/')");
      }
      if (route.starts_with("/mcp/") && cfg.mcp_servers.count(route.substr(5))) {
        return r.Error(kv.second, fpath,
                       absl::StrCat("is the direct route of MCP server '", route.substr(5), "'"));
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

// One entry of the v0 list form the OpenClaw plugin writes:
//   - {name, command, args, env, tool_filter: {allow, deny},
//      param_restrictions: {rules: [{tool, forbidden_params}]}}
// (a url instead of a command makes it an http server). Forbidden
// parameters become the guardrails tool policy of this server, refusing a
// call that carries one.
absl::Status ReadV0Server(const Reader& r, const YAML::Node& node, const std::string& path,
                          McpServerConfig* s, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  const YAML::Node name = node["name"];
  if (!name) return r.Error(node, path, "needs name");
  ASSIGN_OR_RETURN(s->id, r.String(name, path + ".name"));
  if (std::string problem = ServerIdProblem(s->id); !problem.empty()) {
    return r.Error(name, path + ".name", problem);
  }
  s->line = LineOf(node);
  RETURN_IF_ERROR(ReadTransport(r, node, path, s, /*v0_inline=*/true));
  s->tool_prefix = s->id + "__";
  if (const YAML::Node filter = node["tool_filter"]; filter && !filter.IsNull()) {
    const std::string fpath = path + ".tool_filter";
    RETURN_IF_ERROR(r.RequireMap(filter, fpath));
    for (const auto& kv : filter) {
      const std::string k = kv.first.Scalar();
      if (k == "allow") {
        ASSIGN_OR_RETURN(s->allowed_tools, Globs(r, kv.second, fpath + ".allow"));
      } else if (k == "deny") {
        ASSIGN_OR_RETURN(s->disallowed_tools, Globs(r, kv.second, fpath + ".deny"));
      } else {
        return r.Unknown(kv.first, fpath);
      }
    }
  }
  const YAML::Node restrictions = node["param_restrictions"];
  if (!restrictions || restrictions.IsNull()) return absl::OkStatus();
  const std::string rpath = path + ".param_restrictions";
  RETURN_IF_ERROR(r.RequireMap(restrictions, rpath));
  const YAML::Node rules = restrictions["rules"];
  if (!rules || rules.IsNull()) return absl::OkStatus();
  if (!rules.IsSequence()) return r.Error(rules, rpath + ".rules", "expected a list");
  auto& policy = cfg->guardrails.tool_providers[s->id];
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string ipath = absl::StrCat(rpath, ".rules[", i, "]");
    RETURN_IF_ERROR(r.RequireMap(rules[i], ipath));
    const YAML::Node tool = rules[i]["tool"];
    if (!tool) return r.Error(rules[i], ipath, "needs tool");
    ASSIGN_OR_RETURN(std::string tool_name, r.String(tool, ipath + ".tool"));
    ASSIGN_OR_RETURN(std::vector<std::string> params,
                     r.StringList(rules[i]["forbidden_params"], ipath + ".forbidden_params"));
    auto& rule = policy.params[tool_name];
    rule.deny.insert(rule.deny.end(), params.begin(), params.end());
    rule.action = "block";
  }
  cfg->guardrails.tools_enabled = true;
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadMcpServers(const Reader& r, const YAML::Node& node, Config* cfg) {
  // Bridged providers first, so a clash is reported at the mcp_servers entry.
  for (auto& [name, p] : cfg->providers) {
    if (p.mcp_bridge && p.api_protocol != "mcp") {
      return r.ErrorAt(
          p.bridge_line, absl::StrCat("providers.", name, ".bridge"),
          absl::StrCat("applies to api_protocol: mcp providers only, not '", p.api_protocol, "'"));
    }
    if (p.mcp_bridge) {
      RETURN_IF_ERROR(Bridge(r, &p, cfg));
    } else if (p.api_protocol == "mcp") {
      r.WarnAt(p.line, absl::StrCat("providers.", name),
               "api_protocol: mcp without bridge: true is not served (inactive): add bridge: true "
               "or declare the server under mcp_servers");
    }
  }
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      McpServerConfig s;
      const std::string path = absl::StrCat("mcp_servers[", i, "]");
      RETURN_IF_ERROR(ReadV0Server(r, node[i], path, &s, cfg));
      if (cfg->mcp_servers.count(s.id)) return r.Error(node[i], path, "defined twice");
      cfg->mcp_servers[s.id] = std::move(s);
    }
  } else if (node.IsDefined() && !node.IsNull()) {
    RETURN_IF_ERROR(r.RequireMap(node, "mcp_servers"));
    for (const auto& kv : node) {
      McpServerConfig s;
      s.id = kv.first.Scalar();
      s.line = LineOf(kv.first);
      const std::string path = absl::StrCat("mcp_servers.", s.id);
      if (std::string problem = ServerIdProblem(s.id); !problem.empty()) {
        return r.Error(kv.first, path, problem);
      }
      if (auto it = cfg->mcp_servers.find(s.id); it != cfg->mcp_servers.end()) {
        return r.Error(kv.first, path,
                       it->second.bridged
                           ? absl::StrCat("also a bridged provider (providers.", s.id, ", line ",
                                          it->second.line, "): one id, one server")
                           : std::string("defined twice"));
      }
      RETURN_IF_ERROR(ReadServer(r, kv.first, kv.second, &s));
      cfg->mcp_servers[s.id] = std::move(s);
    }
  }
  return CheckPrefixes(r, *cfg);
}

absl::Status ReadMcpGateway(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                            Config* cfg) {
  McpGatewayConfig& g = cfg->mcp;
  g.line = LineOf(key);
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, "mcp"));
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat("mcp.", k);
    const YAML::Node& v = kv.second;
    if (k == "aggregate") {
      RETURN_IF_ERROR(ReadAggregate(r, v, fpath, *cfg, &g));
    } else if (k == "allowed_origins") {
      if (!v.IsSequence()) return r.Error(v, fpath, "expected a list");
      g.allowed_origins.clear();
      for (size_t i = 0; i < v.size(); ++i) {
        ASSIGN_OR_RETURN(std::string o, Origin(r, v[i], absl::StrCat(fpath, "[", i, "]")));
        g.allowed_origins.push_back(std::move(o));
      }
    } else if (k == "cache") {
      RETURN_IF_ERROR(ReadCache(r, v, fpath, &g.cache));
    } else if (k == "keepalive") {
      ASSIGN_OR_RETURN(g.keepalive_ms, r.Duration(v, fpath));
      if (g.keepalive_ms < 100 || g.keepalive_ms > 600'000) {
        return r.Error(v, fpath, "expected an interval from 100ms to 10m");
      }
    } else {
      return r.Unknown(kv.first, "mcp");
    }
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
