#pragma once
// Boundary helpers: Debian's Abseil does not alias absl::string_view to
// std::string_view, so absl::StrCat cannot take std::string_view directly.

#include <string_view>

#include "absl/strings/string_view.h"

namespace bitrouter {

inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// ASCII case-insensitive equality (HTTP header names).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace bitrouter
