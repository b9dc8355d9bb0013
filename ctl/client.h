#pragma once
// Connection to bitrouterd's control socket for bitrouterctl commands.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "shared/config/home.h"
#include "shared/protocol/openai_request.h"

#include <grpcpp/grpcpp.h>

#include <sys/types.h>

#include <functional>

#include "bitrouter/v1/control.grpc.pb.h"

namespace bitrouter::ctl {

// A JSON string literal for `s`, for the --json outputs.
inline std::string Json(std::string_view s) {
  std::string out;
  protocol::AppendJsonString(s, &out);
  return out;
}

struct Context {
  config::HomePaths paths;
  bool json = false;
};

// Fails with a message that says how to start bitrouterd when nothing listens.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectControl(const Context& ctx);

// Connects, runs one Admin RPC with a deadline, and prints any failure.
// Returns 0, 1 (the RPC failed) or 3 (bitrouterd not running).
using AdminCall = std::function<grpc::Status(v1::Admin::Stub&, grpc::ClientContext*)>;
int CallAdmin(const Context& ctx, int deadline_seconds, const AdminCall& call);

// The pid in <home>/run/bitrouterd.pid if that process is a live bitrouterd
// (not a zombie, not a reused pid), else 0.
pid_t RunningDaemonPid(const Context& ctx);

int RunStatus(const Context& ctx);
int RunReload(const Context& ctx);
int RunStop(const Context& ctx, int wait_seconds, bool force);
// Daemonizes bitrouterd (logs in <home>/logs/) and waits for /health.
int RunStart(const Context& ctx, const std::vector<std::string>& daemon_args, int wait_seconds);
int RunRouteList(const Context& ctx);
int RunRouteAdd(const Context& ctx, const std::string& name,
                const std::vector<std::string>& targets, const std::string& strategy);
int RunRouteRemove(const Context& ctx, const std::string& name);
int RunConfigValidate(const Context& ctx, const std::string& file);
int RunInit(const Context& ctx, bool force);
// Exit 4 when the model does not resolve.
int RunRouteTrace(const Context& ctx, const std::string& model);

// bitrouterctl usage (ctl/usage_command.cc); the texts are parsed there.
struct UsageOptions {
  std::string since;  // duration back from now
  std::string from;   // instant
  std::string to;     // instant
  std::string by;     // "", key, model, provider, endpoint
};
int RunUsage(const Context& ctx, const UsageOptions& options);

// bitrouterctl requests (ctl/requests_command.cc).
inline constexpr uint32_t kMaxRequestsLimit = 2000;  // bitrouterd's cap per answer
struct RequestsOptions {
  bool tail = false;
  uint32_t limit = 20;
  std::string model;
  std::string status;  // "429", "5xx", "error", ""
  std::string key;     // key id; "" = any
};
// --tail runs until SIGINT/SIGTERM and then exits 0.
int RunRequests(const Context& ctx, const RequestsOptions& options);

// bitrouterctl key ... (ctl/key_command.cc).
struct KeyOptions {
  std::string name;
  std::string models;       // comma-separated patterns
  bool models_set = false;  // update: --models given (even "")
  std::string mcp;          // MCP scope: comma-separated server[:tool-glob] / virtual:glob
  bool mcp_set = false;     // update: --mcp given (even "")
  std::optional<double> budget_usd;
  std::string budget_period;  // "" = total (create) / unchanged (update)
  std::optional<uint64_t> rpm;
  std::optional<uint64_t> tpm;
  std::string expires;  // a duration from now: 30d
};
int RunKeyCreate(const Context& ctx, const KeyOptions& options);
int RunKeyList(const Context& ctx);
int RunKeyShow(const Context& ctx, const std::string& key);
int RunKeyUpdate(const Context& ctx, const std::string& key, const KeyOptions& options,
                 const std::vector<std::string>& clear);
int RunKeyRevoke(const Context& ctx, const std::string& key);

// mcp_command.cc
int RunMcpServers(const Context& ctx);
int RunMcpTools(const Context& ctx, const std::string& server);

}  // namespace bitrouter::ctl
