// bitrouterd: the control plane. Owns config and .env, binds the listen
// socket, serves the control socket, spawns and supervises the workers and
// pushes them snapshots. Never on the request path.

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controld/control_service.h"
#include "controld/keys/key_registry.h"
#include "controld/listener.h"
#include "controld/mcp_host_supervisor.h"
#include "controld/reloader.h"
#include "controld/route_registry.h"
#include "controld/run_files.h"
#include "controld/snapshot_hub.h"
#include "controld/snapshot_source.h"
#include "controld/store/usage_store.h"
#include "controld/supervisor.h"
#include "controld/usage/intake.h"
#include "shared/common/log.h"
#include "shared/common/log_file.h"
#include "shared/config/env.h"
#include "shared/config/home.h"
#include "shared/config/loader.h"
#include "shared/config/path_flags.h"
#include "shared/config/render.h"
#include "shared/node/key_table.h"
#include "shared/node/metrics.h"
#include "shared/node/node_shm.h"

namespace {

using namespace bitrouter;

std::string WorkerBinary() {
  if (const char* env = std::getenv("BITROUTER_WORKER_BIN"); env && *env) return env;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "bitrouter-worker";
  self[n] = '\0';
  std::string path(self);
  return path.substr(0, path.rfind('/') + 1) + "bitrouter-worker";
}

std::string McpHostBinary() {
  if (const char* env = std::getenv("BITROUTER_MCP_HOST_BIN"); env && *env) return env;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "bitrouter-mcp-host";
  self[n] = '\0';
  std::string path(self);
  return path.substr(0, path.rfind('/') + 1) + "bitrouter-mcp-host";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bitrouterd - the BitRouter daemon: an LLM router between AI agents and model providers.\n"
      "Runs in the foreground, logs to stderr, serves HTTP on server.listen (default\n"
      "127.0.0.1:4356) and the control socket <home>/run/control.sock for bitrouterctl.\n"
      "Providers come from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GOOGLE_API_KEY,\n"
      "OPENROUTER_API_KEY, DEEPSEEK_API_KEY, ... and {PREFIX}_BASE_URL), <home>/.env and\n"
      "<home>/bitrouter.yaml. SIGTERM/SIGINT drain in-flight requests and exit 0.",
      "bitrouterd"};
  std::string home_flag, listen_flag, log_level;
  uint32_t workers_flag = 0;
  bool validate = false;
  app.add_option("--home-dir", home_flag,
                 "Home directory (default: ./ if it has bitrouter.yaml, else $BITROUTER_HOME, "
                 "else ~/.bitrouter)");
  app.add_option("--listen", listen_flag,
                 "HTTP listen address host:port (overrides server.listen; "
                 "port 0 picks a free port, see run/listen.addr)");
  app.add_option("--workers", workers_flag,
                 "Worker processes (overrides server.workers; 0 = one per CPU)")
      ->check(CLI::Range(0, 256));
  app.add_option("--log-level", log_level,
                 "trace|debug|info|warn|error (overrides server.log_level)");
  app.add_flag("--validate", validate, "Load and validate the configuration, print it, and exit");
  std::string db_flag;
  app.add_option("--db", db_flag,
                 "Usage database URL (overrides BITROUTER_DATABASE_URL and database.url; "
                 "default <home>/bitrouter.db)");
  std::string log_file;
  app.add_option("--log-file", log_file,
                 "Write logs (bitrouterd's and the workers') to this file instead of stderr; "
                 "SIGUSR1 reopens it (for logrotate) and it rotates itself at 64 MiB, keeping 5");
  config::PathOverrides path_overrides;
  config::AddPathFlags(app, &path_overrides);
  app.set_version_flag("--version", BITROUTER_VERSION);
  CLI11_PARSE(app, argc, argv);

