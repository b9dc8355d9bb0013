// bitrouter: the original CLI's front (what the OpenClaw plugin and the
// manual run). A thin layer: `serve` becomes bitrouterd in the foreground,
// and every other command talks to the running daemon over its control
// socket, as bitrouterctl does, with the same home-directory rules. It never
// talks to workers.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "ctl/client.h"
#include "ctl/v0_commands.h"
#include "shared/config/env.h"
#include "shared/config/home.h"
#include "shared/config/loader.h"
#include "shared/config/path_flags.h"

namespace {

// Commands of the original CLI that this version does not have yet: an
// explicit error rather than CLI11's "unexpected argument".
constexpr const char* kLater[][2] = {
    {"keygen",
     "signed tokens are not supported yet; issue a virtual key with `bitrouterctl key create`"},
    {"account",
     "accounts are not supported yet; issue a virtual key with `bitrouterctl key create`"},
    {"keys", "signed tokens are not supported yet; list virtual keys with `bitrouterctl key list`"},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bitrouter - the BitRouter command line (the original CLI's commands).\n"
      "`serve` runs the daemon in the foreground; the other commands talk to the running\n"
      "daemon over <home>/run/control.sock. The home is --home-dir, else ./ if it has\n"
      "bitrouter.yaml, else $BITROUTER_HOME, else ~/.bitrouter. bitrouterctl has the full set\n"
      "of administration commands.",
      "bitrouter"};
  app.set_version_flag("--version", std::string("bitrouter ") + BITROUTER_VERSION);
  app.require_subcommand(1);
  std::string home_flag, db_flag;
  bool json = false;
  bitrouter::config::PathOverrides overrides;
  app.add_option("--home-dir", home_flag, "Home directory");
  bitrouter::config::AddPathFlags(app, &overrides);
  app.add_option("--db", db_flag, "Usage database URL (default <home>/bitrouter.db)");
  app.add_flag("--json", json, "Machine-readable output where a command has one");

  std::string listen;
  uint32_t workers = 0;
  auto add_daemon_options = [&](CLI::App* cmd) {
    cmd->add_option("--listen", listen, "HTTP listen address host:port (overrides server.listen)");
    cmd->add_option("--workers", workers, "Worker processes (overrides server.workers)");
  };
  auto* serve = app.add_subcommand(
      "serve", "Run the daemon in the foreground (SIGTERM or Ctrl-C drains and exits 0)");
  add_daemon_options(serve);
  auto* start = app.add_subcommand("start", "Start the daemon in the background");
  add_daemon_options(start);
  auto* stop = app.add_subcommand("stop", "Drain and stop the daemon");
  auto* restart = app.add_subcommand("restart", "stop (draining) then start");
  add_daemon_options(restart);
  auto* status =
      app.add_subcommand("status", "Daemon, home, config, listen address, providers, models");
  auto* reload = app.add_subcommand("reload", "Re-read bitrouter.yaml and .env (like SIGHUP)");
  bool force = false;
  auto* init = app.add_subcommand("init", "Write a starter <home>/bitrouter.yaml");
  init->add_flag("--force", force, "Overwrite an existing bitrouter.yaml");

  auto* route = app.add_subcommand(
      "route", "route <model>: how a model name resolves; route list|add|rm: runtime routes");
  route->require_subcommand(0, 1);
  std::string trace_model;
  route->add_option("model", trace_model, "Model name as a client would send it");
  auto* route_list = route->add_subcommand("list", "List routes (runtime ones shadow config ones)");
  std::string route_name, strategy = "priority";
  std::vector<std::string> targets;
  auto* route_add = route->add_subcommand(
      "add", "Add or replace a runtime route: NAME provider:model [provider:model ...]");
  route_add->add_option("name", route_name, "Route name clients use as `model`")->required();
  route_add->add_option("targets", targets, "Endpoints as provider:model_id, in priority order")
      ->required();
  route_add->add_option("--strategy", strategy, "priority (default) or load_balance")
      ->check(CLI::IsMember({"priority", "load_balance"}));
  auto* route_rm = route->add_subcommand("rm", "Remove a runtime route");
  route_rm->add_option("name", route_name, "Route name")->required();

  std::vector<CLI::App*> later;
  for (const auto& entry : kLater) {
    CLI::App* cmd = app.add_subcommand(entry[0], entry[1]);
    cmd->allow_extras();
    later.push_back(cmd);
  }
  CLI11_PARSE(app, argc, argv);

  for (size_t i = 0; i < later.size(); ++i) {
    if (later[i]->parsed()) {
      std::fprintf(stderr, "bitrouter %s: %s\n", kLater[i][0], kLater[i][1]);
      return 2;
    }
  }
  auto paths = bitrouter::config::ResolveHome(home_flag);
  if (!paths.ok()) {
    std::fprintf(stderr, "bitrouter: %s\n", std::string(paths.status().message()).c_str());
    return 2;
  }
  bitrouter::config::ApplyPathOverrides(overrides, &*paths);
  // bitrouterd gets the same files: the resolved home and every path flag.
  std::vector<std::string> daemon_args = {"--home-dir", paths->home};
  auto pass = [&](const char* flag, const std::string& value) {
    if (!value.empty()) daemon_args.insert(daemon_args.end(), {flag, value});
  };
  pass("--config-file", overrides.config_file.empty() ? "" : paths->config_file);
  pass("--env-file", overrides.env_file.empty() ? "" : paths->env_file);
  pass("--run-dir", overrides.run_dir.empty() ? "" : paths->run_dir);
  pass("--logs-dir", overrides.logs_dir.empty() ? "" : paths->logs_dir);
  pass("--db", db_flag);
  pass("--listen", listen);
  if (workers != 0) pass("--workers", std::to_string(workers));
  if (serve->parsed()) return bitrouter::ctl::RunServe(daemon_args);

  if (auto env = bitrouter::config::LoadEnvironment(paths->env_file); env.ok()) {
    if (auto cfg = bitrouter::config::LoadConfigFile(paths->config_file, *env); cfg.ok()) {
      bitrouter::config::ApplyControlSocket(cfg->server.control_socket, &*paths);
    }
  }
  bitrouter::ctl::Context ctx{*paths, json};
  // RunStart adds --home-dir itself.
  std::vector<std::string> start_args(daemon_args.begin() + 2, daemon_args.end());
  constexpr int kStartWaitSeconds = 15;
  constexpr int kStopWaitSeconds = 60;
  if (start->parsed()) return bitrouter::ctl::RunStart(ctx, start_args, kStartWaitSeconds);
  if (stop->parsed()) return bitrouter::ctl::RunStop(ctx, kStopWaitSeconds, false);
  if (restart->parsed()) {
    struct stat st;
    if (::stat(ctx.paths.control_socket.c_str(), &st) == 0) {
      int rc = bitrouter::ctl::RunStop(ctx, kStopWaitSeconds, false);
      if (rc != 0 && rc != 3) return rc;
    }
    return bitrouter::ctl::RunStart(ctx, start_args, kStartWaitSeconds);
  }
  if (status->parsed()) {
    return json ? bitrouter::ctl::RunStatus(ctx) : bitrouter::ctl::RunV0Status(ctx);
  }
  if (reload->parsed()) return bitrouter::ctl::RunReload(ctx);
  if (init->parsed()) return bitrouter::ctl::RunInit(ctx, force);
  if (route_list->parsed()) return bitrouter::ctl::RunRouteList(ctx);
  if (route_add->parsed()) return bitrouter::ctl::RunRouteAdd(ctx, route_name, targets, strategy);
  if (route_rm->parsed()) return bitrouter::ctl::RunRouteRemove(ctx, route_name);
  if (route->parsed()) {
    if (trace_model.empty()) return bitrouter::ctl::RunRouteList(ctx);
    return bitrouter::ctl::RunRouteTrace(ctx, trace_model);
  }
  return 2;
}
