#include "shared/guardrails/stream_scanner.h"

#include <algorithm>

namespace bitrouter::guardrails {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
// Already-sent bytes kept before the scan position: RE2 reads one for \b and
// (?m)^, built-in accept checks read kAcceptLookbehind.
constexpr size_t kLookbehind = 4;
static_assert(kLookbehind >= kAcceptLookbehind + 1);
// Sent bytes are dropped from the buffer in batches, not on every piece.
constexpr size_t kCompactBytes = 512;

// `cut`, or the start of a UTF-8 sequence that `cut` would split (one that
// began in [lo, cut)).
size_t Utf8SafeCut(std::string_view buf, size_t lo, size_t cut) {
  for (size_t k = 1; k <= 3 && k <= cut - lo; ++k) {
    const auto c = static_cast<unsigned char>(buf[cut - k]);
    if (c < 0x80) break;               // ASCII: nothing open
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return k < len ? cut - k : cut;
  }
  return cut;
}

}  // namespace

StreamScanner::StreamScanner(const Guard* guard, Direction d, bool json_text)
    : guard_(guard), d_(d) {
  if (json_text) json_.emplace();
}

void StreamScanner::Write(size_t begin, size_t end, std::string* emit) {
  std::string_view bytes(buf_.data() + begin, end - begin);
  if (json_) {
    json_->Pass(bytes, emit);
  } else {
    emit->append(bytes);
  }
}

Action StreamScanner::Feed(std::string_view piece, std::string* emit, std::vector<Match>* matches) {
  if (blocked_) return Action::kBlock;
  if (finished_) return Action::kNone;
  buf_.append(piece);
  return Process(/*at_end=*/false, emit, matches);
}

Action StreamScanner::Finish(std::string* emit, std::vector<Match>* matches) {
  if (blocked_) return Action::kBlock;
  if (finished_) return Action::kNone;
  Action a = Process(/*at_end=*/true, emit, matches);
  finished_ = true;
  return a;
}

Action StreamScanner::Process(bool at_end, std::string* emit, std::vector<Match>* matches) {
  settled_.clear();
  const size_t frontier =
      guard_->Decide(d_, buf_, at_end, /*stop_at_block=*/true, &pos_, &settled_);
  // Warn-only: the text goes out unchanged, so nothing waits for the scan.
  const bool passthrough = !guard_->Changes(d_);
  Action strongest = Action::kNone;
  for (const Match& m : settled_) {
    const Action a = guard_->rules()[m.rule].action[static_cast<size_t>(d_)];
    strongest = std::max(strongest, a);
    matches->push_back(Match{m.rule, static_cast<uint32_t>(origin_ + m.begin),
                             static_cast<uint32_t>(origin_ + m.end)});
    if (passthrough) continue;
    Write(emitted_, m.begin, emit);
    if (a == Action::kBlock) {
      emitted_ = m.begin;
      blocked_ = true;
      buf_.clear();  // nothing more is sent; the match is never needed again
      emitted_ = pos_ = 0;
      return Action::kBlock;
    }
    if (a == Action::kRedact && json_) {
      json_->Redact(std::string_view(buf_).substr(m.begin, m.end - m.begin), emit);
    } else if (a == Action::kRedact) {
      emit->append(kRedacted);
    } else {
      Write(m.begin, m.end, emit);
    }
    emitted_ = m.end;
  }
  size_t cut = passthrough || at_end ? buf_.size() : frontier;
  if (!at_end) cut = Utf8SafeCut(buf_, emitted_, cut);
  if (cut > emitted_) {
    Write(emitted_, cut, emit);
    emitted_ = cut;
  }
  Compact();
  return strongest;
}

void StreamScanner::Compact() {
  const size_t done = std::min(emitted_, pos_);
  if (done < kLookbehind + kCompactBytes) return;
  const size_t drop = done - kLookbehind;
  buf_.erase(0, drop);
  origin_ += drop;
  pos_ -= drop;
  emitted_ -= drop;
}

}  // namespace bitrouter::guardrails
