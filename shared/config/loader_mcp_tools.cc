// tools: the manual's virtual tools — a tool name clients see, served by
// tools of MCP servers (priority or load_balance), with a description, an
// input schema (kept as JSON text) and a price per call.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/config/loader_internal.h"

namespace bitrouter::config::internal {
namespace {

int LineOf(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

// REST tool providers the manual's reference config names without declaring
// them (the original ships them built in). An endpoint on one loads but is
// inactive until REST tools are served; any other unknown name is an error.
bool BuiltinRestToolProvider(std::string_view name) { return name == "exa"; }

// input_schema limits: a schema is small; these bound alias expansion.
constexpr int kMaxSchemaDepth = 64;
constexpr int kMaxSchemaNodes = 10'000;

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A plain (unquoted, untagged) scalar as YAML 1.2's core schema types it.
void WritePlainScalar(const std::string& s, JsonWriter* w) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    w->Null();
    return;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    w->Bool(true);
    return;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    w->Bool(false);
    return;
  }
  const bool numeric_chars = s.find_first_not_of("0123456789+-.eE") == std::string::npos &&
                             s.find_first_of("0123456789") != std::string::npos &&
                             (absl::ascii_isdigit(static_cast<unsigned char>(s[0])) ||
                              s[0] == '-' || s[0] == '+' || s[0] == '.');
  int64_t i = 0;
  double d = 0;
  if (numeric_chars && s.find_first_of(".eE") == std::string::npos && absl::SimpleAtoi(s, &i)) {
    w->Int64(i);
  } else if (numeric_chars && absl::SimpleAtod(s, &d) && std::isfinite(d)) {
    w->Double(d);
  } else {
    w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
  }
}

// YAML → JSON. Quoted or tagged scalars stay strings. No ${VAR}
// substitution: the schema is published to every client.
absl::Status WriteJson(const Reader& r, const YAML::Node& node, const std::string& path, int depth,
                       int* budget, JsonWriter* w) {
  if (depth > kMaxSchemaDepth || --*budget < 0) {
    return r.Error(node, path, "too deep or too large (64 levels, 10000 nodes)");
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
      w->Null();
      return absl::OkStatus();
    case YAML::NodeType::Scalar:
      if (node.Tag() == "?") {
        WritePlainScalar(node.Scalar(), w);
      } else {
        w->String(node.Scalar().data(), static_cast<rapidjson::SizeType>(node.Scalar().size()),
                  true);
      }
      return absl::OkStatus();
    case YAML::NodeType::Sequence:
      w->StartArray();
      for (size_t i = 0; i < node.size(); ++i) {
        RETURN_IF_ERROR(
            WriteJson(r, node[i], absl::StrCat(path, "[", i, "]"), depth + 1, budget, w));
      }
      w->EndArray();
      return absl::OkStatus();
    case YAML::NodeType::Map: {
      w->StartObject();
      std::set<std::string> seen;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return r.Error(kv.first, path, "keys must be strings");
        const std::string& key = kv.first.Scalar();
        const std::string kpath = absl::StrCat(path, ".", key);
        if (!seen.insert(key).second) return r.Error(kv.first, kpath, "key given twice");
        w->Key(key.data(), static_cast<rapidjson::SizeType>(key.size()), true);
        RETURN_IF_ERROR(WriteJson(r, kv.second, kpath, depth + 1, budget, w));
      }
      w->EndObject();
      return absl::OkStatus();
    }
    default:
      return r.Error(node, path, "expected YAML data");
  }
}

absl::StatusOr<std::string> SchemaJson(const Reader& r, const YAML::Node& node,
                                       const std::string& path) {
  if (!node.IsMap()) return r.Error(node, path, "expected a mapping (a JSON Schema object)");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  int budget = kMaxSchemaNodes;
  RETURN_IF_ERROR(WriteJson(r, node, path, 0, &budget, &w));
  return std::string(buf.GetString(), buf.GetSize());
}

absl::StatusOr<double> UsdPerCall(const Reader& r, const YAML::Node& node,
                                  const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, r.String(node, path));
  double value = 0;
  // Written so that NaN fails too.
  if (!absl::SimpleAtod(text, &value) || !(value >= 0 && value <= 1e6)) {
    return r.Error(node, path,
                   absl::StrCat("expected a price >= 0 in USD per call, got '", text, "'"));
  }
  return value;
}

