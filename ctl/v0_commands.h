#pragma once
// Commands of the `bitrouter` front (ctl/bitrouter_main.cc) that bitrouterctl
// does not have: the original CLI's formats and its foreground `serve`.

#include <string>
#include <vector>

#include "ctl/client.h"

namespace bitrouter::ctl {

// `bitrouter status`: the original's line format (daemon:, home:, ...).
int RunV0Status(const Context& ctx);

// `bitrouter serve`: replaces this process with bitrouterd in the foreground
// (signals reach bitrouterd itself: SIGTERM drains and exits 0). Returns
// only when bitrouterd cannot be started.
int RunServe(const std::vector<std::string>& daemon_args);

}  // namespace bitrouter::ctl
