#pragma once
// Guardrails on one channel of streamed text (a text block, a reasoning
// block, one tool call's argument text): what arrives in pieces is scanned
// and sent on exactly as Guard::Scan + Guard::Redact would treat the whole
// text, whatever the split.
//
// To get there it holds back the tail in which a match could still begin or
// grow: at most Guard::max_match_bytes(d) - 1 bytes (less when a rule's
// matches must start with a literal that is absent). When no rule acting in
// d redacts or blocks, nothing is held (warn only reports).
//
// A match is reported once the text settles it: its own longest match plus
// one byte has arrived, and no other rule could still produce an earlier or
// longer overlapping match. A block match is therefore reported at most
// max_match_bytes(d) bytes after it begins (or at Finish), before any of its
// bytes is sent.
//
// Offsets in reported matches count from the channel's first byte (modulo
// 2^32). Not thread-safe; one instance per channel. The Guard must outlive it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/guardrails/guard.h"
#include "shared/guardrails/json_text.h"

namespace bitrouter::guardrails {

class StreamScanner {
 public:
  // `json_text`: the channel is JSON text (a tool call's arguments): a
  // redaction keeps it valid JSON (json_text.h).
  StreamScanner(const Guard* guard, Direction d, bool json_text = false);

  // Appends `piece`. Appends to *emit what may be sent now: everything except
  // the held-back tail (never cutting a UTF-8 sequence, never inside a match
  // that may still grow), with redact matches replaced by "[REDACTED]".
  // Appends the matches settled now to *matches. Returns the strongest action
  // among them (kBlock: the caller ends the stream; *emit then holds nothing
  // of the blocked match, and later calls emit nothing and return kBlock).
  Action Feed(std::string_view piece, std::string* emit, std::vector<Match>* matches);

  // End of the channel: scans and flushes the held-back tail. Later calls
  // emit nothing.
  Action Finish(std::string* emit, std::vector<Match>* matches);

  // Bytes received and not yet emitted.
  size_t held() const { return buf_.size() - emitted_; }

 private:
  Action Process(bool at_end, std::string* emit, std::vector<Match>* matches);
  void Compact();
  void Write(size_t begin, size_t end, std::string* emit);

  const Guard* guard_;
  Direction d_;
  std::string buf_;      // the channel's text from offset origin_ on
  uint64_t origin_ = 0;  // channel offset of buf_[0]
  size_t pos_ = 0;       // in buf_: Guard::Decide resumes here
  size_t emitted_ = 0;   // in buf_: what precedes was sent (or redacted)
  bool blocked_ = false;
  bool finished_ = false;
  std::vector<Match> settled_;  // reused between calls
  std::optional<JsonTextWriter> json_;
};

}  // namespace bitrouter::guardrails
