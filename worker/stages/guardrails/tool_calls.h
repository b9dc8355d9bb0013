#pragma once
// guardrails.tools on an answer (downgoing): the tool calls the model makes,
// for the provider that served it.
//
//   - a call to a tool the provider's filter denies blocks the answer (a
//     model may call a tool it was never offered; it is never passed on);
//   - a call carrying an argument that param_restrictions deny has it
//     removed (action strip) or blocks the answer (action block); arguments
//     that are not a JSON object cannot be checked and block too.
//
// Whole JSON answers in the client's protocol (Chat tool_calls and legacy
// function_call, Responses function_call items, Messages tool_use blocks,
// Gemini functionCall parts), and one streamed call's argument text.
//
// Thread: any. Pure functions of the input.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "shared/guardrails/tool_policy.h"
#include "shared/protocol/adapters.h"

namespace bitrouter::worker {

struct ToolCallVerdict {
  std::string body;     // rewritten (arguments stripped); empty when unchanged
  std::string blocked;  // non-empty: the answer is refused with this message
  int stripped = 0;     // arguments removed
};

// The answer is parsed only when it mentions a tool call. InvalidArgument
// when it is not JSON.
absl::StatusOr<ToolCallVerdict> CheckAnswerToolCalls(protocol::Protocol p, std::string_view body,
                                                     std::string_view provider,
                                                     const guardrails::ToolProviderPolicy& policy);

// The refusal for a call to a denied tool.
std::string DeniedCallMessage(std::string_view tool, std::string_view provider);

// One call's complete argument text (a JSON object) under an argument rule:
// `body` gets the stripped arguments when one was removed.
ToolCallVerdict ApplyParamRule(std::string_view tool, std::string_view provider,
                               const guardrails::ToolParamRule& rule, std::string_view args);

}  // namespace bitrouter::worker
