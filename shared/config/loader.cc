#include "shared/config/loader.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "shared/common/header_text.h"
#include "shared/common/loopback.h"
#include "shared/common/status_macros.h"
#include "shared/common/strings.h"
#include "shared/common/url.h"
#include "shared/config/loader_internal.h"
#include "yaml-cpp/yaml.h"

namespace bitrouter::config {
namespace internal {

absl::Status Reader::Error(const YAML::Node& node, std::string_view path,
                           std::string_view why) const {
  return ErrorAt(node.Mark().line >= 0 ? node.Mark().line + 1 : 0, path, why);
}

absl::Status Reader::ErrorAt(int line, std::string_view path, std::string_view why) const {
  return absl::InvalidArgumentError(
      absl::StrCat(AV(file_), ":", line, ": ", AV(path), ": ", AV(why)));
}

absl::StatusOr<std::string> Reader::String(const YAML::Node& node, std::string_view path) const {
  if (!node.IsScalar()) return Error(node, path, "expected a string");
  auto value = Substitute(node.Scalar(), env_);
  if (!value.ok()) return Error(node, path, SV(value.status().message()));
  return *value;
}

absl::StatusOr<std::string> Reader::HeaderValue(const YAML::Node& node,
                                                std::string_view path) const {
  ASSIGN_OR_RETURN(std::string value, String(node, path));
  if (std::string problem = HeaderValueProblem(value); !problem.empty()) {
    return Error(node, path, problem);
  }
  return value;
}

absl::StatusOr<std::string> Reader::HeaderName(const YAML::Node& node,
                                               std::string_view path) const {
  ASSIGN_OR_RETURN(std::string name, String(node, path));
  if (std::string problem = HeaderNameProblem(name); !problem.empty()) {
    return Error(node, path, problem);
  }
  return name;
}

absl::StatusOr<uint32_t> Reader::UintRange(const YAML::Node& node, std::string_view path,
                                           uint32_t min, uint32_t max) const {
  ASSIGN_OR_RETURN(std::string text, String(node, path));
  uint32_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return Error(node, path,
                 absl::StrCat("expected an integer ", min, "..", max, ", got '", text, "'"));
  }
  return value;
}

absl::StatusOr<double> Reader::Price(const YAML::Node& node, std::string_view path) const {
  ASSIGN_OR_RETURN(std::string text, String(node, path));
  double value = 0;
  // Written so that NaN fails too.
  if (!absl::SimpleAtod(text, &value) || !(value >= 0 && value <= 1e9)) {
    return Error(node, path,
                 absl::StrCat("expected a price >= 0 in USD per million tokens, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<bool> Reader::Bool(const YAML::Node& node, std::string_view path) const {
  ASSIGN_OR_RETURN(std::string text, String(node, path));
  if (text == "true" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "no" || text == "off") return false;
  return Error(node, path, absl::StrCat("expected true or false, got '", text, "'"));
}

absl::StatusOr<uint32_t> Reader::Duration(const YAML::Node& node, std::string_view path) const {
  ASSIGN_OR_RETURN(std::string text, String(node, path));
  auto ms = ParseDurationMs(text);
  if (!ms.ok()) return Error(node, path, SV(ms.status().message()));
  return *ms;
}

absl::StatusOr<std::vector<std::string>> Reader::StringList(const YAML::Node& node,
                                                            std::string_view path) const {
  if (!node.IsSequence()) return Error(node, path, "expected a list");
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    ASSIGN_OR_RETURN(std::string s, String(node[i], absl::StrCat(AV(path), "[", i, "]")));
    out.push_back(std::move(s));
  }
  return out;
}

absl::Status Reader::RequireMap(const YAML::Node& node, std::string_view path) const {
  if (!node.IsMap()) return Error(node, path, "expected a mapping");
  return absl::OkStatus();
}

absl::Status Reader::Unknown(const YAML::Node& key, std::string_view path) const {
  return Error(key, absl::StrCat(AV(path), ".", key.Scalar()), "unknown key");
}

void Reader::Warn(const YAML::Node& node, std::string_view path, std::string_view why) const {
  WarnAt(node.Mark().line >= 0 ? node.Mark().line + 1 : 0, path, why);
}

void Reader::WarnAt(int line, std::string_view path, std::string_view why) const {
  if (warnings_ == nullptr) return;
  std::string w(ErrorAt(line, path, why).message());
  if (std::find(warnings_->begin(), warnings_->end(), w) == warnings_->end()) {
    warnings_->push_back(std::move(w));
  }
}

absl::Status Reader::Timeouts(const YAML::Node& node, std::string_view path,
                              config::Timeouts* out) const {
  RETURN_IF_ERROR(RequireMap(node, path));
  for (const auto& t : node) {
    const std::string key = t.first.Scalar();
    uint32_t* field = key == "connect"             ? &out->connect_ms
                      : key == "first_byte"        ? &out->first_byte_ms
                      : key == "idle"              ? &out->idle_ms
                      : key == "total"             ? &out->total_ms
                      : key == "stream_first_byte" ? &out->stream_first_byte_ms
                      : key == "first_event"       ? &out->first_event_ms
                                                   : nullptr;
    if (field == nullptr) return Unknown(t.first, path);
    ASSIGN_OR_RETURN(*field, Duration(t.second, absl::StrCat(AV(path), ".", key)));
  }
  return absl::OkStatus();
}

void FillTimeouts(const config::Timeouts& base, config::Timeouts* t) {
  if (t->connect_ms == kUnsetMs) t->connect_ms = base.connect_ms;
  if (t->first_byte_ms == kUnsetMs) t->first_byte_ms = base.first_byte_ms;
  if (t->idle_ms == kUnsetMs) t->idle_ms = base.idle_ms;
  if (t->total_ms == kUnsetMs) t->total_ms = base.total_ms;
  if (t->stream_first_byte_ms == kUnsetMs) t->stream_first_byte_ms = base.stream_first_byte_ms;
  if (t->first_event_ms == kUnsetMs) t->first_event_ms = base.first_event_ms;
}

std::string InsecureHttpReason(std::string_view url) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok() || parsed->tls || IsLoopbackHost(parsed->host)) return "";
  return absl::StrCat("http:// to non-loopback host ", parsed->host);
}

}  // namespace internal

