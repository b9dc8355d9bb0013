#pragma once
// Small header-only HTTP/1.1 text helpers shared by the test client and the
// fake upstream (case-insensitive compares, trimming, chunk-size parsing).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bitrouter::testing::http_text {

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

inline bool ContainsIgnoreCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (EqualsIgnoreCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// First value of header `name` (case-insensitive), or nullptr.
inline const std::string* FindHeader(const std::vector<std::pair<std::string, std::string>>& h,
                                     std::string_view name) {
  for (const auto& kv : h) {
    if (EqualsIgnoreCase(kv.first, name)) return &kv.second;
  }
  return nullptr;
}

// Parses "Name: value\r\n..." lines (the part after the start line, without
// the terminating empty line). Returns false on a malformed line.
inline bool ParseHeaderLines(std::string_view lines,
                             std::vector<std::pair<std::string, std::string>>* out) {
  while (!lines.empty()) {
    size_t eol = lines.find("\r\n");
    std::string_view line = lines.substr(0, eol);
    lines = eol == std::string_view::npos ? std::string_view() : lines.substr(eol + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    out->emplace_back(std::string(line.substr(0, colon)),
                      std::string(Trim(line.substr(colon + 1))));
  }
  return true;
}

// Parses a chunk-size line such as "1a" or "1a;ext=1". False if invalid.
inline bool ParseChunkSize(std::string_view line, size_t* size) {
  size_t semi = line.find(';');
  if (semi != std::string_view::npos) line = line.substr(0, semi);
  line = Trim(line);
  if (line.empty() || line.size() > 15) return false;
  size_t v = 0;
  for (char c : line) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'f') {
      d = Lower(c) - 'a' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<size_t>(d);
  }
  *size = v;
  return true;
}

}  // namespace bitrouter::testing::http_text