  log::SetTag("bitrouterd");
  auto paths = config::ResolveHome(home_flag);
  if (!paths.ok()) {
    std::fprintf(stderr, "bitrouterd: %s\n", std::string(paths.status().message()).c_str());
    return 2;
  }
  config::ApplyPathOverrides(path_overrides, &*paths);
  auto env = config::LoadEnvironment(paths->env_file);
  if (!env.ok()) {
    std::fprintf(stderr, "bitrouterd: %s\n", std::string(env.status().message()).c_str());
    return 2;
  }
  auto loaded = config::LoadConfigFile(paths->config_file, *env);
  if (!loaded.ok()) {
    std::fprintf(stderr, "bitrouterd: invalid configuration: %s\n",
                 std::string(loaded.status().message()).c_str());
    return 2;
  }
  config::Config cfg = std::move(*loaded);
  config::ApplyControlSocket(cfg.server.control_socket, &*paths);
  if (!listen_flag.empty()) cfg.server.listen = listen_flag;
  if (workers_flag != 0) cfg.server.workers = workers_flag;
  if (!log_level.empty()) cfg.server.log_level = log_level;
  log::Level level;
  if (!log::ParseLevel(cfg.server.log_level, &level)) {
    std::fprintf(stderr, "bitrouterd: unknown log level '%s'\n", cfg.server.log_level.c_str());
    return 2;
  }
  log::SetLevel(level);
  if (absl::Status auth = config::CheckAuthMode(cfg, cfg.server.listen); !auth.ok()) {
    std::fprintf(stderr, "bitrouterd: invalid configuration: %s\n",
                 std::string(auth.message()).c_str());
    return 2;
  }
  if (validate) {
    std::printf("# home %s (chosen by %s)\n", paths->home.c_str(), paths->how.c_str());
    std::fputs(config::RenderEffectiveConfig(cfg).c_str(), stdout);
    return 0;
  }
  for (const auto& w : cfg.warnings) LOG_WARN(w);

