#pragma once
// Liveness of the bitrouterd a pid file names. bitrouterd (claiming a home)
// and bitrouterctl (start, stop) use the same test, so both agree on whether
// a pid file is stale: a pid reused by an unrelated process does not count.

#include <sys/types.h>

#include <string>

namespace bitrouter {

// True if `pid` is a live (not zombie) process whose program is bitrouterd.
bool IsLiveBitrouterd(pid_t pid);
// The pid in `pid_file` if it names a live bitrouterd, else 0 (missing,
// garbled, dead, zombie, or another program).
pid_t LiveDaemonPid(const std::string& pid_file);

}  // namespace bitrouter
