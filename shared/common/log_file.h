#pragma once
// A log file standing in for stderr (fd 2), so bitrouterd and the workers it
// starts write one file when daemonized. Reopen() follows an external
// rotation (logrotate + SIGUSR1); Rotate() renames by size itself:
// bitrouterd.log -> .1 -> ... -> .N (the oldest is dropped).

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace bitrouter::log {

// Opens `path` (append, 0640) and makes it fd 2.
absl::Status RedirectStderrTo(const std::string& path);
// Re-opens the same path onto fd 2 (after it was moved away).
absl::Status ReopenStderr(const std::string& path);
// Size of the file behind fd 2 (0 if not a regular file).
uint64_t StderrSize();
// Shifts path.(N-1) .. path.1 and path to the next suffix, then reopens.
absl::Status RotateStderr(const std::string& path, int keep);

}  // namespace bitrouter::log