  if (absl::Status s = config::EnsureHomeLayout(*paths); !s.ok()) {
    LOG_ERROR(s.message());
    return 1;
  }
  // Before anything else touches run/: of two bitrouterd started at the same
  // instant, exactly one gets past this. The fd stays open until exit.
  if (absl::StatusOr<int> lock = controld::LockHome(*paths); !lock.ok()) {
    LOG_ERROR(lock.status().message());
    return 1;
  }
  if (!log_file.empty()) {
    if (absl::Status s = log::RedirectStderrTo(log_file); !s.ok()) {
      std::fprintf(stderr, "bitrouterd: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  if (absl::Status s = controld::ClaimHome(*paths); !s.ok()) {
    LOG_ERROR(s.message());
    return 1;
  }
  // Every thread started from here inherits this mask; the main thread
  // takes signals synchronously with sigtimedwait.
  // The usage store: opened before anything serves, so a bad database.url is
  // a load error rather than a daemon that silently records nothing.
  std::string db_url = db_flag;
  if (db_url.empty()) {
    if (auto it = env->find("BITROUTER_DATABASE_URL"); it != env->end()) db_url = it->second;
  }
  if (db_url.empty()) db_url = cfg.database.url;
  auto store = store::MakeStore(db_url, paths->home + "/bitrouter.db");
  if (!store.ok()) {
    LOG_ERROR("usage store: ", store.status().message());
    return 1;
  }
  // One per node, created before the store thread and the first worker:
  // breakers and Retry-After windows every worker shares, the metrics every
  // worker renders, and the keys' rate limits and budget reservations.
  // Without it each worker keeps its own.
  auto pool_size = [](uint32_t configured) {
    return configured == 0 ? std::max(1u, std::thread::hardware_concurrency()) : configured;
  };
  uint32_t workers = pool_size(cfg.server.workers);
  std::unique_ptr<node::NodeShm> node_shm;
  node::NodeShmSpec node_spec;
  node_spec.metrics_worker_slots = std::max(node_spec.metrics_worker_slots, 2 * workers);
  if (auto created = node::NodeShm::Create(node_spec); created.ok()) {
    node_shm = std::move(*created);
  } else {
    LOG_WARN("no node region (", created.status().message(),
             "): circuit breakers are kept per worker, and key budgets cannot be enforced");
  }
  std::unique_ptr<node::KeyTable> key_table;
  if (node_shm != nullptr) {
    key_table = std::make_unique<node::KeyTable>(
        node_shm->Table(node::TableKind::kKeyLimits, sizeof(node::KeySlot)));
    if (!key_table->valid()) key_table.reset();
  }
  // The key registry is set once the snapshot machinery exists; until then
  // the store thread's tick has nothing to do.
  std::atomic<controld::KeyRegistry*> key_registry{nullptr};
  controld::UsageIntake::Options intake_options;
  intake_options.tick = [&key_registry](store::UsageStore& st) -> absl::Status {
    if (controld::KeyRegistry* k = key_registry.load()) return k->Tick(st);
    return absl::OkStatus();
  };
  intake_options.on_committed = [&key_registry](const std::vector<store::UsageRecord>& rows) {
    if (controld::KeyRegistry* k = key_registry.load()) k->OnCommitted(rows);
  };
  intake_options.retention = std::chrono::seconds(cfg.database.retention_s);
  // Store writes in /metrics, once the node region exists (set below).
  std::atomic<node::DaemonMetrics*> store_metrics{nullptr};
  intake_options.on_write = [&store_metrics](bool ok, int64_t rows, int64_t latency_us) {
    if (node::DaemonMetrics* m = store_metrics.load()) m->StoreWrite(ok, rows, latency_us);
  };
  controld::UsageIntake intake(std::move(*store), std::move(intake_options));

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  intake.Start();  // after the mask: only the main thread takes signals

  auto listener = controld::BindListener(cfg.server.listen);
  if (!listener.ok()) {
    LOG_ERROR(listener.status().message());
    return 1;
  }
  controld::SnapshotHub hub;
  controld::RouteRegistry routes(&hub, listener->address);
  std::atomic<uint32_t> desired_workers{0};
  controld::KeyRegistry keys(&routes, key_table.get(), controld::NewNodeId());
  keys.SetIntake(&intake);
  // Every key before the first snapshot, so no worker ever serves without them.
  if (absl::Status s = intake.Run([&keys](store::UsageStore& st) { return keys.Tick(st); });
      !s.ok()) {
    LOG_ERROR("virtual keys: ", s.message());
    return 1;
  }
  key_registry = &keys;
  std::mutex listener_mu;
  std::optional<controld::BoundListener> pending_listener;
  controld::Reloader reloader(
      *paths, {listen_flag, workers_flag, log_level}, &routes,
      {.workers_changed = [&](uint32_t n) { desired_workers = pool_size(n); },
       .listener_changed =
           [&](controld::BoundListener l) {
             std::lock_guard<std::mutex> lock(listener_mu);
             if (pending_listener) close(pending_listener->fd);
             pending_listener = l;
           }});
  pid_t self = getpid();
  std::atomic<bool> force_stop{false};
  controld::ControlServer control(&hub, &routes, &reloader, [self, &force_stop](bool force) {
    if (force) force_stop = true;
    kill(self, SIGTERM);
  });
  control.SetUsageIntake(&intake);
  control.SetKeyRegistry(&keys);
  if (absl::Status s = control.Start(paths->control_socket); !s.ok()) {
    LOG_ERROR(s.message());
    return 1;
  }
  control.SetInfo({self, std::time(nullptr), paths->home, cfg.source, listener->address,
                   db_url.empty() ? paths->home + "/bitrouter.db" : store::RedactedUrl(db_url)});
  // The stdio MCP servers: one host process per node, whatever the workers.
  const std::string mcp_host_socket = paths->run_dir + "/mcp-host.sock";
  controld::McpHostSupervisor mcp_host(
      {McpHostBinary(), mcp_host_socket, cfg.server.log_level, log_file});
  routes.SetMcpHostSocket(mcp_host_socket);
  control.SetStdioStatus([&mcp_host] { return mcp_host.Status(); });
  auto snap = routes.SetConfig(std::make_shared<const config::Config>(cfg));
  std::shared_ptr<const config::Config> mcp_config = routes.config();
  mcp_host.SetServers(controld::StdioServersOf(*mcp_config));

  desired_workers = workers;
  // bitrouterd's own metrics (the usage store's writes): its slot of the
  // region's metrics table, or a private one without a region.
  node::DaemonMetrics daemon_metrics(node_shm.get());
  store_metrics = &daemon_metrics;
  controld::Supervisor supervisor(
      &hub, {WorkerBinary(), paths->control_socket, listener->fd, cfg.server.log_level, log_file,
             node_shm.get(), [&mcp_host](pid_t pid, int status) {
               if (!mcp_host.OnExit(pid, status)) {
                 LOG_WARN("reaped unknown child pid ", pid, ": ", controld::DescribeExit(status));
               }
             }});
  supervisor.Resize(workers);
  (void)controld::WriteFileAtomic(paths->pid_file, absl::StrCat(self, "\n"), 0644);
  (void)controld::WriteFileAtomic(paths->listen_addr_file, listener->address + "\n", 0644);

  size_t active = 0;
  for (const auto& [name, p] : cfg.providers) active += p.active;
  LOG_INFO("listening on http://", listener->address, " with ", workers, " worker(s); ", active,
           " active provider(s); snapshot v", snap->version(), "; home ", paths->home);
  if (active == 0) {
    LOG_WARN("no provider is active: set OPENAI_API_KEY (or another provider key) and restart");
  }

  int exit_code = 0;
  while (true) {
    timespec tick{0, 100'000'000};
    int sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      LOG_INFO("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ": draining workers");
      break;
    }
    if (sig == SIGCHLD) supervisor.Reap();
    if (!log_file.empty()) {
      constexpr uint64_t kRotateBytes = 64ull << 20;
      bool rotate = log::StderrSize() > kRotateBytes;
      if (sig == SIGUSR1 || rotate) {
        absl::Status s = rotate ? log::RotateStderr(log_file, 5) : log::ReopenStderr(log_file);
        if (!s.ok()) LOG_ERROR(s.message());
        supervisor.SignalAll(SIGUSR1);  // the workers reopen it too
        if (mcp_host.pid() != 0) kill(mcp_host.pid(), SIGUSR1);
        LOG_INFO(rotate ? "log rotated" : "log reopened (SIGUSR1)");
      }
    } else if (sig == SIGUSR1) {
      LOG_INFO("SIGUSR1: no --log-file, nothing to reopen");
    }
    if (sig == SIGHUP) {
      // Off the main thread, never waited for here: supervision (reaping,
      // respawning a worker the reload waits on) keeps running meanwhile.
      LOG_INFO("SIGHUP: reloading");
      reloader.ReloadInBackground();
    }
    supervisor.Reap();
    {
      std::lock_guard<std::mutex> lock(listener_mu);
      if (pending_listener) {
        // Open new, then drain old: the new generation starts on the new
        // socket, the old one retires once the new one serves. Our copy of
        // the old socket closes now; old workers hold theirs until they exit.
        int old_fd = listener->fd;
        *listener = *pending_listener;
        pending_listener.reset();
        supervisor.SwitchListener(listener->fd);
        close(old_fd);
        (void)controld::WriteFileAtomic(paths->listen_addr_file, listener->address + "\n", 0644);
        controld::DaemonInfo info = control.Info();
        info.listen = listener->address;
        control.SetInfo(info);
        LOG_INFO("listening on http://", listener->address, "; the previous listener drains");
      }
    }
    if (uint32_t want = desired_workers.load(); want != workers) {
      LOG_INFO("server.workers changed: ", workers, " -> ", want);
      workers = want;
      supervisor.Resize(workers);
    }
    supervisor.Tick();
    // A reload installed another config: the host gets the new stdio set
    // (it restarts only the servers that changed).
    if (auto current = routes.config(); current != nullptr && current != mcp_config) {
      mcp_config = current;
      mcp_host.SetServers(controld::StdioServersOf(*mcp_config));
    }
    mcp_host.Tick();
    controld::IntakeStats store_stats = intake.stats();
    daemon_metrics.StoreHealth(store_stats.store_ok, store_stats.queued_records);
  }
  reloader.JoinBackground();
  close(listener->fd);  // workers hold their own copies
  // Forced: no drain, the workers are killed at once.
  // The drain timeout of the config now serving (a reload may have changed it).
  uint32_t drain_ms = routes.config() != nullptr ? routes.config()->server.drain_timeout_ms
                                                 : cfg.server.drain_timeout_ms;
  supervisor.StopAll(force_stop ? std::chrono::milliseconds(0)
                                : std::chrono::milliseconds(drain_ms + 5'000));
  // After the workers: their last MCP calls were answered. The host closes
  // each child's stdin, then SIGTERM, then SIGKILL (4 s at most).
  mcp_host.Stop(force_stop ? std::chrono::milliseconds(0) : std::chrono::milliseconds(6'000));
  control.Shutdown();
  key_registry = nullptr;
  // This node's share of every budget goes back to the others.
  (void)intake.Run([&keys](store::UsageStore& st) {
    keys.Release(st);
    return absl::OkStatus();
  });
  intake.Stop();  // writes what the workers sent last
  store_metrics = nullptr;
  controld::RemoveRunFiles(*paths);
  LOG_INFO("stopped");
  return exit_code;
}
