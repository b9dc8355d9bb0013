#include "shared/config/regex_bound.h"

#include <algorithm>
#include <cstdint>

namespace bitrouter::config {
namespace {

constexpr size_t kInf = RegexBound::kUnbounded;

size_t SatAdd(size_t a, size_t b) { return a == kInf || b == kInf || a > kInf - b ? kInf : a + b; }

size_t SatMul(size_t a, size_t n) {
  if (a == 0 || n == 0) return 0;
  if (a == kInf || n == kInf || a > kInf / n) return kInf;
  return a * n;
}

size_t Utf8Len(uint32_t rune) {
  return rune < 0x80 ? 1 : rune < 0x800 ? 2 : rune < 0x10000 ? 3 : 4;
}

bool IsAsciiLetter(uint32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Bytes a literal rune can match. Under (?i) an ASCII letter may match a
// 3-byte rune ('k' ~ U+212A KELVIN SIGN), a non-ASCII one anything.
size_t LiteralMax(uint32_t rune, bool fold) {
  if (!fold) return Utf8Len(rune);
  if (rune >= 0x80) return 4;
  return IsAsciiLetter(rune) ? 3 : 1;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  RegexBound Parse() {
    bool fold = false;
    RegexBound b = Alternation(&fold);
    // A stray ')' cannot occur in a pattern RE2 accepted; keep going anyway.
    while (i_ < p_.size()) {
      ++i_;
      RegexBound more = Alternation(&fold);
      b.min = std::min(b.min, more.min);
      b.max = std::max(b.max, more.max);
    }
    return b;
  }

 private:
  bool AtEnd() const { return i_ >= p_.size(); }
  char Peek() const { return AtEnd() ? '\0' : p_[i_]; }

  // The rune at i_ (UTF-8), advancing past it.
  uint32_t Rune() {
    const auto c = static_cast<unsigned char>(p_[i_++]);
    if (c < 0x80) return c;
    size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
    uint32_t r = c & (0x3F >> extra);
    for (size_t k = 0; k < extra && !AtEnd(); ++k) {
      r = (r << 6) | (static_cast<unsigned char>(p_[i_++]) & 0x3F);
    }
    return r;
  }

  // Alternatives up to ')' or the end; (?i) inside applies to the rest of the group.
  RegexBound Alternation(bool* fold) {
    RegexBound b = Concat(fold);
    while (Peek() == '|') {
      ++i_;
      RegexBound alt = Concat(fold);
      b.min = std::min(b.min, alt.min);
      b.max = std::max(b.max, alt.max);
    }
    return b;
  }

  RegexBound Concat(bool* fold) {
    RegexBound b;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      RegexBound piece = Quantified(Atom(fold));
      b.min = SatAdd(b.min, piece.min);
      b.max = SatAdd(b.max, piece.max);
    }
    return b;
  }

  RegexBound Quantified(RegexBound atom) {
    while (!AtEnd()) {
      char c = Peek();
      size_t lo = 0, hi = 0;
      if (c == '*') {
        lo = 0, hi = kInf, ++i_;
      } else if (c == '+') {
        lo = 1, hi = kInf, ++i_;
      } else if (c == '?') {
        lo = 0, hi = 1, ++i_;
      } else if (c != '{' || !Repeat(&lo, &hi)) {
        return atom;  // a '{' that is no repetition is a literal
      }
      if (Peek() == '?') ++i_;  // non-greedy: same bounds
      atom.min = SatMul(atom.min, lo);
      atom.max = hi == kInf ? (atom.max == 0 ? 0 : kInf) : SatMul(atom.max, hi);
    }
    return atom;
  }

  // {n}, {n,}, {n,m} at i_; leaves i_ unchanged when it is none of them.
  bool Repeat(size_t* lo, size_t* hi) {
    size_t j = i_ + 1;
    auto number = [&](size_t* out) {
      size_t start = j, v = 0;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9' && j - start < 6) {
        v = v * 10 + static_cast<size_t>(p_[j++] - '0');
      }
      *out = v;
      return j > start;
    };
    if (!number(lo)) return false;
    *hi = *lo;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (j < p_.size() && p_[j] == '}') {
        *hi = kInf;
      } else if (!number(hi)) {
        return false;
      }
    }
    if (j >= p_.size() || p_[j] != '}') return false;
    i_ = j + 1;
    return true;
  }

  RegexBound Atom(bool* fold) {
    char c = Peek();
    if (c == '(') return Group(fold);
    if (c == '[') return Class(*fold);
    if (c == '\\') return Escape(*fold);
    ++i_;
    if (c == '.') return {1, 4};
    if (c == '^' || c == '$') return {0, 0};
    --i_;
    uint32_t r = Rune();
    return {1, LiteralMax(r, *fold)};
  }

  RegexBound Group(bool* fold) {
    ++i_;  // '('
    bool inner_fold = *fold;
    if (Peek() == '?') {
      ++i_;
      if (Peek() == 'P' || Peek() == '<') {  // (?P<name>...) / (?<name>...)
        while (!AtEnd() && Peek() != '>') ++i_;
        if (!AtEnd()) ++i_;
      } else {
        bool negate = false;
        while (!AtEnd() && Peek() != ':' && Peek() != ')') {
          if (Peek() == '-') negate = true;
          if (Peek() == 'i') inner_fold = !negate;
          ++i_;
        }
        if (Peek() == ')') {  // (?i): flags for the rest of the enclosing group
          ++i_;
          *fold = inner_fold;
          return {0, 0};
        }
        if (!AtEnd()) ++i_;  // ':'
      }
    }
    RegexBound b = Alternation(&inner_fold);
    if (Peek() == ')') ++i_;
    return b;
  }

