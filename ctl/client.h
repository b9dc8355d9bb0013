#pragma once
// Connection to bitrouterd's control socket for bitrouterctl commands.

#include <memory>
#include <string>
#include <vector>

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
int RunReload(const Context& ctx);
int RunRouteList(const Context& ctx);
int RunRouteAdd(const Context& ctx, const std::string& name, const std::vector<std::string>& targets,
                const std::string& strategy);
int RunRouteRemove(const Context& ctx, const std::string& name);
int RunConfigValidate(const Context& ctx, const std::string& file);
int RunInit(const Context& ctx, bool force);
// Exit 4 when the model does not resolve.
int RunRouteTrace(const Context& ctx, const std::string& model);

}  // namespace bitrouter::ctl
