#pragma once
// Token estimates where no provider count exists: count_tokens endpoints,
// and the usage record of an answer whose usage never arrived (a client that
// left, a stream cut short), which is then marked estimated.
//
// Rough but stable: ~4 bytes of text (or decoded document) per token, plus
// per-message and per-image overheads in line with Anthropic's guidance.
// Thread: pure functions.

#include <cstdint>

#include "shared/protocol/canonical.h"

namespace bitrouter::usage {

int64_t EstimateTokens(const protocol::CanonicalRequest& req);
// Generated output of `bytes` bytes (text, reasoning, tool arguments).
inline int64_t EstimateOutputTokens(int64_t bytes) { return bytes <= 0 ? 0 : (bytes + 3) / 4; }

}  // namespace bitrouter::usage