absl::Status ReadPricing(const Reader& r, const YAML::Node& node, const std::string& path,
                         VirtualTool* t) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    if (k == "default") {
      ASSIGN_OR_RETURN(t->price_per_call, UsdPerCall(r, kv.second, fpath));
    } else if (k == "overrides") {
      RETURN_IF_ERROR(r.RequireMap(kv.second, fpath));
      for (const auto& o : kv.second) {
        const std::string id = o.first.Scalar();
        ASSIGN_OR_RETURN(t->price_overrides[id],
                         UsdPerCall(r, o.second, absl::StrCat(fpath, ".", id)));
      }
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

// Resolves e->server against the MCP servers; see BuiltinRestToolProvider.
absl::Status ResolveServer(const Reader& r, const YAML::Node& at, const std::string& path,
                           const Config& cfg, VirtualToolEndpoint* e) {
  if (cfg.mcp_servers.count(e->server)) return absl::OkStatus();
  auto p = cfg.providers.find(e->server);
  const bool declared = p != cfg.providers.end() && p->second.line > 0;
  if ((declared && p->second.api_protocol == "rest") ||
      (!declared && BuiltinRestToolProvider(e->server))) {
    e->inactive_reason = absl::StrCat("'", e->server, "' is a REST tool provider, not served yet");
    r.Warn(at, path, absl::StrCat(e->inactive_reason, "; this endpoint is skipped"));
    return absl::OkStatus();
  }
  if (p != cfg.providers.end() && p->second.api_protocol == "mcp") {
    return r.Error(at, path,
                   absl::StrCat("provider '", e->server,
                                "' is api_protocol: mcp without bridge: true; add bridge: true "
                                "or declare it under mcp_servers"));
  }
  if (p != cfg.providers.end()) {
    return r.Error(at, path,
                   absl::StrCat("'", e->server, "' is a model provider, not an MCP server"));
  }
  return r.Error(at, path,
                 absl::StrCat("unknown MCP server '", e->server,
                              "' (declare it under mcp_servers, or as a provider with "
                              "api_protocol: mcp and bridge: true)"));
}

absl::Status ReadToolEndpoint(const Reader& r, const YAML::Node& node, const std::string& path,
                              const Config& cfg, VirtualToolEndpoint* e) {
  RETURN_IF_ERROR(r.RequireMap(node, path));
  e->line = LineOf(node);
  std::optional<YAML::Node> server_value;
  bool has_service = false;
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    if (k == "provider" || k == "server") {
      if (server_value) return r.Error(kv.first, fpath, "give either provider or server");
      ASSIGN_OR_RETURN(e->server, r.String(kv.second, fpath));
      server_value.emplace(kv.second);
    } else if (k == "service_id") {
      ASSIGN_OR_RETURN(e->service_id, r.String(kv.second, fpath));
      if (e->service_id.empty()) return r.Error(kv.second, fpath, "must be non-empty");
      has_service = true;
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (!server_value) return r.Error(node, path, "needs provider (an MCP server)");
  if (!has_service) return r.Error(node, path, "needs service_id (the tool's name there)");
  return ResolveServer(r, *server_value, path + ".provider", cfg, e);
}

absl::Status ReadTool(const Reader& r, const YAML::Node& key, const YAML::Node& node,
                      const Config& cfg, VirtualTool* t) {
  const std::string path = absl::StrCat("tools.", t->name);
  RETURN_IF_ERROR(r.RequireMap(node, path));
  std::optional<YAML::Node> overrides_at;
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", k);
    const YAML::Node& v = kv.second;
    if (k == "strategy") {
      ASSIGN_OR_RETURN(t->strategy, r.String(v, fpath));
      if (t->strategy != "priority" && t->strategy != "load_balance") {
        return r.Error(v, fpath,
                       absl::StrCat("expected priority or load_balance, got '", t->strategy, "'"));
      }
    } else if (k == "endpoints") {
      if (!v.IsSequence() || v.size() == 0) {
        return r.Error(v, fpath, "expected a non-empty list of endpoints");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        VirtualToolEndpoint e;
        RETURN_IF_ERROR(ReadToolEndpoint(r, v[i], absl::StrCat(fpath, "[", i, "]"), cfg, &e));
        t->endpoints.push_back(std::move(e));
      }
    } else if (k == "description") {
      ASSIGN_OR_RETURN(t->description, r.String(v, fpath));
    } else if (k == "input_schema") {
      ASSIGN_OR_RETURN(t->input_schema_json, SchemaJson(r, v, fpath));
    } else if (k == "pricing") {
      RETURN_IF_ERROR(ReadPricing(r, v, fpath, t));
      if (v["overrides"]) overrides_at.emplace(v["overrides"]);
    } else if (k == "skill") {
      ASSIGN_OR_RETURN(t->skill, r.String(v, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  if (t->endpoints.empty()) return r.Error(key, path, "needs endpoints");
  for (const auto& [id, price] : t->price_overrides) {
    bool used = false;
    for (const VirtualToolEndpoint& e : t->endpoints) used = used || e.service_id == id;
    if (!used) {
      r.Warn(*overrides_at, absl::StrCat(path, ".pricing.overrides.", id),
             "no endpoint has this service_id; the override is never used");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadVirtualTools(const Reader& r, const YAML::Node& node, Config* cfg) {
  if (node.IsNull()) return absl::OkStatus();
  RETURN_IF_ERROR(r.RequireMap(node, "tools"));
  for (const auto& kv : node) {
    VirtualTool t;
    t.name = kv.first.Scalar();
    t.line = LineOf(kv.first);
    const std::string path = absl::StrCat("tools.", t.name);
    bool valid = !t.name.empty() && t.name.size() <= 128;
    for (char c : t.name) {
      valid = valid && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                        c == '-' || c == '.');
    }
    if (!valid) return r.Error(kv.first, path, "tool names are 1..128 of A-Z a-z 0-9 _ - .");
    if (cfg->tools.count(t.name)) return r.Error(kv.first, path, "defined twice");
    RETURN_IF_ERROR(ReadTool(r, kv.first, kv.second, *cfg, &t));
    for (const auto& [id, s] : cfg->mcp_servers) {
      if (s.aggregate && !s.tool_prefix.empty() && t.name.starts_with(s.tool_prefix)) {
        r.Warn(kv.first, path,
               absl::StrCat("starts with the tool prefix of MCP server '", id,
                            "': on the aggregate endpoint it may hide one of its tools"));
      }
    }
    cfg->tools[t.name] = std::move(t);
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::config::internal
