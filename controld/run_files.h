#pragma once
// <home>/run bookkeeping: the home lock and pid file (one bitrouterd per
// home), the control socket path, the actual listen address for scripts and
// tests, stale-file cleanup.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shared/config/home.h"

namespace bitrouter::controld {

// Takes an exclusive flock on <home>/run/bitrouterd.lock and returns its fd,
// which stays open (close-on-exec: workers do not hold it) for the life of
// the process. The kernel drops the lock when the process dies, so a crash
// never leaves the home claimed. Fails if another bitrouterd holds it: two
// started at the same instant cannot both pass, unlike the pid file check.
absl::StatusOr<int> LockHome(const config::HomePaths& paths);
// Fails if a live bitrouterd owns this home; removes stale pid/socket files.
absl::Status ClaimHome(const config::HomePaths& paths);
// Makes `path` free for the control socket: nothing there, or a stale
// socket (removed). Refuses a path that is not a socket (it would be
// deleted) and a socket another process still serves.
absl::Status PrepareControlSocketPath(const std::string& path);
// Writes `content` to `path` atomically (temp file + rename), with `mode`.
absl::Status WriteFileAtomic(const std::string& path, const std::string& content, int mode);
// Removes the pid and listen-address files, and the control socket if what
// sits at its path is a socket.
void RemoveRunFiles(const config::HomePaths& paths);

}  // namespace bitrouter::controld
