#pragma once
// The data-plane listen socket: bound once by bitrouterd and inherited by
// every worker (one accept queue; no SO_REUSEPORT sockets per worker).

#include <string>

#include "absl/status/statusor.h"

namespace bitrouter::controld {

struct BoundListener {
  int fd = -1;
  std::string address;  // actual host:port (port resolved when 0 was asked)
};

absl::StatusOr<BoundListener> BindListener(const std::string& host_port);

}  // namespace bitrouter::controld
