#include "controld/route_registry.h"

#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controld/snapshot_source.h"
#include "shared/common/header_text.h"
#include "shared/common/url.h"
#include "shared/config/render.h"
#include "shared/routing/snapshot_table.h"

namespace bitrouter::controld {

RouteRegistry::RouteRegistry(SnapshotHub* hub, std::string listen)
    : hub_(hub), listen_(std::move(listen)) {}

SnapshotHub::SnapshotPtr RouteRegistry::SetConfig(std::shared_ptr<const config::Config> config) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
  return PublishLocked();
}

void RouteRegistry::SetListen(std::string listen) {
  std::lock_guard<std::mutex> lock(mu_);
  listen_ = std::move(listen);
}

std::string RouteRegistry::listen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listen_;
}

void RouteRegistry::RestoreConfig(const std::shared_ptr<const config::Config>& refused,
                                  std::shared_ptr<const config::Config> previous,
                                  std::string previous_listen) {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_ != refused || previous == nullptr) return;
  config_ = std::move(previous);
  listen_ = std::move(previous_listen);
}

std::shared_ptr<const config::Config> RouteRegistry::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

SnapshotHub::SnapshotPtr RouteRegistry::SetKeys(std::vector<bitrouter::v1::VirtualKey> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(keys);
  if (config_ == nullptr) return nullptr;
  return PublishLocked();
}

void RouteRegistry::SetMcpHostSocket(std::string path) {
  std::lock_guard<std::mutex> lock(mu_);
  mcp_host_socket_ = std::move(path);
}

SnapshotHub::SnapshotPtr RouteRegistry::PublishLocked() {
  bitrouter::v1::Snapshot snap = BuildSnapshot(*config_, listen_, runtime_, mcp_host_socket_);
  for (const auto& k : keys_) *snap.add_keys() = k;
  return hub_->Publish(std::move(snap));
}

RouteRegistry::Change RouteRegistry::WaitForAnswers(uint64_t version) const {
  Change change;
  change.version = version;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!hub_->AllAnswered(version) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // ACK first: a worker that serves `version` (or a newer one, coalesced)
  // may have refused a later snapshot published meanwhile by someone else
  // (a route add during a reload); that NACK is not this change's.
  for (const auto& w : hub_->Ledger()) {
    if (w.pid == 0 || w.acked_version >= version) continue;
    if (w.nacked_version >= version) {
      change.nacks.push_back(absl::StrCat("worker[", w.worker_id, "]: ", w.nack_error));
      ++change.refused;
    } else {
      change.nacks.push_back(absl::StrCat("worker[", w.worker_id, "]: no answer within 5 s"));
    }
  }
  auto current = hub_->Current();
  change.accepted = current != nullptr && current->version() >= version;
  return change;
}

absl::StatusOr<RouteRegistry::Change> RouteRegistry::Add(const bitrouter::v1::Route& route) {
  if (route.name().empty() || route.name().find(':') != std::string::npos) {
    return absl::InvalidArgumentError("route names must be non-empty and contain no ':'");
  }
  std::string strategy = route.strategy().empty() ? "priority" : route.strategy();
  if (strategy != "priority" && strategy != "load_balance") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown strategy '", strategy, "': use priority or load_balance"));
  }
  if (route.endpoints().empty())
    return absl::InvalidArgumentError("a route needs at least one endpoint");
  config::VirtualModel m;
  m.name = route.name();
  m.strategy = strategy;
  uint64_t version = 0;
  std::string name;
  std::optional<config::VirtualModel> previous;  // restored if every worker refuses
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < route.endpoints_size(); ++i) {
      const auto& e = route.endpoints(i);
      // Checked like the config loader checks bitrouter.yaml, so that no
      // worker rejects the snapshot: one NACKed route would block every
      // later snapshot (reloads included). Messages never show keys.
      const std::string field = absl::StrCat("route ", route.name(), ": endpoints[", i, "]");
      if (e.provider().empty() || e.model_id().empty()) {
        return absl::InvalidArgumentError("each endpoint is provider:model_id");
      }
      if (!config_->providers.count(e.provider())) {
        return absl::NotFoundError(absl::StrCat("unknown provider '", e.provider(),
                                                "' (configured: see `bitrouterctl status`)"));
      }
      if (absl::Status s = CheckHeaderValue(field + ".api_key", e.api_key()); !s.ok()) return s;
      if (!e.api_base().empty()) {
        if (absl::Status s = CheckHeaderValue(field + ".api_base", e.api_base()); !s.ok()) return s;
        if (auto u = ParseUrl(e.api_base()); !u.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(
              field,
              ".api_base: ", config::RedactUrlCredentials(std::string(u.status().message()))));
        }
      }
      const std::string& proto = e.api_protocol();
      if (!proto.empty() && proto != "openai" && proto != "openai_responses" &&
          proto != "responses" && proto != "anthropic" && proto != "google") {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown api_protocol '", proto,
                         "': use openai, openai_responses, anthropic or google"));
      }
      config::Endpoint ep;
      ep.provider = e.provider();
      ep.api_protocol = proto;
      ep.model_id = e.model_id();
      ep.api_key = e.api_key();
      ep.api_base = e.api_base();
      ep.weight = e.weight() == 0 ? 1 : e.weight();
      m.endpoints.push_back(std::move(ep));
    }
    auto old = runtime_.find(m.name);
    if (old != runtime_.end()) previous = old->second;
    name = m.name;
    runtime_[m.name] = std::move(m);
    version = PublishLocked()->version();
    runtime_version_[name] = version;
  }
  Change change = WaitForAnswers(version);
  if (!change.rejected()) return change;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (runtime_version_[name] == version) {  // not replaced meanwhile
      if (previous) {
        runtime_[name] = std::move(*previous);
      } else {
        runtime_.erase(name);
        runtime_version_.erase(name);
      }
    }
  }
  std::string why;
  for (const auto& n : change.nacks) absl::StrAppend(&why, "\n  ", n);
  return absl::FailedPreconditionError(absl::StrCat("every worker rejected snapshot v", version,
                                                    " with route '", name,
                                                    "'; the route was not added:", why));
}

