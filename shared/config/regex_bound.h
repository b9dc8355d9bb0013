#pragma once
// Length bounds of the matches of an RE2 pattern, in bytes of UTF-8 text.
//
// Guardrail patterns are matched on streamed text: the stream holds back as
// many bytes as the longest match a pattern can produce, so every pattern must
// have a finite one. RE2 does not expose its parse tree in the installed
// headers, so this reads the pattern text itself. It is meant for patterns RE2
// has already compiled (UTF-8, Perl syntax); it is conservative: `max` is
// never below the true longest match (e.g. a case-folded letter counts 3
// bytes, since 'k' folds to U+212A), and `min` is never above the shortest.

#include <cstddef>
#include <limits>
#include <string_view>

namespace bitrouter::config {

struct RegexBound {
  static constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();
  size_t min = 0;  // shortest match (0: may match the empty string)
  size_t max = 0;  // longest match, or kUnbounded (*, +, {n,})
};

// Bounds of the matches of `pattern` (RE2 syntax, UTF-8, default flags).
RegexBound BoundOfRegex(std::string_view pattern);

}  // namespace bitrouter::config
