#pragma once
// A throwaway PostgreSQL server for tests: initdb into a fresh temp
// directory, then `postgres` listening only on a Unix socket in that
// directory (no TCP port, so nothing collides with other processes), fsync
// off. Uses the Debian packages (/usr/lib/postgresql/<version>/bin); the
// newest version installed wins.
//
// PostgreSQL refuses to run as root, and CI runs as root: then the directory
// is handed to the `postgres` user and initdb/postgres run as that user
// (fork, setgid/setuid, exec). The directory is mode 0777 so the test
// process, whoever it is, reaches the socket; authentication is `trust`.
//
// Every wait is bounded (start 30 s, stop 30 s then SIGKILL). Missing
// binaries are an error naming deploy/install-deps.sh: tests fail, not skip.
//
// Thread: not thread-safe; one test thread drives it.

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bitrouter::testing {

class PgServer {
 public:
  static absl::StatusOr<std::unique_ptr<PgServer>> Start();
  ~PgServer();  // Stop(), then the directory is removed

  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A libpq URI for `database` (as PgStore and bitrouterd's --db take it):
  // postgresql://postgres@/<database>?host=<dir>&port=<port>.
  std::string url(std::string_view database = "postgres") const;
  // CREATE DATABASE `name` (letters, digits, '_'); returns url(name).
  absl::StatusOr<std::string> CreateDatabase(std::string_view name);

  // Fast shutdown (SIGINT: clients are disconnected), waits for exit.
  absl::Status Stop();
  // Starts again on the same data and socket: an outage, then recovery.
  absl::Status StartAgain();

  const std::string& dir() const { return dir_; }
  int port() const { return port_; }

 private:
  PgServer() = default;
  absl::Status InitDb();
  absl::Status Launch();
  // Runs argv as the server's user with stdout/stderr appended to the log;
  // returns the pid.
  absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv);
  std::string LogTail() const;

  std::string bin_dir_;
  std::string dir_;  // socket directory; data in dir_/data, log in dir_/log
  int port_ = 0;
  bool as_postgres_ = false;  // running as root: drop to the postgres user
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bitrouter::testing
