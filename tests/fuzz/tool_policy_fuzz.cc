// Fuzzes guardrails.tools on hostile JSON: the request-side filter and the
// answer-side check never crash, and what they produce is settled: filtering
// a filtered request (or checking a checked answer) removes nothing more.
// A streamed call's argument rule is fuzzed on the same bytes.
//
// Input: byte 0 picks the protocol; the rest is the body.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/guardrails/tool_policy.h"
#include "tests/fuzz/fuzz_check.h"
#include "worker/stages/guardrails/tool_calls.h"
#include "worker/stages/guardrails/tool_filter.h"

namespace {

using bitrouter::guardrails::ToolParamRule;
using bitrouter::guardrails::ToolProviderPolicy;
using bitrouter::protocol::Protocol;

const ToolProviderPolicy& Policy() {
  static const ToolProviderPolicy* p = [] {
    auto* policy = new ToolProviderPolicy;
    policy->deny = {"d*", "x"};
    policy->params["c*"] = ToolParamRule{{"a", "b"}, false};
    policy->params["r"] = ToolParamRule{{"s"}, true};
    return policy;
  }();
  return *p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Protocol protocols[] = {Protocol::kChat, Protocol::kResponses, Protocol::kMessages,
                                Protocol::kGemini};
  const Protocol p = protocols[data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<bitrouter::worker::NamedToolPolicy> policies = {{"p", &Policy()}};

  auto filtered = bitrouter::worker::FilterOfferedTools(p, body, policies);
  if (filtered.ok() && filtered->blocked.empty() && !filtered->body.empty()) {
    auto again = bitrouter::worker::FilterOfferedTools(p, filtered->body, policies);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->removed == 0 && again->stripped == 0);
  }

  auto checked = bitrouter::worker::CheckAnswerToolCalls(p, body, "p", Policy());
  if (checked.ok() && checked->blocked.empty() && !checked->body.empty()) {
    auto again = bitrouter::worker::CheckAnswerToolCalls(p, checked->body, "p", Policy());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again->blocked.empty() && again->stripped == 0);
  }

  auto args = bitrouter::worker::ApplyParamRule("c", "p", *Policy().Params("c"), body);
  if (args.blocked.empty() && !args.body.empty()) {
    auto again = bitrouter::worker::ApplyParamRule("c", "p", *Policy().Params("c"), args.body);
    FUZZ_CHECK(again.blocked.empty() && again.stripped == 0);
  }
  return 0;
}
