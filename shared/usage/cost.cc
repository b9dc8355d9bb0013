#include "shared/usage/cost.h"

#include <cmath>

namespace bitrouter::usage {
namespace {

constexpr int64_t kPicoPerMicro = 1'000'000;

// USD per million tokens -> pico-USD per token (x 1e6). nullopt = unknown,
// including a price too large to hold (no real price comes near).
std::optional<int64_t> PicoPerToken(double usd_per_mtok) {
  if (!std::isfinite(usd_per_mtok) || usd_per_mtok < 0) return std::nullopt;
  double pico = std::round(usd_per_mtok * 1e6);
  if (pico >= 9e18) return std::nullopt;
  return static_cast<int64_t>(pico);
}

int64_t NonNegative(int64_t v, bool* clamped) {
  if (v >= 0) return v;
  *clamped = true;
  return 0;
}

// Adds tokens x price to *total_pico. False when the cost becomes unknown.
bool AddBucket(int64_t tokens, double usd_per_mtok, int64_t* total_pico) {
  if (tokens == 0) return true;
  std::optional<int64_t> price = PicoPerToken(usd_per_mtok);
  if (!price) return false;
  int64_t pico = 0;
  if (__builtin_mul_overflow(tokens, *price, &pico)) return false;
  return !__builtin_add_overflow(*total_pico, pico, total_pico);
}

}  // namespace

CostBreakdown ComputeCost(const protocol::Usage& usage, const config::Pricing& pricing) {
  CostBreakdown c;
  bool& clamped = c.clamped;
  int64_t prompt = NonNegative(usage.prompt_tokens, &clamped);
  int64_t completion = NonNegative(usage.completion_tokens, &clamped);
  c.cache_read_tokens = NonNegative(usage.cache_read_tokens.value_or(0), &clamped);
  c.cache_write_tokens = NonNegative(usage.cache_write_tokens.value_or(0), &clamped);
  c.reasoning_tokens = NonNegative(usage.reasoning_tokens.value_or(0), &clamped);
  // Counts come from upstreams; int64 overflow here would be undefined.
  int64_t cached = 0;
  if (__builtin_add_overflow(c.cache_read_tokens, c.cache_write_tokens, &cached)) return c;
  c.input_uncached_tokens = NonNegative(prompt - cached, &clamped);
  c.output_text_tokens = NonNegative(completion - c.reasoning_tokens, &clamped);

  double reasoning_price = pricing.reasoning >= 0 ? pricing.reasoning : pricing.output_text;
  int64_t pico = 0;
  if (!AddBucket(c.input_uncached_tokens, pricing.input_no_cache, &pico) ||
      !AddBucket(c.cache_read_tokens, pricing.cache_read, &pico) ||
      !AddBucket(c.cache_write_tokens, pricing.cache_write, &pico) ||
      !AddBucket(c.output_text_tokens, pricing.output_text, &pico) ||
      !AddBucket(c.reasoning_tokens, reasoning_price, &pico)) {
    return c;
  }
  // Every term is non-negative, so this is round half up.
  int64_t rounded = 0;
  if (__builtin_add_overflow(pico, kPicoPerMicro / 2, &rounded)) return c;
  c.total_micro_usd = rounded / kPicoPerMicro;
  return c;
}

}  // namespace bitrouter::usage
