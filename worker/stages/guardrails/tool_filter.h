#pragma once
// guardrails.tools on a client's request (upgoing): the tools it offers the
// model, in the client's protocol (Chat tools and legacy functions,
// Responses tools, Messages tools, Gemini functionDeclarations and built-in
// tools; a tool without a name is known by its type).
//
//   - a tool a provider's filter denies is taken out of the offer (and a
//     forced tool_choice / allowedFunctionNames entry for it);
//   - an argument a provider's param_restrictions deny is taken out of the
//     tool's schema (properties, required), so the model is not invited to
//     fill it in (strip and block rules alike; the answer side enforces
//     them on the calls);
//   - a request that can then no longer be served as asked (tool_choice
//     forces a removed tool, or demands a tool call and none is left) is
//     refused: 400 guardrail_blocked, nothing goes upstream.
//
// `policies` are the providers the request may reach that have a policy:
// the strictest of them applies (a tool any of them denies is removed).
// The body is parsed only when it mentions tools and rewritten only when
// something was removed.
//
// Thread: any. Pure function of the input.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "shared/guardrails/tool_policy.h"
#include "shared/protocol/adapters.h"

namespace bitrouter::worker {

using NamedToolPolicy = std::pair<std::string_view, const guardrails::ToolProviderPolicy*>;

struct ToolFilterResult {
  std::string body;     // the rewritten request; empty when nothing changed
  std::string blocked;  // non-empty: refuse the request with this message
  int removed = 0;      // tools taken out of the offer
  int stripped = 0;     // argument names taken out of schemas
};

// InvalidArgument when the body is not JSON (the entry refused it already).
absl::StatusOr<ToolFilterResult> FilterOfferedTools(protocol::Protocol client,
                                                    std::string_view body,
                                                    const std::vector<NamedToolPolicy>& policies);

}  // namespace bitrouter::worker
