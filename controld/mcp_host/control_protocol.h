#pragma once
// The control channel between bitrouterd and its MCP host (a socketpair
// inherited as a file descriptor), newline-delimited JSON both ways:
//   bitrouterd -> host: {"servers":{"<id>":{"command":..,"args":[..],"env":{..},"cwd":..},..}}
//     the whole desired set, at start and after every reload;
//   host -> bitrouterd: {"status":[{"id","pid","restarts","state","last_error"},..]}
//     whenever a server's state changes.
// The specs come only from bitrouterd's config file: nothing else can write
// on this channel (it is no socket anyone can connect to).
//
// Thread: any. Pure logic.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace bitrouter::mcphost {

struct ServerSpec {
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string cwd;
  bool operator==(const ServerSpec&) const = default;
};
using DesiredSet = std::map<std::string, ServerSpec>;  // by server id

struct ServerStatus {
  std::string id;
  pid_t pid = 0;          // 0 = no child running
  uint32_t restarts = 0;  // children started after the first
  std::string state;      // starting | ready | backoff | stopped
  std::string last_error;
  bool operator==(const ServerStatus&) const = default;
};

std::string DesiredSetLine(const DesiredSet& set);  // '\n' included
absl::StatusOr<DesiredSet> ParseDesiredSet(std::string_view line);

std::string StatusLine(const std::vector<ServerStatus>& status);  // '\n' included
absl::StatusOr<std::vector<ServerStatus>> ParseStatus(std::string_view line);

}  // namespace bitrouter::mcphost