namespace {

using internal::Reader;

// Sections of the manual's reference config that later work implements: they
// load with a warning instead of being rejected.
// Also the newer sections the OpenClaw plugin writes (a2a_agents, skills,
// mcp_groups, pricing): its files must load as they are.
const std::set<std::string, std::less<>> kAcceptedLater = {"wallet",     "mpp",
                                                           "keys",       "solana_rpc_url",
                                                           "a2a_agents", "a2a_agent_pricing",
                                                           "mcp_groups", "mcp_server_pricing",
                                                           "skills",     "agents",
                                                           "policies"};

// "30d", "12h", "90m", "3600s", a bare number of seconds; "0" or "off" keeps
// every row.
absl::StatusOr<int64_t> ParseRetentionSeconds(std::string_view text) {
  if (text == "off" || text == "0") return 0;
  int64_t scale = 1;
  std::string_view num = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'd':
        scale = 86'400;
        break;
      case 'h':
        scale = 3'600;
        break;
      case 'm':
        scale = 60;
        break;
      case 's':
        scale = 1;
        break;
      default:
        scale = 0;
    }
    if (scale != 0) num.remove_suffix(1);
    if (scale == 0) scale = 1;
  }
  int64_t value = 0;
  if (num.empty() || !absl::SimpleAtoi(AV(num), &value) || value < 0 ||
      value > (int64_t{1} << 40) / scale) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a retention like 30d, 12h or off, got '", AV(text), "'"));
  }
  return value * scale;
}

