#pragma once
// The provider faults of the failoverbench catalogue (methodology v0.1), as
// fake-upstream replies: each scenario is a streaming Chat call to a
// priority route whose first endpoint misbehaves in one way. Durations are
// parameters so that tests can shorten them (the router's side is shortened
// only through config values a user could also set).

#include <string>
#include <vector>

#include "tests/support/fake_upstream.h"

namespace bitrouter::testing {

enum class Fault {
  kRateLimitRetryAfter,  // 429 with Retry-After
  kRateLimitPersistent,  // 429 on every request
  kServerErrorOnce,      // 500 on the first request, then healthy
  kUnavailable,          // 503 on every request
  kResetBeforeHeaders,   // TCP reset before the response head
  kSilence,              // accepts the request, never answers
  kSlowFirstToken,       // head at once, first token after `delay_ms`
  kStreamCut,            // `tokens` tokens, then a reset
  kStall,                // `tokens` tokens, a stall of `delay_ms`, then the rest
  kMalformedChunk,       // `tokens` tokens, one chunk that is not JSON, the rest
  kNoDone,               // complete with finish_reason but without data: [DONE]
  kContextLength,        // 400 context_length_exceeded (OpenAI shape)
  kContentFilter,        // 400 content_filter refusal (Azure OpenAI shape)
  kRejectsPrefill,       // healthy, but 400 to a request that ends with an assistant turn
};

struct FaultOptions {
  int tokens = 40;        // tokens streamed before a cut / stall / malformed chunk
  int total_tokens = 60;  // tokens of a complete answer
  int delay_ms = 1500;    // first-token delay, stall length
  int retry_after_s = 1;  // kRateLimitRetryAfter
};

// The tokens a complete answer is made of: "t0 ", "t1 ", ...
std::vector<std::string> BenchTokens(int n);

// A raw HTTP/1.1 response (close-delimited text/event-stream) streaming
// `pieces` as Chat chunks of `model`, with finish_reason "stop" and [DONE].
Reply ChatSseReply(const std::string& model, const std::vector<std::string>& pieces);

// The reply of an endpoint with `fault` to its `nth` request (0-based).
Reply FaultReply(Fault fault, const RecordedRequest& req, int nth, const std::string& model,
                 const FaultOptions& o = {});

}  // namespace bitrouter::testing
