// bitrouterctl: the command-line client of bitrouterd's control socket.
// It never talks to workers.

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "ctl/client.h"
#include "shared/config/env.h"
#include "shared/config/home.h"
#include "shared/config/loader.h"

int main(int argc, char** argv) {
  CLI::App app{
      "bitrouterctl - control a running bitrouterd over <home>/run/control.sock.\n"
      "The home is --home-dir, else ./ if it has bitrouter.yaml, else $BITROUTER_HOME,\n"
      "else ~/.bitrouter (the same rules as bitrouterd). Exit codes: 0 ok, 1 failed,\n"
      "2 usage, 3 bitrouterd not running, 4 model does not resolve (route trace).",
      "bitrouterctl"};
  app.require_subcommand(1);
  std::string home_flag;
  bool json = false;
  app.add_option("--home-dir", home_flag, "Home directory of the bitrouterd to control");
  app.add_flag("--json", json, "Machine-readable output");
  auto* status = app.add_subcommand(
      "status", "Show pid, uptime, home, listen address, providers (and why inactive), workers");
  status->add_flag("--json", json, "Machine-readable output");
  int wait_seconds = 60;
  bool force_stop = false;
  auto* stop = app.add_subcommand(
      "stop", "Drain in-flight requests and streams, then stop bitrouterd and its workers");
  stop->add_option("--wait", wait_seconds, "Seconds to wait for the drain to finish (default 60)");
  stop->add_flag("--force", force_stop,
                 "Do not drain: kill the workers now (in-flight requests fail)");
  std::vector<std::string> daemon_args;
  std::string start_listen;
  uint32_t start_workers = 0;
  int start_wait = 15;
  auto add_start_options = [&](CLI::App* cmd) {
    cmd->add_option("--listen", start_listen,
                    "HTTP listen address host:port (overrides server.listen)");
    cmd->add_option("--workers", start_workers, "Worker processes (overrides server.workers)");
    cmd->add_option("--start-timeout", start_wait, "Seconds to wait for /health (default 15)");
    cmd->add_flag("--json", json, "Machine-readable output");
  };
  auto* start = app.add_subcommand(
      "start",
      "Start bitrouterd in the background for this home (logs in <home>/logs/bitrouterd.log,\n"
      "rotated at 64 MiB or on SIGUSR1) and return once it answers /health. Refuses if one is\n"
      "already running in this home.");
  add_start_options(start);
  auto* restart = app.add_subcommand("restart", "stop (draining) then start");
  add_start_options(restart);
  auto* reload = app.add_subcommand(
      "reload",
      "Re-read bitrouter.yaml and .env (same as SIGHUP); returns once every worker serves the\n"
      "new config. An invalid config is rejected (file:line: field: why, exit 1) and the\n"
      "running one keeps serving. Runtime routes survive.");
  reload->add_flag("--json", json, "Machine-readable output");
  auto* route = app.add_subcommand("route", "Runtime routes: list, add, rm, trace");
  route->require_subcommand(1);
  auto* route_list =
      route->add_subcommand("list", "List routes (runtime routes shadow config routes)");
  route_list->add_flag("--json", json, "Machine-readable output");
  std::string route_name, strategy = "priority";
  std::vector<std::string> targets;
  auto* route_add = route->add_subcommand(
      "add",
      "Add or replace a runtime route: NAME provider:model [provider:model ...]. It shadows a\n"
      "config route of the same name, survives reload, and is gone after a restart. Returns\n"
      "once every worker serves it.");
  route_add->add_option("name", route_name, "Route name clients use as `model`")->required();
  route_add->add_option("targets", targets, "Endpoints as provider:model_id, in priority order")
      ->required();
  route_add->add_option("--strategy", strategy, "priority (default) or load_balance")
      ->check(CLI::IsMember({"priority", "load_balance"}));
  route_add->add_flag("--json", json, "Machine-readable output");
  auto* route_rm = route->add_subcommand("rm", "Remove a runtime route");
  route_rm->add_option("name", route_name, "Route name")->required();
  route_rm->add_flag("--json", json, "Machine-readable output");
  std::string trace_model;
  auto* route_trace = route->add_subcommand(
      "trace", "Show how a model name resolves: source, strategy, endpoints, and what is skipped");
  route_trace->add_option("model", trace_model, "Model name as a client would send it")->required();
  route_trace->add_flag("--json", json, "Machine-readable output");
  bool force = false;
  auto* init = app.add_subcommand(
      "init",
      "Write a commented starter <home>/bitrouter.yaml: loopback listen, the providers whose\n"
      "keys are in the environment (as ${VAR} placeholders, never literal keys), and one\n"
      "example virtual model");
  init->add_flag("--force", force, "Overwrite an existing bitrouter.yaml");
  auto* config = app.add_subcommand("config", "Configuration tools");
  config->require_subcommand(1);
  std::string validate_file;
  auto* validate = config->add_subcommand(
      "validate",
      "Run the real loader on FILE (default <home>/bitrouter.yaml, with <home>/.env) and print\n"
      "the errors (file:line: field: why; exit 1) or the effective config with secrets redacted");
  validate->add_option("file", validate_file, "Config file to check");
  bitrouter::ctl::UsageOptions usage_options;
  auto* usage = app.add_subcommand(
      "usage",
      "Requests, error rate, tokens by kind, cost and p50/p99 latency and TTFB from the usage\n"
      "store, over the last 24 h unless --since or --from/--to say otherwise");
  // Checked by the command (exit 2 with a reason), not by CLI11.
  usage->add_option("--since", usage_options.since,
                    "Window back from now: 30m, 1h, 7d, 2w (not with --from/--to)");
  usage->add_option("--from", usage_options.from,
                    "Window start (inclusive): RFC 3339 (2025-06-01T12:00:00Z), a date\n"
                    "(2025-06-01, UTC) or Unix seconds; --from 0 = everything stored");
  usage->add_option("--to", usage_options.to,
                    "Window end (exclusive), same forms; default now (--to alone: the 24 h "
                    "before it)");
  usage->add_option("--by", usage_options.by,
                    "One row per key, model, provider or endpoint (provider:upstream model),\n"
                    "most requests first");
  usage->add_flag("--json", json, "Machine-readable output");
  bitrouter::ctl::RequestsOptions requests_options;
  auto* requests = app.add_subcommand(
      "requests", "The newest usage records, newest first; --tail then follows new ones");
  requests->add_flag("--tail", requests_options.tail,
                     "Print the newest (oldest first), then follow new records until Ctrl-C");
  requests->add_option("--limit", requests_options.limit, "How many records, 1..2000 (default 20)");
  requests->add_option("--model", requests_options.model, "Only this model name as asked");
  requests->add_option("--status", requests_options.status,
                       "Only this final status: a code (429), a class (5xx) or error (not 2xx)");
  requests->add_flag("--json", json,
                     "Full records with their attempts ({\"records\":[...]}; with --tail one\n"
                     "JSON object per line)");
  requests->add_option("--key", requests_options.key, "Only this key (its id, key_...)");
  // Virtual keys.
  auto* key = app.add_subcommand("key", "Virtual keys: create, list, show, update, revoke");
  key->require_subcommand(1);
  bitrouter::ctl::KeyOptions key_options;
  std::string key_ref;
  std::vector<std::string> key_clear;
  std::optional<double> key_budget;
  std::optional<uint64_t> key_rpm, key_tpm;
  auto add_limits = [&](CLI::App* c) {
    c->add_option("--models", key_options.models,
                  "Scope: comma-separated patterns, e.g. 'openai:*,anthropic:claude-*' "
                  "(provider:model or model, '*' wildcard); default every model");
    c->add_option("--mcp", key_options.mcp,
                  "MCP scope: comma-separated server, server:tool-glob (the server's own tool "
                  "names) or virtual:tool-glob (virtual tools), e.g. 'github,fs:read_*'; "
                  "default every MCP server and tool");
    c->add_option("--budget-usd", key_budget, "Spending cap in USD (catalog prices)");
    c->add_option("--budget-period", key_options.budget_period,
                  "total (default), day or month (UTC)")
        ->check(CLI::IsMember({"total", "day", "month"}));
    c->add_option("--rpm", key_rpm, "Requests per minute, for the whole node");
    c->add_option("--tpm", key_tpm, "Tokens per minute, for the whole node");
    c->add_option("--expires", key_options.expires, "Valid for this long: 12h, 30d, 2w");
    c->add_flag("--json", json, "Machine-readable output");
  };
  auto* key_create = key->add_subcommand("create", "Issue a key; its secret is printed once");
  key_create->add_option("--name", key_options.name, "A unique name (agent, user)")->required();
  add_limits(key_create);
  auto* key_list = key->add_subcommand("list", "Every key (revoked ones included)");
  key_list->add_flag("--json", json, "Machine-readable output");
  auto* key_show = key->add_subcommand("show", "One key: scope, limits, budget, spend");
  key_show->add_option("key", key_ref, "Its id (key_...) or name")->required();
  key_show->add_flag("--json", json, "Machine-readable output");
  auto* key_update = key->add_subcommand("update", "Change a key (enforced within 100 ms)");
  key_update->add_option("key", key_ref, "Its id (key_...) or name")->required();
  key_update->add_option("--name", key_options.name, "A new name");
  add_limits(key_update);
  key_update
      ->add_option("--clear", key_clear,
                   "Remove limits: budget, rpm, tpm, expires, models, mcp (comma-separated)")
      ->delimiter(',');
  auto* key_revoke = key->add_subcommand("revoke", "Revoke a key (enforced within 100 ms)");
  key_revoke->add_option("key", key_ref, "Its id (key_...) or name")->required();
  key_revoke->add_flag("--json", json, "Machine-readable output");
  // MCP servers, as the gateway serves them.
  auto* mcp = app.add_subcommand("mcp", "MCP servers: servers, tools");
  mcp->require_subcommand(1);
  auto* mcp_servers = mcp->add_subcommand(
      "servers", "Each configured MCP server: transport, status, tool count, last error");
  mcp_servers->add_flag("--json", json, "Machine-readable output");
  std::string mcp_server;
  auto* mcp_tools = mcp->add_subcommand("tools", "The tools each server (or one) serves");
  mcp_tools->add_option("server", mcp_server, "Only this server (its id)");
  mcp_tools->add_flag("--json", json, "Machine-readable output");
  CLI11_PARSE(app, argc, argv);
  key_options.budget_usd = key_budget;
  key_options.rpm = key_rpm;
  key_options.tpm = key_tpm;
  for (CLI::App* c : {key_create, key_update}) {
    if (c->parsed() && c->count("--models") > 0) key_options.models_set = true;
    if (c->parsed() && c->count("--mcp") > 0) key_options.mcp_set = true;
  }

  auto paths = bitrouter::config::ResolveHome(home_flag);
  if (!paths.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(paths.status().message()).c_str());
    return 2;
  }
  // Find the control socket the way bitrouterd does (server.control.socket).
  // A config that does not load leaves the default; `config validate` says why.
  if (auto env = bitrouter::config::LoadEnvironment(paths->env_file); env.ok()) {
    if (auto cfg = bitrouter::config::LoadConfigFile(paths->config_file, *env); cfg.ok()) {
      bitrouter::config::ApplyControlSocket(cfg->server.control_socket, &*paths);
    }
  }
  bitrouter::ctl::Context ctx{*paths, json};
  if (status->parsed()) return bitrouter::ctl::RunStatus(ctx);
  if (stop->parsed()) return bitrouter::ctl::RunStop(ctx, wait_seconds, force_stop);
  if (!start_listen.empty()) daemon_args.insert(daemon_args.end(), {"--listen", start_listen});
  if (start_workers != 0)
    daemon_args.insert(daemon_args.end(), {"--workers", std::to_string(start_workers)});
  if (start->parsed()) return bitrouter::ctl::RunStart(ctx, daemon_args, start_wait);
  if (restart->parsed()) {
    struct stat st;
    if (::stat(ctx.paths.control_socket.c_str(), &st) == 0) {
      if (int rc = bitrouter::ctl::RunStop(ctx, wait_seconds, false); rc != 0 && rc != 3) return rc;
    }
    return bitrouter::ctl::RunStart(ctx, daemon_args, start_wait);
  }
  if (reload->parsed()) return bitrouter::ctl::RunReload(ctx);
  if (init->parsed()) return bitrouter::ctl::RunInit(ctx, force);
  if (validate->parsed()) return bitrouter::ctl::RunConfigValidate(ctx, validate_file);
  if (route_list->parsed()) return bitrouter::ctl::RunRouteList(ctx);
  if (route_add->parsed()) return bitrouter::ctl::RunRouteAdd(ctx, route_name, targets, strategy);
  if (route_rm->parsed()) return bitrouter::ctl::RunRouteRemove(ctx, route_name);
  if (route_trace->parsed()) return bitrouter::ctl::RunRouteTrace(ctx, trace_model);
  if (usage->parsed()) return bitrouter::ctl::RunUsage(ctx, usage_options);
  if (requests->parsed()) return bitrouter::ctl::RunRequests(ctx, requests_options);
  if (key_create->parsed()) return bitrouter::ctl::RunKeyCreate(ctx, key_options);
  if (key_list->parsed()) return bitrouter::ctl::RunKeyList(ctx);
  if (key_show->parsed()) return bitrouter::ctl::RunKeyShow(ctx, key_ref);
  if (key_update->parsed())
    return bitrouter::ctl::RunKeyUpdate(ctx, key_ref, key_options, key_clear);
  if (key_revoke->parsed()) return bitrouter::ctl::RunKeyRevoke(ctx, key_ref);
  if (mcp_servers->parsed()) return bitrouter::ctl::RunMcpServers(ctx);
  if (mcp_tools->parsed()) return bitrouter::ctl::RunMcpTools(ctx, mcp_server);
  return 2;
}