absl::Status ReadDatabase(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "database"));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string path = absl::StrCat("database.", key);
    if (key == "url") {
      ASSIGN_OR_RETURN(cfg->database.url, r.String(kv.second, path));
    } else if (key == "retention") {
      ASSIGN_OR_RETURN(std::string text, r.String(kv.second, path));
      auto secs = ParseRetentionSeconds(text);
      if (!secs.ok()) return r.Error(kv.second, path, SV(secs.status().message()));
      cfg->database.retention_s = *secs;
    } else {
      return r.Unknown(kv.first, "database");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadServer(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "server"));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string path = absl::StrCat("server.", key);
    const YAML::Node& v = kv.second;
    if (key == "listen") {
      ASSIGN_OR_RETURN(cfg->server.listen, r.String(v, path));
      std::string host;
      uint16_t port;
      if (absl::Status s = ParseHostPort(cfg->server.listen, &host, &port); !s.ok()) {
        return r.Error(v, path, SV(s.message()));
      }
    } else if (key == "workers") {
      ASSIGN_OR_RETURN(cfg->server.workers, r.Uint(v, path, 256));
    } else if (key == "log_level") {
      ASSIGN_OR_RETURN(cfg->server.log_level, r.String(v, path));
      static const std::set<std::string, std::less<>> kLevels = {"trace", "debug", "info", "warn",
                                                                 "error"};
      if (!kLevels.count(cfg->server.log_level)) {
        return r.Error(v, path, "expected one of trace, debug, info, warn, error");
      }
    } else if (key == "drain_timeout") {
      ASSIGN_OR_RETURN(cfg->server.drain_timeout_ms, r.Duration(v, path));
    } else if (key == "header_timeout") {
      ASSIGN_OR_RETURN(cfg->server.header_timeout_ms, r.Duration(v, path));
    } else if (key == "keepalive_timeout") {
      ASSIGN_OR_RETURN(cfg->server.keepalive_timeout_ms, r.Duration(v, path));
    } else if (key == "body_timeout") {
      ASSIGN_OR_RETURN(cfg->server.body_timeout_ms, r.Duration(v, path));
    } else if (key == "stream_keepalive") {
      ASSIGN_OR_RETURN(cfg->server.stream_keepalive_ms, r.Duration(v, path));
    } else if (key == "send_timeout") {
      ASSIGN_OR_RETURN(cfg->server.send_timeout_ms, r.Duration(v, path));
    } else if (key == "access_log") {
      ASSIGN_OR_RETURN(cfg->server.access_log, r.Bool(v, path));
    } else if (key == "metering") {
      ASSIGN_OR_RETURN(cfg->server.metering, r.Bool(v, path));
    } else if (key == "control") {
      if (v.IsNull()) continue;
      RETURN_IF_ERROR(r.RequireMap(v, path));
      for (const auto& c : v) {
        const std::string ckey = c.first.Scalar();
        if (ckey != "socket") return r.Unknown(c.first, path);
        ASSIGN_OR_RETURN(cfg->server.control_socket, r.String(c.second, path + ".socket"));
        if (cfg->server.control_socket.empty() ||
            cfg->server.control_socket.find('\0') != std::string::npos) {
          return r.Error(c.second, path + ".socket", "expected a socket path");
        }
      }
    } else if (key == "skip_auth") {
      ASSIGN_OR_RETURN(cfg->server.skip_auth, r.Bool(v, path));
      cfg->server.skip_auth_line = v.Mark().line + 1;
    } else {
      return r.Unknown(kv.first, "server");
    }
  }
  return absl::OkStatus();
}

// Why the PEM bundle at `path` cannot serve as extra trust anchors, or "".
// Loads it the way the workers do (X509_STORE, PEM certificates).
std::string CaBundleProblem(const std::string& path) {
  if (path.empty()) return "";
  // A regular file only: a FIFO or a device would block or never end.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::StrCat("cannot load '", path, "': ", std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return absl::StrCat("cannot load '", path, "': not a regular file");
  constexpr off_t kMaxBundleBytes = 64 << 20;  // the system bundle is ~200 KB
  if (st.st_size > kMaxBundleBytes) {
    return absl::StrCat("cannot load '", path, "': over 64 MiB, not a CA bundle");
  }
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return "cannot allocate an X509 store";
  ERR_clear_error();
  const bool loaded = X509_STORE_load_file(store, path.c_str()) == 1;
  std::string problem;
  if (!loaded) {
    unsigned long err = ERR_peek_last_error();
    char text[256] = "no certificate found";
    if (err != 0) ERR_error_string_n(err, text, sizeof(text));
    problem = absl::StrCat("cannot load '", path, "' as a PEM CA bundle: ", text);
  }
  ERR_clear_error();
  X509_STORE_free(store);
  return problem;
}

