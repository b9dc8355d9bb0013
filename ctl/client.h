#pragma once
// Connection to bitrouterd's control socket for bitrouterctl commands.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "shared/config/home.h"

namespace bitrouter::v1 {
class Admin;
}
namespace grpc {
class Channel;
}

namespace bitrouter::ctl {

struct Context {
  config::HomePaths paths;
  bool json = false;
};

// Fails with a message that says how to start bitrouterd when nothing listens.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectControl(const Context& ctx);

int RunStatus(const Context& ctx);
int RunStop(const Context& ctx, int wait_seconds);

}  // namespace bitrouter::ctl
