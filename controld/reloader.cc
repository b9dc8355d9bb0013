#include "controld/reloader.h"

#include <unistd.h>

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
  const std::string previous_listen = routes_->listen();
  if (!overrides_.listen.empty()) cfg->server.listen = overrides_.listen;
  if (overrides_.workers != 0) cfg->server.workers = overrides_.workers;
  if (!overrides_.log_level.empty()) cfg->server.log_level = overrides_.log_level;
  // Serving the network without keys is refused before anything moves (the
  // listener the new config would serve on: its own, or the one kept).
  if (absl::Status auth = config::CheckAuthMode(*cfg, cfg->server.listen); !auth.ok()) {
    result.error = std::string(auth.message());
    LOG_ERROR("reload rejected, still serving the previous config: ", result.error);
    std::lock_guard<std::mutex> lock(last_mu_);
    last_ = absl::StrCat(stamp, " rejected: ", result.error);
    return result;
  }
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
  if (previous != nullptr && (cfg->database.url != previous->database.url ||
                              cfg->database.retention_s != previous->database.retention_s)) {
    // The store is opened once, before anything serves; moving it under a
    // running daemon would split the usage history.
    cfg->warnings.push_back("database changed: takes effect at the next restart");
    cfg->database = previous->database;
  }
  bool workers_changed = previous != nullptr && cfg->server.workers != previous->server.workers;
  uint32_t new_workers = cfg->server.workers;
  for (const auto& w : cfg->warnings) LOG_WARN(w);
  result.warnings = cfg->warnings;
  auto shared_config = std::make_shared<const config::Config>(std::move(*cfg));
  auto t1 = Clock::now();
  auto snap = routes_->SetConfig(shared_config);
  result.load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  RouteRegistry::Change change = routes_->WaitForAnswers(snap->version());
  result.push_ms = ms_since(t1);
  if (change.rejected()) {
    // Nothing serves it: the previous config stays, and so do the pool and
    // the listener (the new socket is closed unused).
    routes_->RestoreConfig(shared_config, previous, previous_listen);
    if (new_listener) close(new_listener->fd);
    result.error = absl::StrCat("every worker rejected snapshot v", change.version,
                                "; still serving the previous config:");
    for (const auto& n : change.nacks) absl::StrAppend(&result.error, "\n  ", n);
    result.nacks = change.nacks;
    LOG_ERROR("reload rejected: ", result.error);
    std::lock_guard<std::mutex> lock(last_mu_);
    last_ = absl::StrCat(stamp, " rejected: every worker refused snapshot v", change.version);
    return result;
  }
  // The pool changes after the push (a worker took it): new
  // workers start on the new snapshot.
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

Reloader::~Reloader() { JoinBackground(); }

void Reloader::ReloadInBackground() {
  std::lock_guard<std::mutex> lock(background_mu_);
  if (background_running_) {
    background_again_ = true;
    return;
  }
  // A finished thread: joining it returns at once.
  if (background_.joinable()) background_.join();
  background_running_ = true;
  background_ = std::thread([this] {
    while (true) {
      Reload();
      std::lock_guard<std::mutex> lock(background_mu_);
      if (!background_again_) {
        background_running_ = false;
        return;
      }
      background_again_ = false;
    }
  });
}

void Reloader::JoinBackground() {
  std::thread done;
  {
    std::lock_guard<std::mutex> lock(background_mu_);
    done = std::move(background_);
  }
  if (done.joinable()) done.join();
}

std::string Reloader::last() const {
  std::lock_guard<std::mutex> lock(last_mu_);
  return last_;
}

}  // namespace bitrouter::controld