absl::Status ReadCircuitBreaker(const Reader& r, const YAML::Node& node, FailoverConfig* f) {
  const std::string path = "upstream.circuit_breaker";
  RETURN_IF_ERROR(r.RequireMap(node, path));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string fpath = absl::StrCat(path, ".", key);
    if (key == "failures") {
      ASSIGN_OR_RETURN(f->breaker_failures, r.UintRange(kv.second, fpath, 1, 1000));
    } else if (key == "cooldown") {
      ASSIGN_OR_RETURN(f->breaker_cooldown_ms, r.Duration(kv.second, fpath));
    } else {
      return r.Unknown(kv.first, path);
    }
  }
  return absl::OkStatus();
}

absl::Status ReadUpstream(const Reader& r, const YAML::Node& node, Config* cfg) {
  RETURN_IF_ERROR(r.RequireMap(node, "upstream"));
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string path = absl::StrCat("upstream.", key);
    if (key == "ca_file") {
      ASSIGN_OR_RETURN(cfg->ca_file, r.String(kv.second, path));
      // The workers load it for every snapshot: a bundle they cannot load
      // would be rejected by all of them.
      if (std::string problem = CaBundleProblem(cfg->ca_file); !problem.empty()) {
        return r.Error(kv.second, path, problem);
      }
    } else if (key == "timeouts") {
      RETURN_IF_ERROR(r.Timeouts(kv.second, path, &cfg->timeouts));
    } else if (key == "retries") {
      ASSIGN_OR_RETURN(cfg->failover.retries, r.Uint(kv.second, path, 10));
    } else if (key == "retry_backoff") {
      ASSIGN_OR_RETURN(cfg->failover.retry_backoff_ms, r.Duration(kv.second, path));
    } else if (key == "retry_after_wait") {
      ASSIGN_OR_RETURN(cfg->failover.retry_after_wait_ms, r.Duration(kv.second, path));
    } else if (key == "max_retry_after") {
      ASSIGN_OR_RETURN(cfg->failover.max_retry_after_ms, r.Duration(kv.second, path));
    } else if (key == "stream_recovery") {
      ASSIGN_OR_RETURN(cfg->failover.stream_recovery, r.Bool(kv.second, path));
    } else if (key == "circuit_breaker") {
      RETURN_IF_ERROR(ReadCircuitBreaker(r, kv.second, &cfg->failover));
    } else {
      return r.Unknown(kv.first, "upstream");
    }
  }
  return absl::OkStatus();
}

