#pragma once
// What the gateway records about one relayed MCP request: the MCP metrics
// on /metrics (every relayed method) and, for a tools/call, one usage
// record (key, server, tool, duration, bytes, outcome, price) on the same
// path to bitrouterd as inference records.
//
// Loop thread only.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bitrouter::worker {

class Server;

struct McpTry {
  std::string server;   // configured server id
  std::string tool;     // the tool's name on that server ("" for non-tool methods)
  std::string outcome;  // see McpOutcome
  int64_t latency_us = 0;
};

struct McpFacts {
  std::string request_id;
  int64_t time_unix_ms = 0;
  uint64_t start_us = 0;  // MonotonicMicros at arrival
  std::string key_id;
  std::string method;
  std::string endpoint_server;             // the server in the path, or "aggregate"
  std::string tool_called;                 // tools/call: the name the client used
  std::vector<McpTry> tries;               // upstream requests, in order
  std::optional<int64_t> price_micro_usd;  // a priced virtual tool
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  bool streamed = false;
};

// The outcome word of a finished upstream request: "ok", "tool_error" (a
// result with isError: true), "rpc_error", "timeout" or "failed".
std::string McpOutcome(const std::string& result, bool rpc_error, bool timed_out);

// Emits the metrics and (tools/call) the usage record. `final_outcome` is
// what the client got: the last try's outcome, "cancelled" or "refused".
void ReportMcp(Server& server, bool metering, McpFacts facts, const std::string& final_outcome);

}  // namespace bitrouter::worker
