#pragma once
// Mid-stream rescue, the protocol half: when an upstream stream breaks after
// part of an answer reached the client, another endpoint is asked to continue
// that answer and its stream is spliced into the client's, so the client sees
// one well-formed stream (one start, the open text block continued, one
// terminal event, usage of both attempts).
//
//   PartialAnswer    records, as canonical events, what the client was sent
//   ContinuationRequest  the original request plus the partial answer, as an
//                    assistant prefill or followed by a continuation instruction
//   SpliceSink       sits between the fallback's decoder and the client's
//                    encoder: drops the second start, merges the first text
//                    block into the one still open, adds the usages up
//   ReplayPartial    brings a fresh encoder to where a relayed (passthrough)
//                    client stream stands, its output discarded
//
// Thread: one set per request, on its loop.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/protocol/adapters.h"
#include "shared/protocol/canonical.h"
#include "shared/protocol/stream.h"

namespace bitrouter::protocol {

// Records the canonical events a client stream was sent and forwards them to
// `next` (nullptr: record only).
class PartialAnswer : public StreamSink {
 public:
  // The most answer text a rescue carries to the next endpoint (it is sent
  // back as part of the continuation request); a longer partial answer
  // ends with the error as before.
  static constexpr size_t kMaxBytes = 1u << 20;

  explicit PartialAnswer(StreamSink* next = nullptr) : next_(next) {}
  void set_next(StreamSink* next) { next_ = next; }

  void OnStart(const StreamStart& start) override;
  void OnBlockStart(const BlockStart& block) override;
  void OnDelta(DeltaKind kind, std::string_view text) override;
  void OnBlockStop() override;
  void OnFinish(const StreamFinish& finish) override;
  void OnError(const StreamError& error) override;

  // Another endpoint can continue this answer: it has not ended, holds no
  // tool call (half a call's arguments cannot be continued reliably) and
  // stayed under kMaxBytes.
  bool Continuable() const { return !terminal_ && !tool_call_ && !overflow_; }
  bool started() const { return started_; }
  const StreamStart& start() const { return start_; }
  // Text, thinking and redacted-thinking parts, in order; the last one is
  // still open when open() is true.
  const std::vector<ContentPart>& parts() const { return parts_; }
  bool open() const { return open_; }
  // The open block is a text block (a continuation extends it).
  bool text_open() const {
    return open_ && !parts_.empty() && parts_.back().kind == ContentPart::Kind::kText;
  }
  // All answer text so far.
  std::string Text() const;
  // Usage reported so far (a start event's input usage).
  const std::optional<Usage>& usage() const { return usage_; }

 private:
  StreamSink* next_;
  bool started_ = false;
  StreamStart start_;
  std::vector<ContentPart> parts_;
  bool open_ = false;
  bool tool_call_ = false;
  bool terminal_ = false;
  bool overflow_ = false;
  size_t bytes_ = 0;
  std::optional<Usage> usage_;
};

// Replays `partial` into `sink` (start, every block with its whole text as
// one delta, the open block left open).
void ReplayPartial(const PartialAnswer& partial, StreamSink* sink);

// What the fallback is asked, with the partial answer `text` (see
// ContinuationRequest).
enum class ContinuationMode {
  // The partial answer is the request's last (assistant) message and the
  // model continues it. Trailing whitespace is trimmed (Anthropic refuses a
  // final assistant turn that ends with whitespace).
  kPrefill,
  // The partial answer as an assistant message, then a user message asking
  // for the rest: for targets that do not continue (or refuse) a prefill.
  kInstruction,
};

// The user message of kInstruction.
inline constexpr std::string_view kContinueInstruction =
    "Your previous answer was cut off. Continue it exactly where it stops: start with the very "
    "next character, do not repeat any of it, and add no preamble.";

// `base` plus the partial answer `text` in `mode`. An empty `text` leaves
// `base` as it is (the fallback answers from the start). `*trimmed` says
// whether a prefill lost trailing whitespace (the continuation's leading
// whitespace is then dropped, so the client does not get it twice).
CanonicalRequest ContinuationRequest(const CanonicalRequest& base, std::string_view text,
                                     ContinuationMode mode, bool* trimmed);

// The prefill mode a target protocol honours: Messages and Gemini continue a
// final assistant turn; OpenAI's APIs answer it afresh (which would repeat
// the text), so they get the instruction.
ContinuationMode DefaultContinuationMode(Protocol target);

// a + b, field by field (optional fields present when either is).
Usage AddUsage(const Usage& a, const Usage& b);

// The fallback's canonical events, reshaped to continue the client's stream,
// forwarded to `next` (the client's encoder, or a PartialAnswer in front of
// it). Owned by the caller; outlives the decoder feeding it.
class SpliceSink : public StreamSink {
 public:
  // `text_open`: the client's stream has a text block open, which the
  // fallback's first text block continues. `strip_leading_space`: drop the
  // continuation's leading whitespace. `before`: usage of the broken
  // attempt(s), added to the fallback's.
  SpliceSink(StreamSink* next, bool text_open, bool strip_leading_space,
             std::optional<Usage> before);

  void OnStart(const StreamStart& start) override;
  void OnBlockStart(const BlockStart& block) override;
  void OnDelta(DeltaKind kind, std::string_view text) override;
  void OnBlockStop() override;
  void OnFinish(const StreamFinish& finish) override;
  void OnError(const StreamError& error) override;

 private:
  StreamSink* next_;
  bool merging_;           // the client's text block is open, awaiting the continuation
  bool dropping_ = false;  // inside a fallback block that is left out
  bool strip_space_;
  std::optional<Usage> before_;
  std::optional<Usage> start_usage_;
};

}  // namespace bitrouter::protocol