absl::StatusOr<RouteRegistry::Change> RouteRegistry::Remove(const std::string& name) {
  uint64_t version = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    runtime_version_.erase(name);
    if (runtime_.erase(name) == 0) {
      return absl::NotFoundError(
          config_->models.count(name)
              ? absl::StrCat("'", name, "' is a config route; edit bitrouter.yaml to remove it")
              : absl::StrCat("no runtime route named '", name, "'"));
    }
    version = PublishLocked()->version();
  }
  return WaitForAnswers(version);
}

std::vector<bitrouter::v1::Route> RouteRegistry::List() const {
  std::vector<bitrouter::v1::Route> out;
  auto snap = hub_->Current();
  if (snap == nullptr) return out;
  std::map<std::string, const bitrouter::v1::Route*> by_name;
  for (const auto& r : snap->routes()) {
    auto it = by_name.find(r.name());
    if (it == by_name.end() || r.runtime()) by_name[r.name()] = &r;  // runtime shadows config
  }
  for (const auto& [name, r] : by_name) {
    bitrouter::v1::Route copy = *r;
    for (auto& e : *copy.mutable_endpoints()) {
      if (!e.api_key().empty()) e.set_api_key("<redacted>");
    }
    out.push_back(std::move(copy));
  }
  return out;
}

bitrouter::v1::TraceRouteResponse RouteRegistry::Trace(const std::string& model) const {
  bitrouter::v1::TraceRouteResponse out;
  auto snap = hub_->Current();
  std::shared_ptr<const config::Config> cfg = config();
  if (snap == nullptr || cfg == nullptr) {
    out.set_error("no snapshot yet");
    return out;
  }
  std::map<std::string, std::string> inactive;
  for (const auto& [name, p] : cfg->providers) {
    if (!p.active) inactive[name] = p.reason;
  }
  routing::RouteTable table = routing::BuildRouteTable(*snap, inactive);
  auto res = table.Resolve(model);
  if (!res.ok()) {
    out.set_error(std::string(res.status().message()));
    return out;
  }
  out.set_found(true);
  out.set_source(res->source);
  out.set_strategy(res->strategy);
  for (const auto& s : res->skipped) out.add_skipped(s);
  for (const auto& t : res->targets) {
    auto* hop = out.add_hops();
    hop->set_provider(t.provider);
    hop->set_model_id(t.model_id);
    auto it = cfg->providers.find(t.provider);
    const config::Provider* p = it == cfg->providers.end() ? nullptr : &it->second;
    hop->set_protocol(!t.api_protocol.empty() ? t.api_protocol : p ? p->api_protocol : "");
    hop->set_base_url(!t.api_base.empty() ? t.api_base : p ? p->api_base : "");
    hop->set_key(!t.api_key.empty() ? "endpoint api_key (redacted)"
                 : t.key_index >= 0 ? absl::StrCat("pool key ", t.key_index + 1)
                 : p                ? p->reason
                                    : "");
    bool openai = p != nullptr && p->api_protocol == "openai";
    hop->set_usable(openai);
    std::string note =
        openai ? absl::StrCat("weight ", t.weight)
               : absl::StrCat("skipped for Chat Completions: speaks ", p ? p->api_protocol : "?",
                              " (translation not available yet)");
    hop->set_note(note);
  }
  return out;
}

}  // namespace bitrouter::controld
