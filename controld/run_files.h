#pragma once
// <home>/run bookkeeping: the pid file (one bitrouterd per home), the actual
// listen address for scripts and tests, stale-file cleanup.

#include <string>

#include "absl/status/status.h"
#include "shared/config/home.h"

namespace bitrouter::controld {

// Fails if a live bitrouterd owns this home; removes stale pid/socket files.
absl::Status ClaimHome(const config::HomePaths& paths);
// Writes `content` to `path` atomically (temp file + rename), with `mode`.
absl::Status WriteFileAtomic(const std::string& path, const std::string& content, int mode);
void RemoveRunFiles(const config::HomePaths& paths);

}  // namespace bitrouter::controld
