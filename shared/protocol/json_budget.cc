#include "shared/protocol/json_budget.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace bitrouter::protocol {

absl::Status CheckJsonObjectBudget(std::string_view json, size_t max_objects) {
  size_t objects = 0;
  const char* p = json.data();
  const char* const end = p + json.size();
  auto find = [end](const char* from, char c) {
    const char* r = static_cast<const char*>(std::memchr(from, c, static_cast<size_t>(end - from)));
    return r == nullptr ? end : r;
  };
  // Next '{' and '"' at or after p, each searched again only once passed,
  // so the scan stays linear.
  const char* brace = find(p, '{');
  const char* quote = find(p, '"');
  while (brace < end || quote < end) {
    if (brace < quote) {
      if (++objects > max_objects) {
        return absl::InvalidArgumentError(
            absl::StrCat("the request has more than ", max_objects,
                         " JSON objects, more than one request may translate; split it"));
      }
      brace = find(brace + 1, '{');
      continue;
    }
    // Skip the string, escapes included.
    const char* q = quote;
    do {
      q = find(q + 1, '"');
      if (q == end) return absl::OkStatus();  // unterminated: the parser will say so
      size_t backslashes = 0;
      for (const char* b = q; b[-1] == '\\'; --b) ++backslashes;
      if (backslashes % 2 == 0) break;
    } while (true);
    p = q + 1;
    quote = find(p, '"');
    if (brace < p) brace = find(p, '{');
  }
  return absl::OkStatus();
}

}  // namespace bitrouter::protocol
