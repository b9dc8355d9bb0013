#pragma once
// The most a request can cost before it is sent: what the budget stage
// reserves. Over every endpoint the request may fail over to, the largest
// of (prompt estimate x input price + output limit x output price):
//   prompt estimate  body bytes / 4, at most the model's context window
//   output limit     the client's max_tokens (or max_completion_tokens,
//                    max_output_tokens, maxOutputTokens), else the catalog's
//                    max_output_tokens, else kUnknownOutputLimit
//   prices           the higher of input / cache-write, of output / reasoning
// An endpoint without a known input and output price makes the cost
// unknowable (`unpriced` names it): a budget cannot count it.
// Thread: pure function.

#include <cstdint>
#include <optional>
#include <string>

#include "shared/routing/route_table.h"
#include "worker/snapshot/snapshot.h"

namespace bitrouter::worker {

inline constexpr int64_t kUnknownOutputLimit = 32'768;

struct WorstCase {
  std::optional<int64_t> micro_usd;  // nullopt: `unpriced` has no price
  std::string unpriced;              // provider:model
};

WorstCase WorstCaseCost(const WorkerSnapshot& snapshot, const routing::Resolution& resolution,
                        size_t body_bytes, int64_t max_output_tokens);

}  // namespace bitrouter::worker
