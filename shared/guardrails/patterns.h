#pragma once
// The built-in guardrail patterns, as data: what each one catches, its RE2
// regex and the longest match it can produce (the stream holdback it needs).
//
// Every repetition is bounded, so every pattern has a finite longest match
// (config::BoundOfRegex computes it; patterns_test checks the table against
// it, and private_keys' extension against its bound). The names and their order are
// config::GuardrailsConfig::kBuiltinPatterns.

#include <cstddef>
#include <span>
#include <string_view>

namespace bitrouter::guardrails {

// A check RE2 cannot express (it has no lookaround): whether the match
// [begin, end) of `text` counts. It reads at most kAcceptLookbehind bytes
// before `begin` and nothing at or after `end`.
using AcceptFn = bool (*)(std::string_view text, size_t begin, size_t end);
inline constexpr size_t kAcceptLookbehind = 2;

// Extends the regex match [begin, end) of `text` and returns the new end, for
// a span RE2 would need thousands of unrolled repetitions to express (a PEM
// body). Reads only text[end, begin + max_match_bytes) (within `text`) and
// returns at most begin + max_match_bytes.
using ExtendFn = size_t (*)(std::string_view text, size_t begin, size_t end);

struct BuiltinPattern {
  std::string_view name;
  std::string_view description;  // shown in block messages
  std::string_view regex;
  bool upgoing;    // applied (as warn) in requests when the config names no action
  bool downgoing;  // applied (as warn) in answers when the config names no action
  size_t max_match_bytes;
  // Every match starts with these bytes; lets a stream hold back only from
  // where they appear. Empty when the matches have no common start.
  std::string_view literal_prefix;
  AcceptFn accept;  // nullptr: every regex match counts
  ExtendFn extend;  // nullptr: the regex match is the match
};

std::span<const BuiltinPattern> BuiltinPatterns();

// nullptr when `name` is not a built-in pattern.
const BuiltinPattern* FindBuiltinPattern(std::string_view name);

}  // namespace bitrouter::guardrails
