#pragma once
// Reload (SIGHUP or the Reload RPC): re-read .env and bitrouter.yaml,
// validate, and push a new snapshot; answer once every worker ACKed. An
// invalid config is rejected with file:line and the running one keeps
// serving; so is a snapshot every worker refuses (NACK): then nothing
// changes, not the pool, not the listener. Runtime routes survive. One
// reload at a time; thread-safe.

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controld/listener.h"
#include "controld/route_registry.h"
#include "shared/config/config.h"
#include "shared/config/home.h"

namespace bitrouter::controld {

class Reloader {
 public:
  struct Overrides {  // command-line flags win over the file on every load
    std::string listen;
    uint32_t workers = 0;
    std::string log_level;
  };
  struct Result {
    bool ok = false;
    std::string error;
    uint64_t version = 0;
    std::vector<std::string> nacks;
    std::vector<std::string> warnings;
    double load_ms = 0;
    double push_ms = 0;
  };

  struct Hooks {
    std::function<void(uint32_t)> workers_changed;        // new pool size
    std::function<void(BoundListener)> listener_changed;  // new socket, already listening
  };
  // Hooks run on the reloading thread, after every worker ACKed.
  Reloader(config::HomePaths paths, Overrides overrides, RouteRegistry* routes, Hooks hooks)
      : paths_(std::move(paths)),
        overrides_(std::move(overrides)),
        routes_(routes),
        hooks_(std::move(hooks)) {}

  ~Reloader();
  Result Reload();
  // For SIGHUP: reloads on a background thread and returns at once, so the
  // caller (the main loop: reaping, signals) never waits. Requests made
  // while one runs coalesce into one more reload after it.
  void ReloadInBackground();
  // Waits for a background reload to finish (shutdown).
  void JoinBackground();
  std::string last() const;

 private:
  config::HomePaths paths_;
  Overrides overrides_;
  RouteRegistry* routes_;
  Hooks hooks_;
  std::mutex reload_mu_;  // serialises reloads
  mutable std::mutex last_mu_;
  std::string last_;
  std::mutex background_mu_;
  std::thread background_;
  bool background_running_ = false;
  bool background_again_ = false;
};

}  // namespace bitrouter::controld
