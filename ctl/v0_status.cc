// `bitrouter status`: the original CLI's line format (v0.17), which the
// OpenClaw plugin shows its agents verbatim:
//   daemon:    running (pid N) | stopped
//   home:      config:    runtime:    listen:
//   providers: a, b      (only when there is one)
//   models:    x, y      (only when there is one)
// A running daemon answers for itself (its listen address, its active
// providers, its routes, runtime ones included); a stopped one is described
// from the configuration it would load.
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "ctl/client.h"
#include "ctl/v0_commands.h"
#include "shared/config/env.h"
#include "shared/config/loader.h"

namespace bitrouter::ctl {
namespace {

void Line(const char* label, const std::string& value) {
  std::printf("%-11s%s\n", label, value.c_str());
}

struct View {
  std::string daemon = "stopped";
  std::string listen;
  std::vector<std::string> providers;
  std::set<std::string> models;
};

// What the running daemon says; false when it cannot be asked.
bool AskDaemon(const Context& ctx, pid_t pid, View* view) {
  auto channel = ConnectControl(ctx);
  if (!channel.ok()) return false;
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext rpc;
  rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::StatusResponse status;
  if (!stub->Status(&rpc, v1::StatusRequest(), &status).ok()) return false;
  view->daemon = "running (pid " + std::to_string(pid > 0 ? pid : status.pid()) + ")";
  view->listen = status.listen();
  for (const auto& p : status.providers()) {
    if (p.active()) view->providers.push_back(p.name());
  }
  grpc::ClientContext routes_rpc;
  routes_rpc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListRoutesResponse routes;
  if (stub->ListRoutes(&routes_rpc, v1::ListRoutesRequest(), &routes).ok()) {
    for (const auto& r : routes.routes()) view->models.insert(r.name());
  }
  return true;
}

// What the configuration on disk says (the daemon is stopped).
void ReadConfig(const Context& ctx, View* view) {
  auto env = config::LoadEnvironment(ctx.paths.env_file);
  if (!env.ok()) return;
  auto cfg = config::LoadConfigFile(ctx.paths.config_file, *env);
  if (!cfg.ok()) {
    std::fprintf(stderr, "bitrouter: %s\n", std::string(cfg.status().message()).c_str());
    return;
  }
  view->listen = cfg->server.listen;
  for (const auto& [name, p] : cfg->providers) {
    if (p.active) view->providers.push_back(name);
  }
  for (const auto& [name, m] : cfg->models) view->models.insert(name);
}

}  // namespace

int RunV0Status(const Context& ctx) {
  View view;
  pid_t pid = RunningDaemonPid(ctx);
  if (pid <= 0 || !AskDaemon(ctx, pid, &view)) {
    view = View();
    ReadConfig(ctx, &view);
  }
  Line("daemon:", view.daemon);
  Line("home:", ctx.paths.home);
  Line("config:", ctx.paths.config_file);
  Line("runtime:", ctx.paths.run_dir);
  Line("listen:", view.listen);
  if (!view.providers.empty()) Line("providers:", absl::StrJoin(view.providers, ", "));
  if (!view.models.empty()) Line("models:", absl::StrJoin(view.models, ", "));
  return 0;
}

}  // namespace bitrouter::ctl
