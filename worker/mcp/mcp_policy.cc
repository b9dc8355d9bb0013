#include "worker/mcp/mcp_policy.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "shared/mcp/jsonrpc.h"
#include "shared/node/metrics.h"
#include "worker/mcp/mcp_call.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {
namespace {

bool Denied(const guardrails::ToolParamRule& rule, std::string_view name) {
  return std::find(rule.deny.begin(), rule.deny.end(), name) != rule.deny.end();
}

}  // namespace

bool PolicyShowsTool(const guardrails::ToolProviderPolicy* policy, std::string_view tool) {
  return policy == nullptr || policy->Allows(tool);
}

bool RestrictListedTool(const guardrails::ToolProviderPolicy& policy, rapidjson::Value& tool,
                        rapidjson::Document::AllocatorType& alloc) {
  if (!tool.IsObject() || !tool.HasMember("name") || !tool["name"].IsString()) return false;
  const guardrails::ToolParamRule* rule = policy.Params(tool["name"].GetString());
  if (rule == nullptr || rule->block) return false;  // block: the schema stays, calls are refused
  auto schema = tool.FindMember("inputSchema");
  if (schema == tool.MemberEnd() || !schema->value.IsObject()) return false;
  bool changed = false;
  auto props = schema->value.FindMember("properties");
  if (props != schema->value.MemberEnd() && props->value.IsObject()) {
    for (auto m = props->value.MemberBegin(); m != props->value.MemberEnd();) {
      if (Denied(*rule, std::string_view(m->name.GetString(), m->name.GetStringLength()))) {
        m = props->value.EraseMember(m);
        changed = true;
      } else {
        ++m;
      }
    }
  }
  auto required = schema->value.FindMember("required");
  if (required != schema->value.MemberEnd() && required->value.IsArray()) {
    rapidjson::Value kept(rapidjson::kArrayType);
    for (auto& r : required->value.GetArray()) {
      if (r.IsString() && Denied(*rule, std::string_view(r.GetString(), r.GetStringLength()))) {
        changed = true;
        continue;
      }
      kept.PushBack(rapidjson::Value(r, alloc), alloc);
    }
    required->value = std::move(kept);
  }
  return changed;
}

std::string ApplyPolicyToList(const guardrails::ToolProviderPolicy& policy,
                              std::string_view result) {
  rapidjson::Document d;
  d.Parse(result.data(), result.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("tools") || !d["tools"].IsArray()) {
    return {};
  }
  bool changed = false;
  rapidjson::Value& tools = d["tools"];
  for (auto t = tools.Begin(); t != tools.End();) {
    if (t->IsObject() && t->HasMember("name") && (*t)["name"].IsString() &&
        !policy.Allows((*t)["name"].GetString())) {
      t = tools.Erase(t);
      changed = true;
      continue;
    }
    changed |= RestrictListedTool(policy, *t, d.GetAllocator());
    ++t;
  }
  return changed ? mcp::JsonText(d) : std::string();
}

McpCallVerdict CheckMcpToolCall(const guardrails::ToolProviderPolicy& policy,
                                std::string_view server, std::string_view tool,
                                std::string_view params) {
  McpCallVerdict v;
  const guardrails::ToolParamRule* rule = policy.Params(tool);
  if (rule == nullptr || rule->deny.empty()) return v;
  rapidjson::Document d;
  d.Parse(params.data(), params.size());
  if (d.HasParseError() || !d.IsObject()) return v;
  auto args = d.FindMember("arguments");
  if (args == d.MemberEnd() || !args->value.IsObject()) return v;
  for (auto m = args->value.MemberBegin(); m != args->value.MemberEnd();) {
    if (!Denied(*rule, std::string_view(m->name.GetString(), m->name.GetStringLength()))) {
      ++m;
      continue;
    }
    if (rule->block) {
      v.blocked = absl::StrCat("Tool '", std::string(tool), "' of MCP server '",
                               std::string(server), "' may not be called with argument '",
                               m->name.GetString(), "' (guardrails tool policy)");
      return v;
    }
    m = args->value.EraseMember(m);
    ++v.stripped;
  }
  if (v.stripped > 0) v.params = mcp::JsonText(d);
  return v;
}

const guardrails::ToolProviderPolicy* McpToolPolicy(const WorkerSnapshot& snapshot,
                                                    std::string_view server) {
  return snapshot.tools != nullptr ? snapshot.tools->For(server) : nullptr;
}

bool GateToolCall(McpCall* call, const WorkerSnapshot& snapshot, node::WorkerMetrics& metrics,
                  std::string_view server, std::string_view tool, std::string_view called,
                  std::string* params) {
  const guardrails::ToolProviderPolicy* policy = McpToolPolicy(snapshot, server);
  if (policy == nullptr) return true;
  if (!policy->Allows(tool)) {
    metrics.GuardrailMatch("tool_policy", "upgoing", "block");
    call->AnswerError(mcp::kInvalidParams, "Unknown tool: " + std::string(called));
    return false;
  }
  McpCallVerdict v = CheckMcpToolCall(*policy, server, tool, *params);
  if (!v.blocked.empty()) {
    metrics.GuardrailMatch("tool_policy", "upgoing", "block");
    call->AnswerError(mcp::kInvalidParams, v.blocked);
    return false;
  }
  if (v.stripped > 0) {
    metrics.GuardrailMatch("tool_policy", "upgoing", "redact");
    *params = std::move(v.params);
  }
  return true;
}

}  // namespace bitrouter::worker
