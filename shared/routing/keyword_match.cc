#include "shared/routing/keyword_match.h"

namespace bitrouter::routing {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

bool ContainsKeyword(std::string_view text, std::string_view keyword, bool whole_word) {
  if (keyword.empty()) return false;
  for (size_t at = text.find(keyword); at != std::string_view::npos;
       at = text.find(keyword, at + 1)) {
    if (!whole_word) return true;
    size_t end = at + keyword.size();
    // A keyword that itself starts or ends with a non-word character ("c++")
    // needs no boundary on that side.
    bool left = at == 0 || !IsWordChar(text[at - 1]) || !IsWordChar(keyword.front());
    bool right = end == text.size() || !IsWordChar(text[end]) || !IsWordChar(keyword.back());
    if (left && right) return true;
  }
  return false;
}

}  // namespace bitrouter::routing
