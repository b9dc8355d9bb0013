#include "controld/reloader.h"

#include <chrono>
#include <ctime>
#include <optional>

#include "absl/strings/str_cat.h"
#include "shared/common/log.h"
#include "shared/config/env.h"
#include "shared/config/loader.h"

namespace bitrouter::controld {

Reloader::Result Reloader::Reload() {
  std::lock_guard<std::mutex> serial(reload_mu_);
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  };
  auto t0 = Clock::now();
  Result result;
  auto env = config::LoadEnvironment(paths_.env_file);
  absl::StatusOr<config::Config> cfg =
      env.ok() ? config::LoadConfigFile(paths_.config_file, *env) : env.status();
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  if (!cfg.ok()) {
    result.error = std::string(cfg.status().message());
    LOG_ERROR("reload rejected, still serving the previous config: ", result.error);
    std::lock_guard<std::mutex> lock(last_mu_);
    last_ = absl::StrCat(stamp, " rejected: ", result.error);
    return result;
  }
  auto previous = routes_->config();
  if (!overrides_.listen.empty()) cfg->server.listen = overrides_.listen;
  if (overrides_.workers != 0) cfg->server.workers = overrides_.workers;
  if (!overrides_.log_level.empty()) cfg->server.log_level = overrides_.log_level;
  // A new listen address is opened before anything else changes: if it
  // cannot be bound, the whole reload is rejected and nothing moves.
  std::optional<BoundListener> new_listener;
  if (previous != nullptr && cfg->server.listen != previous->server.listen) {
    auto bound = BindListener(cfg->server.listen);
    if (!bound.ok()) {
      result.error = absl::StrCat(cfg->source, ": server.listen: ", bound.status().message());
      LOG_ERROR("reload rejected, still serving the previous config: ", result.error);
      std::lock_guard<std::mutex> lock(last_mu_);
      last_ = absl::StrCat(stamp, " rejected: ", result.error);
      return result;
    }
    LOG_INFO("server.listen changed: now also listening on ", bound->address);
    routes_->SetListen(bound->address);
    new_listener = *bound;
  }
  if (previous != nullptr && cfg->server.control_socket != previous->server.control_socket) {
    cfg->warnings.push_back("server.control.socket changed: takes effect at the next restart");
    cfg->server.control_socket = previous->server.control_socket;
  }
  bool workers_changed = previous != nullptr && cfg->server.workers != previous->server.workers;
  uint32_t new_workers = cfg->server.workers;
  for (const auto& w : cfg->warnings) LOG_WARN(w);
  result.warnings = cfg->warnings;
  auto shared = std::make_shared<const config::Config>(std::move(*cfg));
  auto t1 = Clock::now();
  auto snap = routes_->SetConfig(std::move(shared));
  result.load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  RouteRegistry::Change change = routes_->WaitForAnswers(snap->version());
  result.push_ms = ms_since(t1);
  // The pool changes after the push: new workers start on the new snapshot.
  if (workers_changed && hooks_.workers_changed) hooks_.workers_changed(new_workers);
  // Then the new listener gets its own workers; the old ones drain after.
  if (new_listener && hooks_.listener_changed) hooks_.listener_changed(*new_listener);
  result.ok = change.nacks.empty();
  result.version = change.version;
  result.nacks = change.nacks;
  LOG_INFO("reloaded ", paths_.config_file, ": snapshot v", change.version,
           result.ok ? " active on every worker" : " NOT applied everywhere", " (load ",
           absl::SixDigits(result.load_ms), " ms, push+ACK ", absl::SixDigits(result.push_ms),
           " ms)");
  std::lock_guard<std::mutex> lock(last_mu_);
  last_ =
      absl::StrCat(stamp, result.ok ? " ok: snapshot v" : " partial: snapshot v", change.version);
  return result;
}

std::string Reloader::last() const {
  std::lock_guard<std::mutex> lock(last_mu_);
  return last_;
}

}  // namespace bitrouter::controld
