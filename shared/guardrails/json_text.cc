#include "shared/guardrails/json_text.h"

#include <algorithm>

#include "shared/guardrails/guard.h"

namespace bitrouter::guardrails {

namespace {

constexpr std::string_view kRedacted = "[REDACTED]";

// Bytes JSON allows outside a string: structure, whitespace, numbers and
// the letters of true, false and null.
bool AllowedOutside(char c) {
  return (c >= '0' && c <= '9') ||
         std::string_view("{}[]:, \t\n\r-+.eEtrufalsn").find(c) != std::string_view::npos;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of the \uXXXX escape at `at` in `b`; -1 when there is none.
int32_t UnitAt(std::string_view b, size_t at) {
  if (at + 6 > b.size() || b[at] != '\\' || b[at + 1] != 'u') return -1;
  int32_t v = 0;
  for (size_t k = at + 2; k < at + 6; ++k) {
    const int h = Hex(b[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool High(int32_t unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool Low(int32_t unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

}  // namespace

void JsonTextWriter::Step(char c) {
  const State before = state_;
  state_ = Next(state_, &unicode_left_, c);
  if (before == State::kUnicode) {
    unit_ = unit_ * 16 + static_cast<uint32_t>(std::max(Hex(c), 0));
    if (state_ == State::kString) after_high_ = High(static_cast<int32_t>(unit_));
  } else if (state_ == State::kUnicode) {
    unit_ = 0;
  } else if (state_ != State::kEscape) {
    after_high_ = false;
  }
}

JsonTextWriter::State JsonTextWriter::Next(State s, int* unicode_left, char c) {
  switch (s) {
    case State::kOutside:
      if (c == '"') return State::kString;
      return AllowedOutside(c) ? s : State::kNotJson;
    case State::kString:
      if (c == '"') return State::kOutside;
      return c == '\\' ? State::kEscape : s;
    case State::kEscape:
      if (c != 'u') return State::kString;
      *unicode_left = 4;
      return State::kUnicode;
    case State::kUnicode:
      return --*unicode_left <= 0 ? State::kString : s;
    case State::kNotJson:
      return s;
  }
  return s;
}

bool JsonTextWriter::LeavesJson(std::string_view bytes) const {
  State s = state_;
  int left = unicode_left_;
  for (char c : bytes) {
    s = Next(s, &left, c);
    if (s == State::kNotJson) return true;
  }
  return s == State::kNotJson;
}

void JsonTextWriter::Pass(std::string_view bytes, std::string* out) {
  out->append(bytes);
  for (char c : bytes) Step(c);
}

void JsonTextWriter::Redact(std::string_view bytes, std::string* out) {
  if (state_ == State::kNotJson || LeavesJson(bytes)) {
    out->append(kRedacted);
    state_ = State::kNotJson;
    return;
  }
  bool in_run = false;  // a "[REDACTED]" stands for the content so far
  size_t i = 0;
  while (i < bytes.size()) {
    const char c = bytes[i];
    if (state_ == State::kEscape || state_ == State::kUnicode) {
      // The rest of an escape that began before: written whole.
      out->push_back(c);
      Step(c);
      ++i;
      continue;
    }
    if (state_ == State::kString && c == '\\') {
      // An escape: replaced with the run when it ends inside the match,
      // written as it is when the match cuts it (a surrogate pair is one).
      size_t len = 2;
      const int32_t unit = UnitAt(bytes, i);
      if (i + 1 < bytes.size() && bytes[i + 1] == 'u') {
        len = 6;
        // A high half with its low half, or whose low half may follow.
        if (High(unit) && (i + 12 > bytes.size() || Low(UnitAt(bytes, i + 6)))) len = 12;
      }
      const bool completes_pair = after_high_ && Low(unit);
      if (i + len > bytes.size() || completes_pair) {
        if (completes_pair) {
          // The pair began before the match: its low half goes as it is.
          for (size_t k = 0; k < 6; ++k) {
            out->push_back(bytes[i + k]);
            Step(bytes[i + k]);
          }
          i += 6;
          in_run = false;
          continue;
        }
        for (; i < bytes.size(); ++i) {
          out->push_back(bytes[i]);
          Step(bytes[i]);
        }
        return;
      }
      if (!in_run) out->append(kRedacted);
      in_run = true;
      for (size_t k = 0; k < len; ++k) Step(bytes[i + k]);
      i += len;
      continue;
    }
    if (state_ == State::kString && c != '"') {
      if (!in_run) out->append(kRedacted);
      in_run = true;
      Step(c);
      ++i;
      continue;
    }
    // Structure: a quote, or anything outside a string.
    in_run = false;
    out->push_back(c >= '0' && c <= '9' && state_ == State::kOutside ? '1' : c);
    Step(c);
    ++i;
  }
}

std::string RedactJsonText(const Guard& guard, std::string_view text, const std::vector<Match>& m,
                           Direction d) {
  JsonTextWriter writer;
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (const Match& x : m) {
    if (guard.rules()[x.rule].action[static_cast<size_t>(d)] != Action::kRedact || x.begin < at ||
        x.end > text.size()) {
      continue;
    }
    writer.Pass(text.substr(at, x.begin - at), &out);
    writer.Redact(text.substr(x.begin, x.end - x.begin), &out);
    at = x.end;
  }
  writer.Pass(text.substr(at), &out);
  return out;
}

}  // namespace bitrouter::guardrails
