#pragma once
// One translated stream: upstream SSE bytes -> framing -> the upstream
// protocol's decoder -> canonical events -> the client protocol's encoder ->
// client bytes in out(). Also replays a whole (non-streamed) canonical
// response as stream events, for an upstream that answered a stream request
// with one JSON body.
//
// Thread: one per request, on its loop.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "shared/protocol/adapters.h"
#include "shared/protocol/sse.h"

namespace bitrouter::protocol {

class StreamTranslator {
 public:
  StreamTranslator(Protocol upstream, Protocol client, const EncoderOptions& options);

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

 private:
  // Forwards decoder events to the encoder, noting an upstream error event.
  struct Tap : StreamSink {
    StreamSink* next = nullptr;
    bool failed = false;
    StreamError error;
    void OnStart(const StreamStart& s) override { next->OnStart(s); }
    void OnBlockStart(const BlockStart& b) override { next->OnBlockStart(b); }
    void OnDelta(DeltaKind k, std::string_view t) override { next->OnDelta(k, t); }
    void OnBlockStop() override { next->OnBlockStop(); }
    void OnFinish(const StreamFinish& f) override { next->OnFinish(f); }
    void OnError(const StreamError& e) override {
      failed = true;
      error = e;
      next->OnError(e);
    }
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
