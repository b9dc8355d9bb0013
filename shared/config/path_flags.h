#pragma once
// The manual's global path flags, shared by bitrouterd, bitrouterctl and the
// `bitrouter` front so that all three find the same files.

#include <CLI/CLI.hpp>
#include <string>

#include "shared/config/home.h"

namespace bitrouter::config {

inline void AddPathFlags(CLI::App& app, PathOverrides* overrides) {
  app.add_option("--config-file", overrides->config_file,
                 "Configuration file (default <home>/bitrouter.yaml)");
  app.add_option("--env-file", overrides->env_file, "Environment file (default <home>/.env)");
  app.add_option("--run-dir", overrides->run_dir,
                 "Runtime directory: control socket, pid, lock and listen.addr files "
                 "(default <home>/run)");
  app.add_option("--logs-dir", overrides->logs_dir, "Log directory (default <home>/logs)");
}

}  // namespace bitrouter::config