  // An escape outside a class.
  RegexBound Escape(bool fold) {
    ++i_;  // '\\'
    if (AtEnd()) return {1, 1};
    char c = p_[i_];
    switch (c) {
      case 'd':
      case 's':
      case 'w':
        ++i_;
        return {1, 1};  // RE2's Perl classes are ASCII
      case 'D':
      case 'S':
      case 'W':
        ++i_;
        return {1, 4};
      case 'p':
      case 'P':
        SkipUnicodeClassName();
        return {1, 4};
      case 'b':
      case 'B':
      case 'A':
      case 'z':
      case 'E':
        ++i_;
        return {0, 0};
      case 'C':
        ++i_;
        return {1, 1};
      case 'Q': {
        ++i_;
        RegexBound b;
        while (!AtEnd() && !(p_.substr(i_, 2) == "\\E")) {
          uint32_t r = Rune();
          b.min = SatAdd(b.min, 1);
          b.max = SatAdd(b.max, LiteralMax(r, fold));
        }
        if (!AtEnd()) i_ += 2;
        return b;
      }
      default:
        return {1, LiteralMax(EscapedRune(), fold)};
    }
  }

  void SkipUnicodeClassName() {
    ++i_;  // 'p' or 'P'
    if (Peek() == '{') {
      while (!AtEnd() && Peek() != '}') ++i_;
    }
    if (!AtEnd()) ++i_;
  }

  // The rune of a single-character escape at i_ (after the backslash):
  // \x{...}, \xHH, octal, \n and friends, or an escaped punctuation mark.
  uint32_t EscapedRune() {
    char c = p_[i_];
    if (c == 'x') {
      ++i_;
      uint32_t v = 0;
      if (Peek() == '{') {
        ++i_;
        while (!AtEnd() && Peek() != '}') {
          int h = HexValue(p_[i_++]);
          if (h >= 0 && v < 0x110000) v = v * 16 + static_cast<uint32_t>(h);
        }
        if (!AtEnd()) ++i_;
        return v;
      }
      for (int k = 0; k < 2 && !AtEnd() && HexValue(Peek()) >= 0; ++k) {
        v = v * 16 + static_cast<uint32_t>(HexValue(p_[i_++]));
      }
      return v;
    }
    if (c >= '0' && c <= '7') {
      uint32_t v = 0;
      for (int k = 0; k < 3 && !AtEnd() && Peek() >= '0' && Peek() <= '7'; ++k) {
        v = v * 8 + static_cast<uint32_t>(p_[i_++] - '0');
      }
      return v;
    }
    if (c == 'a' || c == 'f' || c == 't' || c == 'n' || c == 'r' || c == 'v') {
      ++i_;
      return 1;  // a control character: one byte
    }
    return Rune();
  }

  // [...]: one rune of the set. Tracks the widest rune it may match.
  RegexBound Class(bool fold) {
    ++i_;              // '['
    bool any = false;  // may match any rune (negation, \D, \pN, [:^alpha:])
    if (Peek() == '^') any = true, ++i_;
    uint32_t widest = 0;
    bool letters = false;
    bool first = true;
    while (!AtEnd() && (Peek() != ']' || first)) {
      first = false;
      if (p_.substr(i_, 2) == "[:") {
        size_t close = p_.find(":]", i_ + 2);
        if (p_.substr(i_, 3) == "[:^") any = true;
        letters = true;
        i_ = close == std::string_view::npos ? p_.size() : close + 2;
        continue;
      }
      uint32_t lo = 0;
      if (Peek() == '\\') {
        ++i_;
        if (AtEnd()) break;
        char e = Peek();
        if (e == 'd' || e == 's' || e == 'w') {
          letters = letters || e == 'w';
          ++i_;
          continue;
        }
        if (e == 'D' || e == 'S' || e == 'W') {
          any = true, ++i_;
          continue;
        }
        if (e == 'p' || e == 'P') {
          SkipUnicodeClassName();
          any = true;
          continue;
        }
        lo = EscapedRune();
      } else {
        lo = Rune();
      }
      uint32_t hi = lo;
      if (Peek() == '-' && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        if (Peek() == '\\') {
          ++i_;
          if (AtEnd()) break;
          hi = EscapedRune();
        } else {
          hi = Rune();
        }
      }
      widest = std::max({widest, lo, hi});
      // A range reaching 'A' may hold letters.
      if (hi >= 'A' && lo <= 'z') letters = true;
    }
    if (!AtEnd()) ++i_;  // ']'
    if (any || widest > 0x10FFFF) return {1, 4};
    size_t max = Utf8Len(widest);
    if (fold) max = widest >= 0x80 ? 4 : letters ? std::max<size_t>(max, 3) : max;
    return {1, max};
  }

  std::string_view p_;
  size_t i_ = 0;
};

}  // namespace

RegexBound BoundOfRegex(std::string_view pattern) { return Parser(pattern).Parse(); }

}  // namespace bitrouter::config