absl::Status ParseInto(const Reader& r, const YAML::Node& root, std::string_view file_name,
                       const EnvMap& env, Config* cfg) {
  bool inherit = true;
  if (root.IsDefined() && !root.IsNull()) {
    RETURN_IF_ERROR(r.RequireMap(root, "(top level)"));
    if (root["inherit_defaults"]) {
      ASSIGN_OR_RETURN(inherit, r.Bool(root["inherit_defaults"], "inherit_defaults"));
    }
  }
  cfg->inherit_defaults = inherit;
  if (inherit) RETURN_IF_ERROR(internal::LoadBuiltins(cfg));
  std::set<std::string> mentioned;   // providers bitrouter.yaml names
  std::optional<YAML::Node> models;  // read last: endpoints refer to providers
  // Read after the providers are resolved (bridged providers are servers;
  // tools refer to servers): mcp_servers, then mcp, then tools.
  std::optional<YAML::Node> mcp_servers, mcp_key, mcp, tools;
  std::optional<YAML::Node> routing;  // after models: a trigger must not shadow one
  if (root.IsMap()) {
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (kv.second.IsNull() && (key == "server" || key == "upstream" || key == "providers" ||
                                 key == "models" || key == "database")) {
        // A section whose fields are all commented out.
      } else if (key == "server") {
        RETURN_IF_ERROR(ReadServer(r, kv.second, cfg));
      } else if (key == "database") {
        RETURN_IF_ERROR(ReadDatabase(r, kv.second, cfg));
      } else if (key == "upstream") {
        RETURN_IF_ERROR(ReadUpstream(r, kv.second, cfg));
      } else if (key == "providers") {
        RETURN_IF_ERROR(internal::ReadProviders(r, kv.second, cfg, &mentioned));
      } else if (key == "models") {
        models.emplace(kv.second);
      } else if (key == "mcp_servers") {
        mcp_servers.emplace(kv.second);
      } else if (key == "mcp") {
        mcp_key.emplace(kv.first);
        mcp.emplace(kv.second);
      } else if (key == "tools") {
        tools.emplace(kv.second);
      } else if (key == "routing") {
        routing.emplace(kv.second);
      } else if (key == "compat") {
        RETURN_IF_ERROR(internal::ReadCompat(r, kv.second, cfg));
      } else if (key == "guardrails") {
        RETURN_IF_ERROR(internal::ReadGuardrails(r, kv.first, kv.second, cfg));
      } else if (key == "inherit_defaults") {
        // read above
      } else if (kAcceptedLater.count(key)) {
        cfg->warnings.push_back(absl::StrCat(AV(file_name), ":", kv.first.Mark().line + 1, ": ",
                                             key, ": section not implemented yet; ignored"));
      } else {
        return r.Error(kv.first, key, "unknown key");
      }
    }
  }
  if (models) RETURN_IF_ERROR(internal::ReadModels(r, *models, cfg, &mentioned));
  if (routing) RETURN_IF_ERROR(internal::ReadRouting(r, *routing, cfg));
  for (auto& [name, p] : cfg->providers) {
    RETURN_IF_ERROR(internal::ResolveProvider(env, mentioned, cfg->timeouts, &p));
  }
  for (auto& [name, m] : cfg->models) {
    if (m.timeouts) internal::FillTimeouts(cfg->timeouts, &*m.timeouts);
  }
  RETURN_IF_ERROR(internal::ReadMcpServers(r, mcp_servers ? *mcp_servers : YAML::Node(), cfg));
  if (mcp) RETURN_IF_ERROR(internal::ReadMcpGateway(r, *mcp_key, *mcp, cfg));
  if (tools) RETURN_IF_ERROR(internal::ReadVirtualTools(r, *tools, cfg));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint32_t> ParseDurationMs(std::string_view text) {
  std::string_view num = text;
  double scale = 1000;  // bare numbers are seconds
  if (text.size() >= 2 && text.substr(text.size() - 2) == "ms") {
    num = text.substr(0, text.size() - 2), scale = 1;
  } else if (!text.empty() && text.back() == 's') {
    num = text.substr(0, text.size() - 1), scale = 1000;
  } else if (!text.empty() && text.back() == 'm') {
    num = text.substr(0, text.size() - 1), scale = 60'000;
  } else if (!text.empty() && text.back() == 'h') {
    num = text.substr(0, text.size() - 1), scale = 3'600'000;
  }
  double value = 0;
  // Written so that NaN fails too.
  if (num.empty() || !absl::SimpleAtod(AV(num), &value) ||
      !(value >= 0 && value * scale <= 4.0e9)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a duration like 500ms, 10s, 5m, got '", AV(text), "'"));
  }
  return static_cast<uint32_t>(value * scale + 0.5);
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml, std::string_view file_name,
                                   const EnvMap& env) {
  Config cfg;
  cfg.source = std::string(file_name);
  Reader r(file_name, env, &cfg.warnings);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    RETURN_IF_ERROR(ParseInto(r, root, file_name, env, &cfg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(AV(file_name), ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": YAML: ", e.msg));
  }
  return cfg;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const EnvMap& env) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return ParseConfig("", "(defaults)", env);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path, env);
}

}  // namespace bitrouter::config

namespace bitrouter::config {

bool IsLoopbackListen(std::string_view listen) {
  std::string_view host = listen;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    host = close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return IsLoopbackHost(host);
}

absl::Status CheckAuthMode(const Config& cfg, std::string_view listen) {
  if (!cfg.server.skip_auth || IsLoopbackListen(listen)) return absl::OkStatus();
  std::string where =
      cfg.server.skip_auth_line > 0
          ? absl::StrCat(cfg.source, ":", cfg.server.skip_auth_line, ": server.skip_auth: true")
          : std::string("server.skip_auth is true by default, and it");
  return absl::FailedPreconditionError(absl::StrCat(
      where, " is honoured only on a loopback listener, and ", AV(listen),
      " is not: anyone who can reach it would use your providers without a key. Set "
      "server.skip_auth: false and give each client a key (bitrouterctl key create), or listen "
      "on 127.0.0.1"));
}

}  // namespace bitrouter::config
