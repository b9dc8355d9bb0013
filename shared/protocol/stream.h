#pragma once
// Streaming translation through the canonical form: an upstream stream
// decoder (one per wire protocol) turns the provider's SSE events into
// canonical stream events and hands them to a client stream encoder (one per
// wire protocol), which appends the client's SSE bytes to its output.
//
// The canonical stream is a block model (the richest lifecycle of the four):
//   OnStart
//   ( OnBlockStart  OnDelta*  OnBlockStop )*      blocks never overlap
//   OnFinish                                      terminal: success
// or, at any point after OnStart (or even before it), OnError: terminal,
// failure. Nothing follows a terminal event.
//
// Decoders emit events as soon as the upstream event that carries them is
// complete: nothing is buffered to the end of the stream (except where a wire
// format itself demands whole values, e.g. a Gemini functionCall).
//
// Thread: an encoder/decoder pair belongs to one request on one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "shared/protocol/canonical.h"

namespace bitrouter::protocol {

struct StreamStart {
  std::string id;              // upstream response id ("" = unknown; encoders derive one)
  std::string model;           // upstream model (encoders print the client's model instead)
  std::optional<Usage> usage;  // input-side usage when the upstream reports it early
};

enum class BlockKind { kText, kThinking, kRedactedThinking, kToolCall };

struct BlockStart {
  BlockKind kind = BlockKind::kText;
  std::string tool_call_id;  // kToolCall ("" = the upstream gave none; encoders derive one)
  std::string name;          // kToolCall
  std::string data;          // kRedactedThinking: the opaque payload
  bool refusal = false;      // kText: the model's refusal (see ContentPart::refusal)
};

enum class DeltaKind {
  kText,       // in a kText block
  kThinking,   // in a kThinking block
  kSignature,  // in a kThinking block (Anthropic signature, Gemini thoughtSignature)
  kArguments,  // in a kToolCall block: a piece of the arguments JSON text
};

struct StreamFinish {
  std::optional<FinishReason> reason;
  std::optional<std::string> stop_sequence;
  std::optional<Usage> usage;        // the complete usage when the upstream reported it
  std::string gemini_finish_reason;  // as CanonicalResponse::gemini_finish_reason
};

struct StreamError {
  int status = 502;  // for protocols whose error events carry a code
  std::string type;  // e.g. "upstream_error", "overloaded_error"
  std::string message;
};

class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void OnStart(const StreamStart& start) = 0;
  virtual void OnBlockStart(const BlockStart& block) = 0;
  virtual void OnDelta(DeltaKind kind, std::string_view text) = 0;
  virtual void OnBlockStop() = 0;
  virtual void OnFinish(const StreamFinish& finish) = 0;
  virtual void OnError(const StreamError& error) = 0;
  // The upstream sent one item of its own server-side tools (see
  // CanonicalResponse::skipped_server_tool_items), which the decoder left
  // out. Only counted: no client protocol renders it.
  virtual void OnServerToolSkipped() {}
};

// Where a client stream that someone else wrote stands: the numbering an
// encoder cannot rebuild from replayed canonical events when it takes over a
// relayed upstream stream after a mid-stream rescue (stream_splice.h).
struct StreamPosition {
  std::optional<int64_t> created;  // Chat `created`, Responses `created_at`, when seen
  int64_t next_sequence = -1;      // Responses: the next sequence_number
  // Messages: content block index, Responses: output_index, of the open
  // block or (none open) of the next one.
  int64_t index = -1;
  std::string open_item_id;  // Responses: the id of the open output item
};

// Client side: renders canonical events as the client's SSE bytes.
class StreamEncoder : public StreamSink {
 public:
  // Takes over the client's numbering after a replay of what it already
  // has; protocols without numbering keep their own (the default).
  virtual void Adopt(const StreamPosition& position) { (void)position; }
  // Bytes produced so far and not yet taken; the caller writes and clears it.
  std::string& out() { return out_; }
  // A terminal event (OnFinish or OnError) was rendered.
  bool done() const { return done_; }

 protected:
  std::string out_;
  bool done_ = false;
};

struct EncoderOptions {
  std::string client_model;    // the model name the client asked for
  int64_t created = 0;         // unix seconds for "created"/"created_at" fields
  bool include_usage = false;  // Chat: stream_options.include_usage was set
  bool gemini_sse = true;      // Gemini: SSE (alt=sse) rather than a JSON array stream
  // Responses: the request the stream answers (echoed in every response
  // snapshot; namespaced tool names restored); nullptr = unknown. Must
  // outlive the encoder.
  const ResponsesEcho* echo = nullptr;
  // Unix seconds now, for completed_at; nullptr = `created`.
  int64_t (*now)() = nullptr;
  // The id base for an answer whose upstream gave no id (Gemini may omit
  // responseId and call ids): unique per answer, so ids made up for
  // separate answers never repeat in an agent's history. The worker draws
  // it at random; "" keeps the fixed ids golden fixtures were written with.
  std::string fallback_id;
};

// Upstream side: consumes the provider's SSE events, emits canonical events.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // One complete SSE event: `event` is its event: field ("" if none), `data`
  // its data: lines joined with '\n'. A malformed event is an error (the
  // stream fails; the caller reports it to the encoder via OnError).
  virtual absl::Status OnEvent(std::string_view event, std::string_view data) = 0;
  // The upstream body ended. OK only when the terminal event was seen (and
  // OnFinish emitted); otherwise an error naming what was missing. Also
  // emits OnFinish for protocols that end by closing (Gemini).
  virtual absl::Status OnEnd() = 0;
  // OnFinish or OnError was emitted.
  virtual bool done() const = 0;
};

}  // namespace bitrouter::protocol
