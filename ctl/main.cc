// bitrouterctl: the command-line client of bitrouterd's control socket.
// It never talks to workers.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "ctl/client.h"
#include "shared/config/home.h"

int main(int argc, char** argv) {
  CLI::App app{
      "bitrouterctl - control a running bitrouterd over <home>/run/control.sock.\n"
      "The home is --home-dir, else ./ if it has bitrouter.yaml, else $BITROUTER_HOME,\n"
      "else ~/.bitrouter (the same rules as bitrouterd). Exit codes: 0 ok, 1 failed,\n"
      "2 usage, 3 bitrouterd not running.",
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
  auto* stop = app.add_subcommand(
      "stop", "Drain in-flight requests and streams, then stop bitrouterd and its workers");
  stop->add_option("--wait", wait_seconds, "Seconds to wait for the drain to finish (default 60)");
  CLI11_PARSE(app, argc, argv);

  auto paths = bitrouter::config::ResolveHome(home_flag);
  if (!paths.ok()) {
    std::fprintf(stderr, "bitrouterctl: %s\n", std::string(paths.status().message()).c_str());
    return 2;
  }
  bitrouter::ctl::Context ctx{*paths, json};
  if (status->parsed()) return bitrouter::ctl::RunStatus(ctx);
  if (stop->parsed()) return bitrouter::ctl::RunStop(ctx, wait_seconds);
  return 2;
}
