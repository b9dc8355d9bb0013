#pragma once
// Prices one answer's token usage against a catalog entry's pricing (the
// built-in catalog merged with providers.X.models.Y.pricing).
//
// Buckets, from the canonical Usage (OpenAI semantics: prompt_tokens counts
// cache reads and writes, completion_tokens counts reasoning):
//   uncached input = prompt - cache_read - cache_write   at input_no_cache
//   cache read                                           at cache_read
//   cache write                                          at cache_write
//   output text    = completion - reasoning              at output_text
//   reasoning                                            at reasoning, else output_text
//
// Unknown is never $0: a bucket with tokens and no known price (negative, or
// not finite) makes the whole cost unknown. A bucket with no tokens needs no
// price.
//
// Thread: pure function of its arguments; any thread, no allocation.

#include <cstdint>
#include <optional>

#include "shared/config/config.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::usage {

struct CostBreakdown {
  // Tokens per billed bucket.
  int64_t input_uncached_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_text_tokens = 0;
  int64_t reasoning_tokens = 0;
  // The usage contradicted itself (a negative count, cache reads + writes
  // above prompt_tokens, reasoning above completion_tokens). The derived
  // bucket (uncached input, output text) or the negative count was clamped to
  // 0; the cache and reasoning counts are priced as reported, since that is
  // what the provider bills. Worth a log line, not a failure.
  bool clamped = false;
  // Total in micro-USD (1e-6 USD). 1 USD per million tokens is exactly 1
  // micro-USD per token, so each bucket is tokens x price; the sum is kept in
  // pico-USD (prices resolved to 1e-6 USD/Mtok) and rounded half up to a
  // micro-USD once, at the end, so per-bucket fractions are not lost.
  // nullopt = unknown: a non-zero bucket has no known price, or the figure
  // does not fit in int64.
  std::optional<int64_t> total_micro_usd;
};

CostBreakdown ComputeCost(const protocol::Usage& usage, const config::Pricing& pricing);

}  // namespace bitrouter::usage
