#pragma once
// One translated stream: upstream SSE bytes -> framing -> the upstream
// protocol's decoder -> canonical events -> the client protocol's encoder ->
// client bytes in out(). Also replays a whole (non-streamed) canonical
// response as stream events, for an upstream that answered a stream request
// with one JSON body.
//
// Thread: one per request, on its loop.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/sse.h"

namespace bitrouter::protocol {

// vLLM, Ollama and other OpenAI-compatible servers end an answer whose last
// output is a tool call with "stop"; agents continue only on the tool-use
// reason, so such an answer finishes with kToolCalls in every protocol.
inline std::optional<FinishReason> ToolUseFinish(std::optional<FinishReason> reason,
                                                 bool ends_with_tool_call) {
  if (ends_with_tool_call && (!reason || *reason == FinishReason::kStop)) {
    return FinishReason::kToolCalls;
  }
  return reason;
}

// The same rule for a whole (JSON) answer.
void NormalizeToolUseFinish(CanonicalResponse* response);

class StreamTranslator {
 public:
  StreamTranslator(Protocol upstream, Protocol client, const EncoderOptions& options);
  // Continues a client stream `encoder` already rendered part of (a
  // mid-stream rescue, see stream_splice.h) with an `upstream` stream.
  StreamTranslator(Protocol upstream, std::unique_ptr<StreamEncoder> encoder);

  // Canonical events go to `front` instead of the encoder; `front` forwards
  // them to encoder() (e.g. a PartialAnswer, a SpliceSink). Must outlive
  // this translator's use.
  void Intercept(StreamSink* front) { tap_.next = front; }
  // Where canonical events go now (the encoder, or the last Intercept).
  StreamSink* front() const { return tap_.next; }
  StreamEncoder* encoder() { return encoder_.get(); }
  // Gives up the client encoder (with its state) for another translator;
  // this one must not be used afterwards.
  std::unique_ptr<StreamEncoder> TakeEncoder() { return std::move(encoder_); }

  // Upstream body bytes. An error means the upstream stream is malformed;
  // the caller decides between failover (nothing sent yet) and Fail().
  absl::Status Feed(std::string_view bytes);
  // The upstream body ended: OK when the stream reached its terminal event.
  absl::Status End();
  // Ends the client stream with the client protocol's error event.
  void Fail(const StreamError& error);
  // Client bytes produced and not yet taken.
  std::string& out() { return encoder_->out(); }
  // The client stream reached a terminal event (success or error).
  bool done() const { return encoder_->done(); }
  // The upstream stream reached its terminal event (no more bytes needed).
  bool upstream_done() const { return decoder_->done(); }
  // The upstream itself reported an error event (its message is in
  // upstream_error()); before the commit that is a failover, not content.
  bool upstream_failed() const { return tap_.failed; }
  const StreamError& upstream_error() const { return tap_.error; }
  // The upstream sent its first content (a block) or its terminal event;
  // before that a stream is still "waiting for its first content event".
  bool content_started() const { return tap_.content_started; }
  // Upstream server-side tool items left out of the client stream so far
  // (see CanonicalResponse::skipped_server_tool_items).
  int skipped_server_tool_items() const { return tap_.skipped_server_tool_items; }
  // The usage the upstream reported (its start event's input side merged
  // with the terminal event's), nullopt when none arrived yet.
  std::optional<Usage> usage() const {
    return tap_.finish_usage ? tap_.finish_usage : tap_.start_usage;
  }
  // Bytes of generated text, reasoning and tool arguments so far (for an
  // estimate when no usage arrives).
  int64_t output_bytes() const { return tap_.output_bytes; }

 private:
  // Forwards decoder events to the encoder, noting an upstream error event,
  // and whether the answer ends with tool calls (see ToolUseFinish).
  struct Tap : StreamSink {
    StreamSink* next = nullptr;
    bool failed = false;
    bool ends_with_tool_call = false;
    bool content_started = false;
    int skipped_server_tool_items = 0;
    int64_t output_bytes = 0;
    std::optional<Usage> start_usage;
    std::optional<Usage> finish_usage;
    StreamError error;
    void OnStart(const StreamStart& s) override {
      start_usage = s.usage;
      next->OnStart(s);
    }
    void OnBlockStart(const BlockStart& b) override {
      content_started = true;
      if (b.kind == BlockKind::kToolCall) ends_with_tool_call = true;
      next->OnBlockStart(b);
    }
    void OnDelta(DeltaKind k, std::string_view t) override {
      if (k != DeltaKind::kSignature) output_bytes += static_cast<int64_t>(t.size());
      if (k == DeltaKind::kText && !t.empty()) ends_with_tool_call = false;
      next->OnDelta(k, t);
    }
    void OnBlockStop() override { next->OnBlockStop(); }
    void OnFinish(const StreamFinish& f) override {
      content_started = true;
      finish_usage = f.usage;
      if (!ends_with_tool_call) return next->OnFinish(f);
      StreamFinish fixed = f;
      fixed.reason = ToolUseFinish(f.reason, true);
      next->OnFinish(fixed);
    }
    void OnError(const StreamError& e) override {
      content_started = true;
      failed = true;
      error = e;
      next->OnError(e);
    }
    void OnServerToolSkipped() override { ++skipped_server_tool_items; }
  };

  std::unique_ptr<StreamEncoder> encoder_;
  Tap tap_;
  std::unique_ptr<StreamDecoder> decoder_;
  SseParser sse_;
};

// Emits `resp` as the canonical event sequence (start, one block per content
// part with its whole text as one delta, finish).
void ReplayResponse(const CanonicalResponse& resp, StreamSink* sink);

}  // namespace bitrouter::protocol
