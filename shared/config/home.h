#pragma once
// Home directory resolution and layout (REFERENCE §4):
//   --home-dir > ./bitrouter.yaml exists > $BITROUTER_HOME (existing dir) > ~/.bitrouter

#include <string>

#include "absl/status/statusor.h"

namespace bitrouter::config {

struct HomePaths {
  std::string home;
  std::string config_file;       // <home>/bitrouter.yaml (may not exist)
  std::string env_file;          // <home>/.env
  std::string run_dir;           // <home>/run
  std::string control_socket;    // <home>/run/control.sock
  std::string pid_file;          // <home>/run/bitrouterd.pid
  std::string listen_addr_file;  // <home>/run/listen.addr
  std::string logs_dir;          // <home>/logs
  std::string how;               // which rule chose the home, for status
};

// Resolves the home without touching the filesystem beyond stat().
absl::StatusOr<HomePaths> ResolveHome(const std::string& flag_home_dir);

// The manual's path flags (--config-file, --env-file, --run-dir, --logs-dir):
// each replaces its default under <home>; "" keeps it. Relative paths are
// taken from the current directory.
struct PathOverrides {
  std::string config_file;
  std::string env_file;
  std::string run_dir;  // also moves control.sock, the pid, lock and listen.addr files
  std::string logs_dir;
};
void ApplyPathOverrides(const PathOverrides& overrides, HomePaths* paths);

// Applies server.control.socket: absolute as given, relative under <home>/run/.
void ApplyControlSocket(const std::string& configured, HomePaths* paths);

// Creates <home>, run/ (0700) and logs/ if missing.
absl::Status EnsureHomeLayout(const HomePaths& paths);

}  // namespace bitrouter::config
