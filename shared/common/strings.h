#pragma once
// Boundary helpers: Debian's Abseil does not alias absl::string_view to
// std::string_view, so absl::StrCat cannot take std::string_view directly.

#include <string>
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

// Client-supplied text for a log line: at most `max` bytes, printable ASCII
// only (anything else, quotes and backslashes become '?'), so a line can
// neither be split nor forged.
inline std::string SanitizeForLog(std::string_view s, size_t max) {
  std::string out;
  size_t n = s.size() < max ? s.size() : max;
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? c : '?');
  }
  if (s.size() > max) out.append("...");
  return out;
}

}  // namespace bitrouter
