#pragma once
// The guardrails tool policy (`guardrails.tools.providers.<server id>`)
// applied by the MCP gateway: for an MCP call the "provider" is the tool
// server. A denied tool is not listed and is answered exactly like an
// unknown tool; a tool's denied arguments are removed from its listed
// inputSchema and, on a call, stripped from its arguments or the call is
// refused (`action: block`).
//
// Loop thread only; pure functions over JSON text.

#include <string>
#include <string_view>

#include "rapidjson/document.h"
#include "shared/guardrails/tool_policy.h"

namespace bitrouter::node {
class WorkerMetrics;
}

namespace bitrouter::worker {

// Whether the policy lets the tool be listed and called (null policy: yes).
bool PolicyShowsTool(const guardrails::ToolProviderPolicy* policy, std::string_view tool);

// Removes the tool's denied argument names from a listed tool object's
// inputSchema (properties and required). True when it changed.
bool RestrictListedTool(const guardrails::ToolProviderPolicy& policy, rapidjson::Value& tool,
                        rapidjson::Document::AllocatorType& alloc);

// A tools/list result (JSON text) with the policy applied: "" when nothing
// changed (or the result is not a tool list).
std::string ApplyPolicyToList(const guardrails::ToolProviderPolicy& policy,
                              std::string_view result);

struct McpCallVerdict {
  std::string params;   // rewritten params (arguments stripped); "" = unchanged
  std::string blocked;  // non-empty: refuse the call with this message
  int stripped = 0;
};

// A tools/call's params under the tool's argument rule.
McpCallVerdict CheckMcpToolCall(const guardrails::ToolProviderPolicy& policy,
                                std::string_view server, std::string_view tool,
                                std::string_view params);

class McpCall;
struct WorkerSnapshot;

// The server's tool policy in the snapshot, or null.
const guardrails::ToolProviderPolicy* McpToolPolicy(const WorkerSnapshot& snapshot,
                                                    std::string_view server);

// A tools/call about to go to `server`: a denied tool is answered as
// unknown (-32602 "Unknown tool: <called>"), a blocked argument refused;
// stripped arguments rewrite `params`. False when the call was answered.
bool GateToolCall(McpCall* call, const WorkerSnapshot& snapshot, node::WorkerMetrics& metrics,
                  std::string_view server, std::string_view tool, std::string_view called,
                  std::string* params);

}  // namespace bitrouter::worker
